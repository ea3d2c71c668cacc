"""Mappings: which files a mapping recognises, and how their columns become record fields.

``spec`` validates mapping TOML, ``loader`` reads the built-in and user files, ``routing`` picks the
mapping for a file, ``transforms`` and ``engine`` turn a source table into canonical text per
entity. docs/mappings.md is the reference.
"""

from exchanged.mapping.engine import EntityBatch, apply_mapping
from exchanged.mapping.loader import load_mapping, load_mappings
from exchanged.mapping.routing import route, route_file
from exchanged.mapping.spec import CsvSpec, FieldSpec, Mapping, MatchSpec

__all__ = [
    "CsvSpec",
    "EntityBatch",
    "FieldSpec",
    "Mapping",
    "MatchSpec",
    "apply_mapping",
    "load_mapping",
    "load_mappings",
    "route",
    "route_file",
]
