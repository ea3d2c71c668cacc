"""The Arrow schema of a record model, derived from its field kinds (docs/architecture.md)."""

from __future__ import annotations

from functools import cache

import pyarrow as pa
from pydantic import BaseModel

from exchanged.records.fields import ATTRIBUTES, flat_fields, nested_models

ATTRIBUTES_TYPE = pa.map_(pa.string(), pa.string())


@cache
def arrow_schema(model: type[BaseModel]) -> pa.Schema:
    """One Arrow field per model field, in model order; fields that always hold a value are not nullable."""
    leaves = flat_fields(model)
    nested = nested_models(model)
    fields: list[pa.Field] = []
    for name, info in model.model_fields.items():
        if name in nested:
            fields.append(pa.field(name, pa.struct(list(arrow_schema(nested[name]))), nullable=True))
        elif name == ATTRIBUTES:
            fields.append(pa.field(name, ATTRIBUTES_TYPE, nullable=False))
        else:
            leaf = leaves[name]
            assert leaf.kind is not None
            never_null = leaf.required or leaf.default is not None
            fields.append(pa.field(name, leaf.kind.arrow_type, nullable=not never_null))
    return pa.schema(fields)
