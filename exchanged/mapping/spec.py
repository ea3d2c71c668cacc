"""The mapping file model: what a mapping TOML may say, validated with pydantic.

A mapping names the files it recognises (``[match]``), how to read them (``[csv]``) and, per
entity, how each record field is read and transformed (``[entity.<name>]``). docs/mappings.md is
the reference; ``exchanged schema mapping`` prints :meth:`Mapping.model_json_schema`.

Structural errors (wrong type, unknown key) come from pydantic with the key's location; the rules
that need the record models (unknown entity or field path, a date format on a decimal field, …)
raise :class:`SpecProblems`, which carries the key of each problem so that the loader can point
at its line.

>>> spec = FieldSpec.model_validate("Artikelnr")
>>> spec.column, spec.strip
('Artikelnr', True)
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from exchanged.mapping.rules import edifact_problems, entity_problems, op_problems, order_problems, xml_problems
from exchanged.zones import ZoneName

if TYPE_CHECKING:
    from exchanged.formats.csv import CsvOptions

Key = tuple[str | int, ...]
Constant = str | bool | int | float | dt.date

_TRANSFORM_KEYS = (
    "default", "empty", "strip", "case", "map", "map_strict", "date_format", "timestamp_format",
    "timezone", "scale", "decimal", "thousands", "join", "optional",
)


class SpecProblems(ValueError):
    """Mapping rules broken, each with the key it is about (``("entity", "product", "gtn")``)."""

    def __init__(self, problems: list[tuple[Key, str]]) -> None:
        super().__init__("; ".join(f"{format_key(key)}: {message}" for key, message in problems))
        self.problems = problems


def format_key(key: Key) -> str:
    """Dotted TOML key, quoting parts that are not bare keys: ``entity.product."attributes.colour"``."""
    parts = []
    for part in key:
        text = str(part)
        bare = text and all(c.isascii() and (c.isalnum() or c in "_-") for c in text)
        parts.append(text if bare else f'"{text}"')
    return ".".join(parts)


def canonical_constant(value: Constant) -> str:
    """A TOML constant as canonical text: ``true`` -> ``"true"``, ``1`` -> ``"1"``, a date -> ISO."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class FieldSpec(_Strict):
    """How one record field is read. A bare string ``"Col"`` means ``{ column = "Col" }``.

    Transforms apply in this order: read (column, columns + join, or value) -> strip -> empty ->
    case -> map -> date / timestamp / decimal parsing -> scale -> default.
    """

    column: str | None = Field(None, description="source column; in `attributes.*` a pattern with one `*`")
    columns: list[str] | None = Field(None, min_length=1, description="several columns joined with `join`")
    join: str = Field(" ", description="separator for `columns`; empty parts are skipped")
    value: Constant | None = Field(None, description="a constant, already canonical (no transforms apply)")
    optional: bool = Field(False, description="the column may be absent from the file: the field is then left out")
    default: Constant | None = Field(None, description="canonical value used when the result is empty")
    empty: Literal["null", "keep"] = Field("null", description="what an empty cell becomes: null, or kept as ''")
    strip: bool = Field(True, description="trim blanks (Unicode whitespace) at both ends")
    case: Literal["upper", "lower"] | None = Field(None, description="change the letter case")
    map: dict[str, str] | None = Field(None, description="code list: source code -> canonical code")
    map_strict: bool = Field(False, description="a value not in `map` is an `unmapped-code` issue")
    date_format: str | None = Field(None, description="strptime format of a date, e.g. %d.%m.%Y")
    timestamp_format: str | None = Field(None, description="strptime format of a timestamp, e.g. %d.%m.%Y %H:%M")
    timezone: ZoneName | None = Field(None, description="IANA zone of timestamps without offset, e.g. Europe/Berlin")
    scale: Decimal | int | float | None = Field(None, description="multiply the decimal by this factor (0.19 * 100 = 19)")
    decimal: Literal[".", ",", "auto"] | None = Field(None, description="decimal separator, overriding [csv]")
    thousands: Literal[".", ",", " ", "'", ""] | None = Field(
        None, description="thousands separator, overriding [csv]; '' for none"
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"column": data} if isinstance(data, str) else data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        return {"anyOf": [{"type": "string", "description": "column name, shorthand for { column = ... }"}, schema]}

    @field_validator("scale")
    @classmethod
    def _scale(cls, value: Decimal | int | float | None) -> Decimal | None:
        if value is None:
            return None
        try:
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            raise ValueError("scale must be a number") from None
        if not number.is_finite() or number == 0 or len(number.as_tuple().digits) > 15:
            raise ValueError("scale must be a non-zero number with at most 15 digits")
        return number


    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        given = [k for k in ("column", "columns", "value") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of column, columns, value (got {', '.join(given) or 'none'})")
        if self.value is not None:
            extra = sorted(set(self.model_fields_set) & set(_TRANSFORM_KEYS))
            if extra:
                raise ValueError(f"a constant value takes no transforms ({', '.join(extra)})")
        if "join" in self.model_fields_set and self.columns is None:
            raise ValueError("join only goes with columns")
        if self.map_strict and self.map is None:
            raise ValueError("map_strict needs a map")
        if self.date_format and self.timestamp_format:
            raise ValueError("give date_format or timestamp_format, not both")
        if self.timestamp_format and "%z" not in self.timestamp_format and self.timezone is None:
            raise ValueError("timestamp_format without %z needs a timezone (e.g. Europe/Berlin)")
        return self

    @property
    def source_columns(self) -> list[str]:
        """The file columns this spec reads (none for a constant)."""
        if self.column is not None:
            return [self.column]
        return list(self.columns or [])

    @property
    def constant(self) -> str | None:
        return None if self.value is None else canonical_constant(self.value)

    @property
    def default_text(self) -> str | None:
        return None if self.default is None else canonical_constant(self.default)


class MatchSpec(_Strict):
    """Which files a mapping recognises: all given conditions must hold."""

    filename: str | list[str] | None = Field(
        None, description="glob(s) matched against the file's name, case-insensitive; any one may match"
    )
    columns: list[str] = Field(
        default_factory=list, description="header columns that must all be present (blanks and case ignored)"
    )
    priority: int = Field(0, description="breaks ties: the higher wins")
    message: str | list[str] | None = Field(
        None, description="EDIFACT: message type(s), UNH S009 0065 (e.g. PRICAT); required for format = edifact"
    )
    version: str | list[str] | None = Field(
        None, description="EDIFACT: version and release, UNH 0052:0054 (e.g. D:96A); any one may match"
    )
    association: str | list[str] | None = Field(
        None, description="EDIFACT: association assigned code, UNH 0057 (e.g. EAN008); any one may match"
    )
    root: str | None = Field(
        None, description="XML: the root element, prefix:Name with a prefix of [xml] namespaces (Name: no namespace); "
                          "required for format = xml"
    )
    child: str | list[str] | None = Field(
        None, description="XML: element(s) that must be children of the root, e.g. bme:T_NEW_CATALOG; all must be present"
    )

    @property
    def globs(self) -> list[str]:
        return _listed(self.filename)

    @property
    def children(self) -> list[str]:
        return _listed(self.child)

    def accepts_message(self, type_: str, version: str, association: str) -> bool:
        """Whether an EDIFACT message with this UNH S009 is one this mapping reads."""
        return (type_ in _listed(self.message)
                and (self.version is None or version in _listed(self.version))
                and (self.association is None or association in _listed(self.association)))


def _listed(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class EdifactSpec(_Strict):
    """How an EDIFACT message becomes records: its segment groups, and which group is one record.

    ``levels`` names the segment that opens each group, outermost first (PRICAT: LIN, then PRI).
    A group runs to the next segment opening a group of its level or an outer one, or to an ``end``
    segment (the summary section). A field's selector is looked up in the record's own group first,
    then in the groups around it, then in the message header (the segments before the first group).
    """

    levels: list[str] = Field(min_length=1, description="segment tags that open a group, outermost first")
    records: dict[str, str] = Field(description="entity -> the level whose every group is one record")
    end: list[str] = Field(default_factory=lambda: ["UNS"], description="segments after which no group follows")


class XmlSpec(_Strict):
    """How an XML file becomes records: the namespace prefixes its paths use, and which element is
    one record of each entity. Fields are XPath 1.0 expressions relative to the record element.

    A prefix may list several URIs, the first being the standard one: a file is read with the one
    it declares on its root element, so namespace variants of one vocabulary need no other mapping.
    The file is read streaming: a field sees its record, the record's ancestors with what came
    before it (the header), never what follows the record in the file.
    """

    namespaces: dict[str, str | list[str]] = Field(
        default_factory=dict, description="prefix -> namespace URI, or several URIs (variants) of which a file uses one"
    )
    records: dict[str, str] = Field(
        description="entity -> absolute path of its record element, e.g. /bme:BMECAT/bme:T_NEW_CATALOG/bme:PRODUCT"
    )
    huge_tree: bool = Field(
        False, description="lift libxml2's safety limits (nesting depth 256, 10 MB per text node) for this mapping's files: "
                           "only for a trusted sender whose files need it"
    )

    @property
    def variants(self) -> dict[str, list[str]]:
        return {prefix: _listed(uris) for prefix, uris in self.namespaces.items()}


class CsvSpec(_Strict):
    """How the CSV is read; ``auto`` detects (encoding: UTF-8 with or without BOM, else Windows-1252)."""

    encoding: str = Field("auto", description="codec name (utf-8, cp1252, …) or auto")
    delimiter: str = Field("auto", description="one character, or auto (one of , ; tab |)")
    quotechar: str = Field('"', min_length=1, max_length=1)
    decimal: Literal[".", ",", "auto"] = Field(".", description="decimal separator of decimal fields")
    thousands: Literal[".", ",", " ", "'"] | None = Field(None, description="thousands separator of decimal fields")
    header_line: int = Field(
        1, ge=0, description="physical line (1-based) of the header; blank lines before it are skipped; 0: no header"
    )
    column_names: list[str] | None = Field(
        None, min_length=1, description="the file has no header row: these are its column names"
    )
    skip_footer_lines: int = Field(0, ge=0, description="lines at the end that are not data")

    @field_validator("encoding")
    @classmethod
    def _codec(cls, value: str) -> str:
        if value != "auto":
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        if value != "auto" and len(value) != 1:
            raise ValueError("delimiter must be one character or auto")
        return value

    @model_validator(mode="after")
    def _separators(self) -> CsvSpec:
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError("decimal and thousands separators must differ")
        if self.column_names and "header_line" in self.model_fields_set and self.header_line != 0:
            raise ValueError("column_names is for a file without header row (leave header_line out, or 0)")
        return self

    def options(self) -> CsvOptions:
        """The reader options of ``exchanged.formats.csv`` (imported here only: spec stays light)."""
        from exchanged.formats.csv import CsvOptions

        return CsvOptions(
            encoding=None if self.encoding == "auto" else self.encoding,
            delimiter=None if self.delimiter == "auto" else self.delimiter,
            quotechar=self.quotechar,
            header_line=0 if self.column_names else self.header_line,
            column_names=tuple(self.column_names) if self.column_names else None,
            skip_footer_lines=self.skip_footer_lines,
        )


class DocumentDateSpec(_Strict):
    """Where an input carries its own date, so an older full snapshot arriving late is ``stale``
    instead of overwriting newer data (DESIGN §5 promise 5)."""

    filename: str = Field(description="regular expression searched in the file name; its first group is the date, e.g. ARTIKEL_(\\d{8})")
    format: str = Field("%Y%m%d", description="strptime format of that group; with %H (and %M, %S) it is a timestamp")

    @field_validator("filename")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if compiled.groups < 1:
            raise ValueError("needs one group, (...), around the date")
        return value


class Mapping(_Strict):
    """One mapping file. ``name`` defaults to the file's stem; user mappings override built-in ones."""

    name: str = Field(min_length=1, description="defaults to the file name without .toml")
    description: str | None = None
    format: Literal["csv", "edifact", "xml"] = "csv"
    mode: Literal["full", "delta", "auto"] = Field(
        "full", description="full snapshot, delta (upserts + deletes), or auto: delta when the op column is present"
    )
    on_row_error: Literal["reject_file", "drop_row"] = "drop_row"
    unknown_columns: Literal["ignore", "warn"] = Field(
        "ignore", description="warn: a header column no field reads is an `unknown-column` warning"
    )
    match: MatchSpec
    csv: CsvSpec = Field(default_factory=CsvSpec)
    edifact: EdifactSpec | None = Field(None, description="format = edifact: segment groups and records")
    xml: XmlSpec | None = Field(None, description="format = xml: namespaces and record elements")
    entity: dict[str, dict[str, FieldSpec]] = Field(description="entity -> record field path -> how to read it")
    op: FieldSpec | None = Field(None, description="delta/auto: where upsert/delete comes from")
    document_date: DocumentDateSpec | None = Field(None, description="where the input's own date is (for stale snapshots)")
    source_path: SkipJsonSchema[Path | None] = Field(None, exclude=True)
    builtin: SkipJsonSchema[bool] = Field(False, exclude=True)

    @model_validator(mode="after")
    def _rules(self) -> Mapping:
        problems: list[tuple[Key, str]] = []
        if self.format == "edifact":
            problems.extend(edifact_problems(self))
        elif self.format == "xml":
            problems.extend(xml_problems(self))
        elif self.match.message or self.edifact:
            problems.append((("format",), 'match.message and [edifact] need format = "edifact"'))
        elif self.match.root or self.match.child or self.xml:
            problems.append((("format",), 'match.root, match.child and [xml] need format = "xml"'))
        elif not self.match.globs and not self.match.columns:
            problems.append((("match",), "give filename or columns (or both)"))
        if self.csv.column_names and not self.match.globs:
            problems.append((("match", "filename"), "a file without header (csv.column_names) is recognised by name only"))
        if not self.entity:
            problems.append((("entity",), "map at least one entity ([entity.product], …)"))
        for entity, fields in self.entity.items():
            problems.extend(entity_problems(entity, fields, self.mode, patterns=self.format != "xml"))
        problems.extend(op_problems(self))
        problems.extend(order_problems(self))
        if problems:
            raise SpecProblems(problems)
        return self

    @property
    def columns_used(self) -> set[str]:
        """Every source column named by a field or the op (patterns included)."""
        specs = [s for fields in self.entity.values() for s in fields.values()] + ([self.op] if self.op else [])
        return {c for s in specs for c in s.source_columns}


__all__ = ["CsvSpec", "EdifactSpec", "FieldSpec", "Mapping", "MatchSpec", "SpecProblems", "XmlSpec", "canonical_constant",
           "format_key"]
