"""The paths of an XML mapping: namespace prefixes (with variants), record paths, field XPaths.

A mapping declares its prefixes (``[xml] namespaces``). A prefix may list several URIs for one
vocabulary: real BMEcat 2005 files use ``http://www.bmecat.org/bmecat/2005`` and vendor variants such
as ``…/2005+onto`` for the same elements. Each file binds every prefix to the variant it declares
on its root element (else to the first one), so one mapping reads all of them and no code knows
about any vocabulary (issue 5: namespace variants are the mapping's business).

* A record path is an absolute path of element names, ``/bme:BMECAT/bme:T_NEW_CATALOG/bme:PRODUCT``:
  the reader streams by it (no predicates: it is matched while parsing, not evaluated).
* A field is any XPath 1.0 expression relative to the record element; its string value is the
  field's text (``string()``: the first node in document order, all of its descendant text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from lxml import etree

Step = tuple[str | None, str]  # (prefix, local name)

_NAME = r"[A-Za-z_][\w.\-]*"
_STEP = re.compile(rf"^(?:({_NAME}):)?({_NAME})$")

# Field values of one record travel as one string joined by this character (one XPath call per
# record, not one per field: about 3x less time). U+FDD0 is a Unicode noncharacter: legal in XML
# 1.0 (production [2] Char) but reserved for internal use, so no interchange file carries it; a
# record whose text does contain it is read field by field instead.
SEPARATOR = "\ufdd0"

# No EXSLT regular expressions (a mapping reads values, it does not need them) and plain str
# results: both save a part of lxml's fixed cost per call, which dominates on small records.
_FAST: dict[str, Any] = {"regexp": False, "smart_strings": False}


class PathError(ValueError):
    """A path or XPath a mapping cannot use; the message says why."""


def parse_step(text: str) -> Step:
    """``bme:PRODUCT`` -> ``("bme", "PRODUCT")``; ``PRODUCT`` -> ``(None, "PRODUCT")``."""
    found = _STEP.match(text.strip())
    if found is None:
        raise PathError(f"{text!r} is not an element name (prefix:Name or Name)")
    return found[1], found[2]


def record_steps(path: str) -> list[Step]:
    """The steps of an absolute record path, root element first."""
    if not path.startswith("/") or path.startswith("//"):
        raise PathError(f"{path!r}: a record path is absolute, from the root element: /bme:BMECAT/bme:T_NEW_CATALOG/bme:PRODUCT")
    steps = [parse_step(part) for part in path[1:].split("/")]
    if len(steps) < 2:
        raise PathError(f"{path!r}: a record is an element below the root element")
    return steps


def bind(variants: dict[str, list[str]], declared: Iterable[str]) -> dict[str, str]:
    """Each prefix's URI for one file: the variant the file declares, else the first listed."""
    seen = set(declared)
    return {prefix: next((uri for uri in uris if uri in seen), uris[0]) for prefix, uris in variants.items()}


def clark(step: Step, bound: dict[str, str]) -> str:
    """The step as lxml names tags: ``{uri}local``, or ``local`` without namespace."""
    prefix, local = step
    return local if prefix is None else f"{{{bound[prefix]}}}{local}"


def step_matches(step: Step, namespace: str | None, local: str, variants: dict[str, list[str]]) -> bool:
    """Whether an element (namespace URI, local name) is ``step`` under any variant of its prefix."""
    prefix, name = step
    if name != local:
        return False
    if prefix is None:
        return namespace is None
    return namespace in variants.get(prefix, [])


def relative(steps: list[Step]) -> str:
    """Steps as a relative XPath: ``bme:PRODUCT_PRICE_DETAILS/bme:PRODUCT_PRICE``."""
    return "/".join(name if prefix is None else f"{prefix}:{name}" for prefix, name in steps)


def compile_values(expressions: list[str], bound: dict[str, str]) -> Any:
    """One XPath giving every expression's string value, joined by :data:`SEPARATOR`."""
    if len(expressions) == 1:
        return etree.XPath(f"string({expressions[0]})", namespaces=bound, **_FAST)
    parts = f", '{SEPARATOR}', ".join(f"string({expression})" for expression in expressions)
    return etree.XPath(f"concat({parts})", namespaces=bound, **_FAST)


def compile_each(expressions: list[str], bound: dict[str, str]) -> list[Any]:
    return [etree.XPath(f"string({expression})", namespaces=bound, **_FAST) for expression in expressions]


def compile_nodes(expression: str, bound: dict[str, str]) -> Any:
    return etree.XPath(expression, namespaces=bound, **_FAST)


def xpath_problem(expression: str, variants: dict[str, list[str]]) -> str | None:
    """Why ``expression`` cannot be a field's XPath (None when it can): a syntax error, or a
    prefix the mapping does not declare (found by evaluating it once on an empty element)."""
    bound = {prefix: uris[0] for prefix, uris in variants.items()}
    try:
        etree.XPath(f"string({expression})", namespaces=bound)(etree.Element("probe"))
    except etree.XPathError as exc:
        hint = "; declare the prefix in [xml] namespaces" if "prefix" in str(exc).lower() else ""
        return f"XPath {expression!r}: {exc}{hint}"
    return None


__all__ = ["PathError", "SEPARATOR", "Step", "bind", "clark", "compile_each", "compile_nodes", "compile_values",
           "parse_step", "record_steps", "relative", "step_matches", "xpath_problem"]
