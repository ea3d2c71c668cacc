"""TOML files validated by a pydantic model, every error naming the file, the line and the key.

What the order layouts (``formats/csv_order_layout.py``, ``formats/xml/layout.py``) share: read the
file as UTF-8, parse it (tomllib's own line and column for syntax errors), validate it, and turn
pydantic's errors and the model's own cross-key checks (``KeyProblems``) into one message per
problem::

    erp-order.toml line 12: line_record.columns[2].value: unknown field 'lines.qty'
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from exchanged.errors import MappingError

Key = tuple[str | int, ...]
Model = TypeVar("Model", bound=BaseModel)


class KeyProblems(ValueError):
    """Problems a model finds across its keys (raised in a validator), each with its TOML key."""

    def __init__(self, problems: list[tuple[Key, str]]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, key))}: {message}" for key, message in problems))
        self.problems = problems


def read_toml_text(path: Path, shown: str) -> str:
    """The file's text; MappingError (naming ``shown``) when it cannot be read or is not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise MappingError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise MappingError(f"{shown}: not UTF-8 text (byte {exc.start})") from None


def parse_toml(text: str, shown: str) -> dict[str, Any]:
    """The TOML document; a syntax error names its line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if found:
            raise MappingError(f"{shown} line {found[1]}: invalid TOML: {message[: found.start()]} (column {found[2]})") from None
        raise MappingError(f"{shown}: invalid TOML: {message}") from None


def validate_toml(text: str, shown: str, model: type[Model], *, line_of: Callable[[Key], int | None],
                  show_key: Callable[[Key], str]) -> Model:
    """``text`` parsed and validated as ``model``; MappingError with one line per problem."""
    data = parse_toml(text, shown)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        messages = []
        for key, message in model_problems(exc):
            line = line_of(key)
            where = f"{shown} line {line}" if line else shown
            messages.append(f"{where}: {show_key(key)}: {message}" if key else f"{where}: {message}")
        raise MappingError("\n".join(messages)) from None


def model_problems(exc: ValidationError) -> Iterator[tuple[Key, str]]:
    """pydantic's errors as (key, message), the model's ``KeyProblems`` unpacked."""
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, KeyProblems):
            yield from cause.problems
        elif error["type"] == "extra_forbidden":
            yield tuple(error["loc"]), f"unknown key {error['loc'][-1]!r}"
        elif error["type"] == "missing":
            yield tuple(error["loc"]), "required"
        else:
            yield tuple(error["loc"]), error["msg"].removeprefix("Value error, ")


__all__ = ["Key", "KeyProblems", "model_problems", "parse_toml", "read_toml_text", "validate_toml"]
