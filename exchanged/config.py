"""Settings, typed and layered: command-line argument > environment > exchanged.toml > default.

The config file is ``--config FILE``, else ``$EXCHANGED_CONFIG``, else ``./exchanged.toml`` when it
exists, else none (built-in defaults). Relative folders are taken from the config file's folder, or
the current folder without one (DESIGN §1 "Folders"). Every setting can also be given in the
environment as ``EXCHANGED_<NAME>`` (``EXCHANGED_INBOX=/data/in``). ``exchanged schema config``
prints the JSON Schema of this model: it is the reference of the file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exchanged.errors import ConfigError

CONFIG_ENV = "EXCHANGED_CONFIG"
DEFAULT_CONFIG_NAME = "exchanged.toml"
ENV_PREFIX = "EXCHANGED_"


class Settings(BaseModel):
    """exchanged.toml: where the folders are and how strict processing is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inbox: Path = Field(Path("inbox"), description="files to process, any sub-folder depth")
    outbox: Path = Field(Path("outbox"), description="shop/ and erp/ outputs are written below it")
    archive: Path = Field(Path("archive"), description="every processed input byte for byte, the quarantine and the ledger")
    mappings: Path = Field(Path("mappings"), description="user mapping files; they override built-in ones of the same name")
    issue_limit: int = Field(1000, ge=1, description="issues listed per file; the rest are only counted")
    max_file_bytes: int = Field(2 * 1024**3, ge=1, description="larger inputs are rejected with file-too-large")
    allow_empty_snapshot: bool = Field(
        False,
        description="a full snapshot with no records deletes everything published; off: such a file is rejected (empty-snapshot)",
    )
    base_dir: Path = Field(Path("."), description="folder the relative paths above start from (set from the config file's location)", exclude=True)

    def folder(self, name: str) -> Path:
        path: Path = getattr(self, name)
        return path if path.is_absolute() else self.base_dir / path

    @property
    def shop_dir(self) -> Path:
        return self.folder("outbox") / "shop"

    @property
    def erp_dir(self) -> Path:
        return self.folder("outbox") / "erp"

    @property
    def ledger_path(self) -> Path:
        return self.folder("archive") / "ledger.sqlite3"


def _config_file(explicit: str | Path | None, environ: Mapping[str, str]) -> Path | None:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        return path
    if environ.get(CONFIG_ENV):
        path = Path(environ[CONFIG_ENV])
        if not path.is_file():
            raise ConfigError(f"config file not found: {path} (from ${CONFIG_ENV})")
        return path
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.is_file() else None


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in Settings.model_fields:
        key = ENV_PREFIX + name.upper()
        if key in environ and name != "base_dir":
            values[name] = environ[key]
    return values


def load_settings(
    config: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from all layers; any problem is a ConfigError naming the source."""
    environ = os.environ if environ is None else environ
    path = _config_file(config, environ)
    values: dict[str, Any] = {}
    source = "built-in defaults"
    if path is not None:
        source = str(path)
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        values["base_dir"] = path.resolve().parent
    values.update(_from_environment(environ))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(f"{source}: {where}: {first['msg']}") from None
