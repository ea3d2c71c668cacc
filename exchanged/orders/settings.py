"""``[orders]`` in exchanged.toml: in which format the ERP imports orders, and how strictly they are
checked (DESIGN §1 "ERP outputs"; issue 6 point 4).

```toml
[orders]
format = "edifact"               # edifact (default) | csv | opentrans | xml
price_tolerance = "0.005"        # |unit price - computed price| allowed
[orders.edifact]                 # formats/edifact/orders.py OrdersConfig
sender_id = "4012345000009"      # our GLN (UNB S002)
recipient_id = "4098765000004"   # the ERP's GLN (UNB S003)
```

The writers' own options are validated when the settings are checked (``check()``: the daemon and
``process`` call it before the first file), not when the config is read: importing every writer
to read a config file would slow down every command.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exchanged.errors import ConfigError


class OrdersSettings(BaseModel):
    """How shop orders are checked and written for the ERP."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["edifact", "csv", "opentrans", "xml"] = Field(
        "edifact",
        description="the ERP's order import: EDIFACT ORDERS D.96A EANCOM, a CSV layout, openTRANS 2.1 ORDER, or an XML layout",
    )
    check_prices: bool = Field(True, description="check every unit price against the price engine (price-mismatch)")
    price_tolerance: Decimal = Field(Decimal("0.005"), ge=0,
                                     description="largest difference between a unit price and the computed one")
    edifact: dict[str, Any] | None = Field(
        None, description="format = edifact: the ORDERS options (sender_id and recipient_id required)")
    opentrans: dict[str, Any] | None = Field(None, description="format = opentrans: the openTRANS options (supplier_id required)")
    layout: Path | None = Field(
        None, description="format = csv or xml: the layout file (TOML), relative to the config file's folder")

    def check(self, base_dir: Path) -> None:
        """Raise ConfigError when the chosen format's options are missing or wrong."""
        self.writer_config(base_dir)

    def writer_config(self, base_dir: Path) -> Any:
        """The validated options of the chosen writer (OrdersConfig, OpenTransConfig or a layout)."""
        try:
            if self.format == "edifact":
                from exchanged.formats.edifact.orders import OrdersConfig

                return OrdersConfig.model_validate(self._table("edifact", "sender_id and recipient_id"))
            if self.format == "opentrans":
                from exchanged.formats.xml.opentrans import OpenTransConfig

                return OpenTransConfig.model_validate(self._table("opentrans", "supplier_id"))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ConfigError(f"[orders.{self.format}] {where}: {first['msg']}") from None
        if self.layout is None:
            raise ConfigError(f"[orders] format = {self.format!r} needs layout = \"<file>.toml\" "
                              f"(the ERP's {self.format} layout)")
        path = self.layout if self.layout.is_absolute() else base_dir / self.layout
        if self.format == "csv":
            from exchanged.formats.csv_orders import load_csv_order_layout

            return load_csv_order_layout(path)
        from exchanged.formats.xml.layout import load_xml_layout

        return load_xml_layout(path)

    def _table(self, name: str, required: str) -> dict[str, Any]:
        table = getattr(self, name)
        if table is None:
            raise ConfigError(f"[orders] format = {self.format!r} needs an [orders.{name}] table with at least {required}")
        return table


__all__ = ["OrdersSettings"]
