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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exchanged.errors import ConfigError
from exchanged.orders.settings import OrdersSettings
from exchanged.roi import RoiSettings

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
    # --- the daemon (`exchanged run`) -------------------------------------------------------------
    work: Path = Field(Path("work"), description="claimed inputs and the daemon's status; must be on the inbox's filesystem (claims are renames)")
    watch: Literal["events", "polling"] = Field("events", description="events: inotify and the like; polling: for network shares where events do not arrive")
    poll_interval: float = Field(1.0, gt=0, le=3600, description="seconds between two looks at the inbox in polling mode")
    rescan_interval: float = Field(60.0, gt=0, le=86400, description="seconds between two full scans of the inbox beside the events (a safety net)")
    settle_seconds: float = Field(2.0, ge=0, le=3600, description="a file no event declared complete is ready once its size and mtime stayed the same this long")
    require_marker: bool = Field(False, description="read a file only once its marker NAME.done or NAME.ok exists (a marker found is honoured either way)")
    empty_file_wait: float = Field(10.0, ge=0, le=86400, description="seconds an empty file may stay empty before it is rejected with empty-file")
    workers: int = Field(2, ge=1, le=64, description="files processed at once (per entity, inputs still apply in arrival order)")
    retry_initial: float = Field(1.0, gt=0, le=3600, description="seconds before the first retry after a transient fault (disk full, permission denied)")
    retry_max: float = Field(300.0, gt=0, le=86400, description="longest wait between two retries (the wait doubles up to it)")
    retention_days: int | None = Field(None, ge=1, description="archived originals older than this many days are compressed or deleted; their ledger rows stay (unset: keep all)")
    retention_action: Literal["compress", "delete"] = Field("compress", description="what retention does to an old original")
    # --- EDIFACT ------------------------------------------------------------------------------------
    contrl: bool = Field(False, description="answer every EDIFACT interchange received with a CONTRL (syntax acknowledgement) in outbox/erp/")
    contrl_sender: str | None = Field(None, pattern=r"^[!-~]{1,35}$", description="UNB sender id of those CONTRLs (unset: the recipient the interchange named)")
    # --- the ROI report (`exchanged roi`) --------------------------------------------------------------
    roi: RoiSettings = Field(
        default_factory=RoiSettings,
        description="[roi]: handling cost per occurrence and efficiency gain per kind, the estimates `exchanged roi`"
                    " multiplies the ledger's counts with (docs/roi.md); the defaults are placeholders to replace"
                    " with your own figures",
    )
    # --- shop orders to the ERP (issue 6) ------------------------------------------------------------
    orders: OrdersSettings = Field(default_factory=OrdersSettings, description="[orders]: the ERP's order import format and the order checks")
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
    def claimed_dir(self) -> Path:
        """Where the daemon moves a file it claims (out of the watched inbox, same filesystem)."""
        return self.folder("work") / "claimed"

    @property
    def status_path(self) -> Path:
        """The daemon's status, rewritten as it works; ``exchanged status`` reads it."""
        return self.folder("work") / "status.json"

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
