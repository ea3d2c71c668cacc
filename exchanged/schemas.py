"""JSON Schemas printed by ``exchanged schema NAME``: records, the canonical order, config, mapping,
file report."""

from __future__ import annotations

from typing import Any

from exchanged.records import ENTITIES

SCHEMA_NAMES = (*ENTITIES, "order", "config", "mapping", "report")


def json_schema(name: str) -> dict[str, Any]:
    if name in ENTITIES:
        schema = ENTITIES[name].model.model_json_schema(mode="serialization")
        schema["x-key"] = list(ENTITIES[name].key)
        return schema
    if name == "order":  # the canonical order JSON the shop sends (one object, or an array of them)
        from exchanged.records.order import Order

        schema = Order.model_json_schema(mode="validation")
        schema["x-key"] = list(Order.key)
        return schema
    if name == "config":
        from exchanged.config import Settings

        return Settings.model_json_schema()
    if name == "mapping":
        from exchanged.mapping import Mapping

        return Mapping.model_json_schema()
    if name == "report":
        from exchanged.report import FileReport

        return FileReport.model_json_schema()
    raise KeyError(name)
