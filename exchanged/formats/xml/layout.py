"""An order as the ERP's own XML import layout, described in a TOML file instead of code.

A layout names the root element, its namespaces, and a list of ``[[element]]`` entries. Each entry
has a ``path`` below the root (``Kopf/Belegnummer``; ``Kopf/@typ`` for an attribute; ``Adresse[2]``
tells two siblings of the same name apart) and where its text comes from: ``value`` (an order
field), or ``const``. An entry with ``repeat = "lines"`` is written once per order line; its
``[[element.children]]`` read line fields (and ``order.<field>`` for the order's). Example::

    root = "Auftrag"
    [[element]]
    path = "Kopf/Belegnummer"
    value = "order_id"
    required = true
    [[element]]
    path = "Positionen/Position"
    repeat = "lines"
      [[element.children]]
      path = "@nr"
      value = "line_no"
      [[element.children]]
      path = "Einheit"
      value = "unit"
      map = { C62 = "Stk", KGM = "kg" }

Elements are created in the order their paths are first named; a parent exists only when
something inside it is written. A value that is empty (unset field) leaves its element or attribute
out, unless the entry is ``required``: then it is written empty. Decimals are plain and exact
(``format_decimal``; ``min_decimals`` pads with zeros, never rounds; ``decimal_mark`` for a
comma); times are ISO 8601 in the layout's ``timezone``, or ``format`` (strftime).

The layout is validated when it is loaded: unknown keys and field names, bad element or attribute
names, undeclared prefixes, a ``format`` on a field that is not a time, two entries writing the
same element or attribute, text and child elements in one element. ``load_xml_layout`` reports each
problem with the file, line and key. The XML is built with lxml's element API (escaping is
lxml's); text XML 1.0 cannot carry is an ``xml-unencodable`` rejection naming the field.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from exchanged.formats.xml.text import xml_text
from exchanged.records.order import Order, OrderLine
from exchanged.records.types import format_decimal
from exchanged.toml_file import Key, KeyProblems, read_toml_text, validate_toml
from exchanged.zones import ZoneName

__all__ = ["LayoutElement", "XmlLayout", "load_xml_layout", "parse_xml_layout", "write_xml_order"]

# --- the fields a layout can read -----------------------------------------------------------------

_ADDRESS_PARTS = ("name", "street", "postal_code", "city", "country")
_ORDER_FIELDS: dict[str, Callable[[Order, dt.datetime], Any]] = {
    "order_id": lambda o, _: o.order_id,
    "customer_id": lambda o, _: o.customer_id,
    "ordered_at": lambda o, _: o.ordered_at,
    "currency": lambda o, _: o.currency,
    "line_count": lambda o, _: len(o.lines),
    "generated_at": lambda _, now: now,
    "totals.net": lambda o, _: o.totals.net,
    "totals.tax": lambda o, _: o.totals.tax,
    "totals.gross": lambda o, _: o.totals.gross,
    **{f"{kind}.{part}": (lambda o, _, kind=kind, part=part: getattr(getattr(o, kind), part, None))
       for kind in ("billing_address", "shipping_address") for part in _ADDRESS_PARTS},
}
_LINE_FIELDS: dict[str, Callable[[OrderLine], Any]] = {
    "line_no": lambda line: line.line_no,
    "sku": lambda line: line.sku,
    "gtin": lambda line: line.gtin,
    "quantity": lambda line: line.quantity,
    "unit": lambda line: line.unit,
    "unit_price": lambda line: line.unit_price,
    "description": lambda line: line.description,
    "amount": lambda line: line.amount,
}
_TIME_FIELDS = {"ordered_at", "generated_at", "order.ordered_at", "order.generated_at"}
_DECIMAL_FIELDS = {"totals.net", "totals.tax", "totals.gross", "quantity", "unit_price", "amount"}
_DECIMAL_FIELDS |= {f"order.{name}" for name in _DECIMAL_FIELDS if name.startswith("totals.")}

# --- names and paths --------------------------------------------------------------------------------

_NCNAME = r"[^\W\d][\w.\-]*"  # XML Namespaces NCName (letters, digits, '.', '-', '_'; no ':')
_QNAME = rf"(?:{_NCNAME}:)?{_NCNAME}"
_ELEMENT_STEP = re.compile(rf"^(?P<name>{_QNAME})(?:\[(?P<index>[1-9][0-9]*)\])?$")
_ATTRIBUTE_STEP = re.compile(rf"^@(?P<name>{_QNAME})$")
_XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"





class LayoutElement(BaseModel):
    """One ``[[element]]`` (or ``[[element.children]]``) entry: where it goes and what it holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description='below the root (or the repeated element): "A/B", "A/@attr", "A[2]/B"')
    value: str | None = Field(None, description='an order field ("order_id", "totals.net", …); in children of a repeated '
                                                'element a line field ("sku", "amount", …) or "order.<field>"')
    const: str | None = Field(None, description="a fixed text instead of a field")
    format: str | None = Field(None, description="strftime format for a time field (ordered_at, generated_at); default ISO 8601")
    min_decimals: int | None = Field(None, ge=0, le=12, description="pad a decimal with zeros to this many decimals, never round")
    map: dict[str, str] = Field(default_factory=dict, description='replace values, e.g. { C62 = "Stk" }; others as they are')
    required: bool = Field(False, description="write the element (or attribute) even when the value is empty")
    repeat: Literal["lines"] | None = Field(None, description='"lines": an element per order line; its children read line fields')
    children: list[LayoutElement] = Field(default_factory=list, description="entries inside each repeated element (repeat only)")

    @field_validator("path")
    @classmethod
    def _path_syntax(cls, path: str) -> str:
        steps = path.split("/")
        for position, step in enumerate(steps):
            last = position == len(steps) - 1
            if not (_ELEMENT_STEP.match(step) or (last and _ATTRIBUTE_STEP.match(step))):
                where = "an attribute (@name) may only be the last step" if step.startswith("@") and not last else \
                    "not an XML name (letters, digits, '.', '-', '_', one optional prefix:, optional [n])"
                raise ValueError(f"bad step {step!r} in path {path!r}: {where}")
        return path

    @model_validator(mode="after")
    def _one_source(self) -> LayoutElement:
        sources = [name for name in ("value", "const", "repeat") if getattr(self, name) is not None]
        if len(sources) > 1:
            raise ValueError(f"give only one of value, const, repeat (got {', '.join(sources)})")
        if not sources and not self.required:
            raise ValueError("needs a value, a const, repeat, or required = true (an always-present empty element)")
        if self.repeat is not None and self.path.split("/")[-1].startswith("@"):
            raise ValueError("a repeated entry must be an element, not an attribute")
        if self.children and self.repeat is None:
            raise ValueError('children are only for a repeated entry (repeat = "lines"); use paths such as "A/B" instead')
        return self

    @property
    def is_attribute(self) -> bool:
        return self.path.split("/")[-1].startswith("@")


class XmlLayout(BaseModel):
    """An ERP's XML import layout for orders (see the module docstring for the TOML form)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = Field(None, description="free text for people: which ERP, which import")
    root: str = Field(description='the root element\'s name, e.g. "Auftrag" (a declared prefix: allowed)')
    namespace: str | None = Field(None, min_length=1, description="default namespace of unprefixed element names; unset: none")
    namespaces: dict[str, str] = Field(default_factory=dict, description='prefix -> URI, e.g. { erp = "urn:example:erp" }')
    timezone: ZoneName = Field("UTC", description="IANA zone in which times are written")
    decimal_mark: Literal[".", ","] = Field(".", description="decimal mark of decimal fields")
    indent: bool = Field(True, description="indent the document (two spaces); off: one line")
    element: list[LayoutElement] = Field(min_length=1, description="the entries, in document order")

    @field_validator("root")
    @classmethod
    def _root_name(cls, root: str) -> str:
        if not re.fullmatch(_QNAME, root):
            raise ValueError(f"{root!r} is not an XML element name")
        return root

    @field_validator("namespaces")
    @classmethod
    def _prefixes(cls, namespaces: dict[str, str]) -> dict[str, str]:
        for prefix, uri in namespaces.items():
            if not re.fullmatch(_NCNAME, prefix) or prefix.lower().startswith("xml"):
                raise ValueError(f"{prefix!r} cannot be a namespace prefix")
            if not uri:
                raise ValueError(f"prefix {prefix!r} needs a namespace URI")
        return namespaces


    @model_validator(mode="after")
    def _consistent(self) -> XmlLayout:
        problems = list(_check_tree(self))
        if problems:
            raise KeyProblems(problems)
        return self


def _check_tree(layout: XmlLayout) -> Iterator[tuple[Key, str]]:
    """Field names in their context, declared prefixes, and entries that collide."""
    prefixes = {*layout.namespaces, "xml"}
    if ":" in layout.root and layout.root.split(":")[0] not in prefixes:
        yield ("root",), f"prefix {layout.root.split(':')[0]!r} is not declared in namespaces"
    written: dict[tuple[str, ...], Key] = {}  # element/attribute target -> the entry writing it
    for index, entry in enumerate(layout.element):
        key: Key = ("element", index)
        yield from _check_entry(entry, key, (), _ORDER_FIELDS.keys(), "order field", prefixes, written)
        if entry.repeat:
            base = (*_steps(entry.path), "*")
            names = [*_LINE_FIELDS, *(f"order.{name}" for name in _ORDER_FIELDS)]
            for number, child in enumerate(entry.children):
                if child.repeat:
                    yield (*key, "children", number, "repeat"), "a repeated entry cannot repeat again inside"
                yield from _check_entry(child, (*key, "children", number), base, names, "line field", prefixes, written)
    yield from _check_nesting(written)


def _check_entry(entry: LayoutElement, key: Key, base: tuple[str, ...], names: Any, kind: str, prefixes: set[str],
                 written: dict[tuple[str, ...], Key]) -> Iterator[tuple[Key, str]]:
    for step in entry.path.split("/"):
        name = step.lstrip("@").split("[")[0]
        if ":" in name and name.split(":")[0] not in prefixes:
            yield (*key, "path"), f"prefix {name.split(':')[0]!r} is not declared in namespaces"
    if entry.value is not None and entry.value not in names:
        hint = "; line fields go in the children of a repeat = \"lines\" entry" if entry.value in _LINE_FIELDS else ""
        yield (*key, "value"), f"unknown {kind} {entry.value!r} (known: {', '.join(names)}){hint}"
    if entry.format is not None and entry.value not in _TIME_FIELDS:
        yield (*key, "format"), "format applies to time fields only (ordered_at, generated_at)"
    if entry.min_decimals is not None and entry.value not in _DECIMAL_FIELDS:
        yield (*key, "min_decimals"), f"min_decimals applies to decimal fields only ({', '.join(sorted(_DECIMAL_FIELDS))})"
    target = (*base, *_steps(entry.path))
    if entry.repeat:
        target = (*target, "*")
    elif entry.value is None and entry.const is None and not entry.is_attribute:
        return  # required = true alone: an always-present element, which may contain others
    if target in written and not entry.repeat:
        yield (*key, "path"), f"{entry.path!r} is already written by {_format_key(written[target])}"
    written.setdefault(target, key)


def _check_nesting(written: dict[tuple[str, ...], Key]) -> Iterator[tuple[Key, str]]:
    """An element holds text or child elements, not both; nothing outside the loop reaches into it."""
    for target, key in written.items():
        if target[-1] == "*" or target[-1].startswith("@"):
            continue
        for other, other_key in written.items():
            if len(other) > len(target) and other[: len(target)] == target and not other[len(target)].startswith("@"):
                yield (*key, "path"), f"its element also contains {_format_key(other_key)}: text and child elements do not mix"
                break
    repeated = {target[:-1] for target in written if target[-1] == "*" and "*" not in target[:-1]}
    for target, key in written.items():
        for loop in repeated:
            if len(target) > len(loop) and target[: len(loop)] == loop and target[len(loop)] != "*":
                yield (*key, "path"), "is inside the repeated element: put it in that entry's children"


def _steps(path: str) -> tuple[str, ...]:
    """A path's steps with the index made explicit (``A`` and ``A[1]`` are the same element)."""
    return tuple(step if step.startswith("@") or "[" in step else f"{step}[1]" for step in path.split("/"))


# --- writing ----------------------------------------------------------------------------------------


@dataclass
class _Node:
    """An element being built: lxml elements are made once the whole tree is known."""

    tag: str
    text: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    children: list[_Node] = field(default_factory=list)
    named: dict[str, _Node] = field(default_factory=dict)

    def child(self, step: str) -> _Node:
        step = step if "[" in step else f"{step}[1]"
        if step not in self.named:
            self.named[step] = _Node(step.split("[")[0])
            self.children.append(self.named[step])
        return self.named[step]


def write_xml_order(order: Order, layout: XmlLayout, now: dt.datetime) -> bytes:
    """``order`` in ``layout``, UTF-8 with an XML declaration; ``now`` is the ``generated_at`` field.

    Raises ``InputRejected`` (``xml-unencodable``) for text XML 1.0 cannot carry.
    """
    zone = zoneinfo.ZoneInfo(layout.timezone)
    now = now.astimezone(zone) if now.tzinfo else now.replace(tzinfo=zone)
    root = _Node(layout.root)
    for entry in layout.element:
        if entry.repeat:
            for index, line in enumerate(order.lines):
                *parents, last = entry.path.split("/")
                node = _Node(last.split("[")[0])
                _at(root, parents).children.append(node)
                for child in entry.children:
                    raw = _line_value(child.value, order, line, now)
                    where = child.value.removeprefix("order.") if child.value and child.value.startswith("order.") \
                        else f"lines[{index}].{child.value or child.path}"
                    _place(node, child, raw, layout, zone, where)
        else:
            _place(root, entry, _ORDER_FIELDS[entry.value](order, now) if entry.value else None, layout, zone,
                   entry.value or entry.path)
    nsmap: dict[str | None, str] = dict(layout.namespaces)
    if layout.namespace:
        nsmap[None] = layout.namespace
    element = _to_lxml(root, layout, nsmap, None)
    if layout.indent:
        etree.indent(element, space="  ")
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8") + b"\n"


def _line_value(name: str | None, order: Order, line: OrderLine, now: dt.datetime) -> Any:
    if name is None:
        return None
    if name.startswith("order."):
        return _ORDER_FIELDS[name.removeprefix("order.")](order, now)
    return _LINE_FIELDS[name](line)


def _at(node: _Node, steps: list[str]) -> _Node:
    for step in steps:
        node = node.child(step)
    return node


def _place(context: _Node, entry: LayoutElement, raw: Any, layout: XmlLayout, zone: dt.tzinfo, where: str) -> None:
    """Write one entry's value below ``context``, creating the elements on its path (if not empty)."""
    text = entry.const if entry.const is not None else _render(raw, entry, layout, zone)
    if entry.value is None and entry.const is None:
        text = ""  # required = true alone: an element (or attribute) that is always there, empty
    if not text and not entry.required:
        return
    text = xml_text(text, where)
    *parents, last = entry.path.split("/")
    node = _at(context, parents)
    if last.startswith("@"):
        node.attributes[last[1:]] = text
    else:
        node.child(last).text = text


def _render(raw: Any, entry: LayoutElement, layout: XmlLayout, zone: dt.tzinfo) -> str:
    if raw is None:
        text = ""
    elif isinstance(raw, dt.datetime):
        local = raw.astimezone(zone)
        text = local.strftime(entry.format) if entry.format else local.isoformat()
    elif isinstance(raw, Decimal):
        text = format_decimal(raw)
        if entry.min_decimals:
            whole, _, fraction = text.partition(".")
            text = f"{whole}.{fraction.ljust(entry.min_decimals, '0')}"
        text = text.replace(".", layout.decimal_mark)
    else:
        text = str(raw)
    return entry.map.get(text, text)


def _to_lxml(node: _Node, layout: XmlLayout, nsmap: dict[str | None, str], parent: Any) -> Any:
    tag = _qualified(node.tag, layout, element=True)
    element = etree.Element(tag, nsmap=nsmap) if parent is None else etree.SubElement(parent, tag)  # type: ignore[arg-type]
    for name, value in node.attributes.items():
        element.set(_qualified(name, layout, element=False), value)
    if node.text is not None:
        element.text = node.text
    for child in node.children:
        _to_lxml(child, layout, nsmap, element)
    return element


def _qualified(name: str, layout: XmlLayout, *, element: bool) -> str:
    """Clark notation: a prefix maps to its URI; an unprefixed element takes the default namespace,
    an unprefixed attribute none (Namespaces in XML 1.0 §6.2)."""
    if ":" in name:
        prefix, local = name.split(":", 1)
        uri = _XML_NAMESPACE if prefix == "xml" else layout.namespaces[prefix]
        return f"{{{uri}}}{local}"
    if element and layout.namespace:
        return f"{{{layout.namespace}}}{name}"
    return name




# --- loading from TOML ------------------------------------------------------------------------------


def load_xml_layout(path: Path) -> XmlLayout:
    """Read and validate a layout file; raise ``MappingError`` naming the file, line and key."""
    return parse_xml_layout(read_toml_text(path, str(path)), str(path))


def parse_xml_layout(text: str, shown: str = "<layout>") -> XmlLayout:
    """Validate a layout given as TOML text; ``shown`` names it in messages."""
    lines = _key_lines(text)
    return validate_toml(text, shown, XmlLayout, line_of=lambda key: _find_line(lines, key), show_key=_format_key)


def _format_key(key: Key) -> str:
    """('element', 2, 'children', 0, 'value') -> 'element[2].children[0].value'."""
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_TABLE_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\- ]+?)\s*\]\]?\s*(?:#.*)?$")
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def _key_lines(text: str) -> list[tuple[Key, int]]:
    """Each table header and ``key =`` line of the TOML with its full key, array indices included
    (the n-th ``[[element]]`` is ``('element', n)``, its children ``('element', n, 'children', m)``)."""
    found: list[tuple[Key, int]] = []
    counts: dict[Key, int] = {}
    table: Key = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE_HEADER.match(line)
        if header:
            names = [name.strip() for name in header[2].split(".")]
            key: Key = ()
            for name in names[:-1]:
                key = (*key, name)
                if key in counts:
                    key = (*key, counts[key] - 1)
            key = (*key, names[-1])
            if header[1] == "[[":
                counts[key] = counts.get(key, 0) + 1
                key = (*key, counts[key] - 1)
            table = key
            found.append((table, number))
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment:
            found.append(((*table, assignment[1]), number))
    return found


def _find_line(lines: list[tuple[Key, int]], key: Key) -> int | None:
    """The line of ``key``, or of its longest defined prefix."""
    best, best_length = None, 0
    for path, number in lines:
        if len(path) > best_length and key[: len(path)] == path:
            best, best_length = number, len(path)
    return best
