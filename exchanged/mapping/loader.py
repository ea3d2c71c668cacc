"""Load mapping files: the built-in ones shipped with the package, then the user's, by name.

Every error names the file, the line and the key, so that an integrator can fix a mapping without
reading a traceback::

    mappings/acme.toml line 7: entity.product.gtn: unknown field 'gtn' (product has: sku, gtin, …)

tomllib reports the line of a syntax error; for validation errors the key's line is found by
scanning the TOML text (:func:`key_lines`), which tracks ``[table]`` headers and ``key =`` lines.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from exchanged.errors import MappingError
from exchanged.mapping.spec import CsvSpec, FieldSpec, Key, Mapping, MatchSpec, SpecProblems, format_key
from exchanged.toml_file import parse_toml, read_toml_text

BUILTIN_PACKAGE = "exchanged._builtin_mappings"
_RESERVED = ("source_path", "builtin")
_SOURCE_CHECKOUT = Path(__file__).resolve().parents[2] / "mappings"


def display_path(path: Path) -> str:
    """The path as a person would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def load_mapping(path: Path, *, builtin: bool = False) -> Mapping:
    """Read and validate one mapping file; raise MappingError naming file, line and key."""
    shown = display_path(path)
    return parse_mapping(read_toml_text(path, shown), path, builtin=builtin, shown=shown)


def parse_mapping(text: str, path: Path, *, builtin: bool = False, shown: str | None = None) -> Mapping:
    """Validate mapping TOML ``text`` as if read from ``path``."""
    shown = shown or display_path(path)
    data = parse_toml(text, shown)
    for reserved in _RESERVED:
        if reserved in data:
            raise _error(shown, text, [((reserved,), f"{reserved} is set by the loader, not in the file")])
    data.setdefault("name", path.stem)
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        raise _error(shown, text, _problems(exc, data)) from None
    return mapping.model_copy(update={"source_path": path, "builtin": builtin})


def _problems(exc: ValidationError, data: dict[str, Any]) -> list[tuple[Key, str]]:
    problems: list[tuple[Key, str]] = []
    seen: set[Key] = set()
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, SpecProblems):
            problems.extend(cause.problems)
            continue
        key = _data_key(error["loc"], data, error["type"] == "missing")
        if key in seen:  # one message per key: a union reports every member's complaint
            continue
        seen.add(key)
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(key[:-1])
            message = f"unknown key {key[-1]!r}" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        else:
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "missing":
                message = "required"
            elif error["type"] in ("model_type", "dict_type") and _allowed_keys(key) == _allowed_keys(("op",)):
                message = 'expected a column name ("Col") or a table ({ column = "Col", … })'
        problems.append((key, message))
    return problems


def _data_key(loc: tuple[Any, ...], data: Any, missing: bool) -> Key:
    """The part of a pydantic location that names keys of the TOML (drops union member tags)."""
    key: list[str | int] = []
    node = data
    for number, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif missing and number == len(loc) - 1:
            pass  # the required key that is not there
        else:
            continue  # a union member tag such as 'str' or 'list[str]'
        key.append(part)
    return tuple(key)


def _allowed_keys(parent: Key) -> list[str]:
    model: type[Any] | None
    if not parent:
        model = Mapping
    elif parent[0] == "match":
        model = MatchSpec
    elif parent[0] == "csv":
        model = CsvSpec
    elif parent[0] == "op" or (parent[0] == "entity" and len(parent) == 3):
        model = FieldSpec
    else:
        model = None
    if model is None:
        return []
    return [name for name, info in model.model_fields.items() if not info.exclude]


def _error(shown: str, text: str, problems: list[tuple[Key, str]]) -> MappingError:
    lines = key_lines(text)
    messages = []
    for key, message in problems:
        line = find_line(lines, key)
        where = f"{shown} line {line}" if line else shown
        messages.append(f"{where}: {format_key(key)}: {message}" if key else f"{where}: {message}")
    return MappingError("\n".join(messages))


# --- finding a key's line ------------------------------------------------------------------------

_KEY_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_TABLE = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_DOTTED})\s*=")


def _split_key(dotted: str) -> tuple[str, ...]:
    parts = re.findall(_KEY_PART, dotted)
    out = []
    for part in parts:
        if part.startswith('"'):
            out.append(part[1:-1].encode("utf-8").decode("unicode_escape") if "\\" in part else part[1:-1])
        elif part.startswith("'"):
            out.append(part[1:-1])
        else:
            out.append(part)
    return tuple(out)


def key_lines(text: str) -> list[tuple[tuple[str, ...], int]]:
    """Every key path the TOML text defines, with its 1-based line (inline-table keys included).

    >>> key_lines('[match]\\ncolumns = ["A"]\\n[entity.product]\\ngtin = { column = "EAN" }')
    [(('match',), 1), (('match', 'columns'), 2), (('entity', 'product'), 3), (('entity', 'product', 'gtin'), 4), (('entity', 'product', 'gtin', 'column'), 4)]
    """
    found: list[tuple[tuple[str, ...], int]] = []
    table: tuple[str, ...] = ()
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.count('"""') % 2 or line.count("'''") % 2:
            in_multiline = not in_multiline
            if not in_multiline:
                continue
        if in_multiline:
            continue
        header = _TABLE.match(line)
        if header:
            table = _split_key(header[1])
            found.append((table, number))
            continue
        assign = _ASSIGN.match(line)
        if assign:
            key = table + _split_key(assign[1])
            found.append((key, number))
            rest = line[assign.end():]
            if rest.lstrip().startswith("{"):
                found.extend((key + _split_key(inner), number) for inner in _INLINE_KEY.findall(rest))
    return found


def find_line(lines: list[tuple[tuple[str, ...], int]], key: Key) -> int | None:
    """The line of ``key``, or of its longest defined prefix (an unknown key of a known table)."""
    wanted = tuple(str(part) for part in key if not isinstance(part, int))
    best, best_length = None, 0
    for path, number in lines:
        if len(path) > best_length and wanted[: len(path)] == path:
            best, best_length = number, len(path)
    return best


# --- built-in + user mappings --------------------------------------------------------------------


def builtin_files() -> list[Path]:
    """The shipped mapping files (the package when installed, the checkout's mappings/ otherwise)."""
    try:
        root = importlib.resources.files(BUILTIN_PACKAGE)
        files = [Path(str(entry)) for entry in root.iterdir() if entry.name.endswith(".toml")]
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        files = list(_SOURCE_CHECKOUT.glob("*.toml")) if _SOURCE_CHECKOUT.is_dir() else []
    return sorted(files)


def _mapping_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.toml") if p.is_file() and not p.name.startswith((".", "~")))


def load_mappings(user_dir: Path | None) -> dict[str, Mapping]:
    """Built-in mappings, then ``user_dir/*.toml`` overriding them by name.

    A missing ``user_dir`` means no user mappings. Two user files of the same name are an error
    (which one should win is not for the loader to guess); so are two built-in ones.
    """
    mappings: dict[str, Mapping] = {}
    _add_all(mappings, (load_mapping(p, builtin=True) for p in builtin_files()))
    if user_dir is not None and user_dir.is_dir():
        user: dict[str, Mapping] = {}
        _add_all(user, (load_mapping(p) for p in _mapping_files(user_dir)))
        mappings.update(user)
    return mappings


def _add_all(into: dict[str, Mapping], loaded: Iterable[Mapping]) -> None:
    for mapping in loaded:
        earlier = into.get(mapping.name)
        if earlier is not None:
            first = display_path(earlier.source_path) if earlier.source_path else "?"
            second = display_path(mapping.source_path) if mapping.source_path else "?"
            raise MappingError(f"{second}: mapping name {mapping.name!r} is already used by {first}; rename one")
        into[mapping.name] = mapping


__all__ = ["builtin_files", "display_path", "find_line", "key_lines", "load_mapping", "load_mappings", "parse_mapping"]
