"""What every record model shares: strict field names, and the entity registry entry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError


@dataclass(frozen=True)
class RowRule:
    """A rule across fields of one record, in both forms (one record; whole columns).

    ``broken`` gets the record's field values; ``broken_rows`` gets the typed columns and returns
    a boolean mask of the rows that break the rule (null counts as not broken).
    """

    code: str
    message: str
    fields: tuple[str, ...]
    broken: Callable[[Mapping[str, Any]], bool]
    broken_rows: Callable[[Mapping[str, pa.Array]], pa.Array]


class Record(BaseModel):
    """Base of the entity models: unknown fields are an error, values are validated on build."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entity: ClassVar[str]
    key: ClassVar[tuple[str, ...]]
    row_rules: ClassVar[tuple[RowRule, ...]] = ()

    @model_validator(mode="after")
    def _check_row_rules(self) -> Record:
        for rule in self.row_rules:
            if rule.broken({name: getattr(self, name) for name in rule.fields}):
                raise PydanticCustomError(rule.code, rule.message)
        return self


@dataclass(frozen=True)
class Entity:
    """One entity the shop receives: its name, model and key fields."""

    name: str
    model: type[Record]

    @property
    def key(self) -> tuple[str, ...]:
        return self.model.key
