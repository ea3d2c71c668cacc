"""The flat view of a record model: one entry per leaf field, nested models joined with dots.

Mappings address fields by these paths (``billing_address.city``); the column validator checks them
with the field's :class:`Kind`; the Arrow schema is built from them.

>>> from exchanged.records import Customer
>>> flat_fields(Customer)["billing_address.city"].required
False
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from exchanged.records.kinds import CodeList, Kind
from exchanged.records.types import kind_of

ATTRIBUTES = "attributes"


@dataclass(frozen=True)
class FlatField:
    """One leaf field of a record model."""

    path: str
    kind: Kind | None          # None only for ``attributes`` (a free str -> str map)
    required: bool             # no default: a row without it is invalid
    default: Any               # used when the mapping gives no value (PydanticUndefined if required)
    parent: str | None         # the nested model's path for ``billing_address.city``

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _literal_kind(annotation: Any, path: str) -> Kind | None:
    if get_origin(annotation) is Annotated:  # Optional[Annotated[...]]: the Kind sits inside
        return kind_of(list(get_args(annotation)[1:]))
    if get_origin(annotation) is Literal:
        return CodeList(codes=frozenset(get_args(annotation)), list_name=f"{path} (one of {', '.join(get_args(annotation))})", issue_code="invalid-code")
    return None


@cache
def flat_fields(model: type[BaseModel]) -> dict[str, FlatField]:
    """Every leaf field of ``model`` by dotted path, in model order."""
    out: dict[str, FlatField] = {}
    for name, info in model.model_fields.items():
        annotation, optional = _unwrap_optional(info.annotation)
        required = info.is_required()
        default = PydanticUndefined if required else info.get_default(call_default_factory=True)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for child in flat_fields(annotation).values():
                out[f"{name}.{child.path}"] = FlatField(
                    f"{name}.{child.path}", child.kind, child.required and required, child.default, name
                )
            continue
        if name == ATTRIBUTES:
            out[name] = FlatField(name, None, False, {}, None)
            continue
        kind = kind_of(info.metadata) or _literal_kind(annotation, name)
        if kind is None:
            raise TypeError(f"{model.__name__}.{name} has no Kind: give it a type from records.types")
        out[name] = FlatField(name, kind, required, default, None)
    return out


@cache
def nested_models(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """The nested model of each struct field (``billing_address`` -> Address)."""
    out: dict[str, type[BaseModel]] = {}
    for name, info in model.model_fields.items():
        annotation, _ = _unwrap_optional(info.annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out[name] = annotation
    return out
