"""Column-wise validation with the record models' rules, and the Arrow schema of each model."""

from exchanged.columns.schema import arrow_schema
from exchanged.columns.validate import OP_DELETE, OP_UPSERT, ValidRecords, validate

__all__ = ["OP_DELETE", "OP_UPSERT", "ValidRecords", "arrow_schema", "validate"]
