"""``exchanged demo``: sample ERP exports into the inbox, processed once, and what came out.

The samples use the canonical layouts (docs/mappings.md) in the shapes ERPs really send: a UTF-8
product export with one broken GTIN (the row is dropped, the file is ``partial``), a Windows-1252
price list with ``;`` and decimal commas, a stock delta with an ``op`` column, an EANCOM INVRPT
(EDIFACT) with the stock of a second warehouse, a supplier's BMEcat 2005 update (XML) with a new
article and its price, and a shop order (canonical order JSON), checked against the prices just
published and sent to the ERP as an EANCOM ORDERS in ``outbox/erp/``.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from exchanged.config import Settings
from exchanged.exchange.daemon import Daemon
from exchanged.exchange.log import EventLog
from exchanged.report import FileReport

SAMPLES: dict[str, bytes] = {
    "products_20261127.csv": (
        "sku,gtin,name,unit,vat_rate,weight,brand,attributes.colour,active\n"
        "4711,4006381333931,Schraubendreher Set,C62,19,0.35,Acme,red,true\n"
        "4712,4006381333948,Kabeltrommel 25 m,C62,19,4.2,Acme,,true\n"
        "4713,4006381333932,Werkbank,C62,19,38,Acme,,true\n"
        "4714,96385074,Gartenschere,C62,19,0.4,Gardena,green,true\n"
    ).encode("utf-8"),
    "prices_20261127.csv": (
        "sku;currency;amount;min_quantity;valid_from\n"
        "4711;EUR;19,90;1;2026-11-01\n"
        "4711;EUR;17,50;10;2026-11-01\n"
        "4712;EUR;49,00;1;2026-11-01\n"
        "4714;EUR;12,95;1;2026-11-01\n"
    ).encode("cp1252"),
    "stock_20261127_0815.csv": (
        "op,sku,warehouse,quantity,as_of\n"
        "upsert,4711,Lager Süd,120,2026-11-27T08:15:00+01:00\n"
        "upsert,4712,Lager Süd,3,2026-11-27T08:15:00+01:00\n"
        "delete,4713,Lager Süd,,\n"
    ).encode("utf-8"),
    # An EANCOM INVRPT (inventory report) from a logistics partner: actual stock (QTY+145) per line
    # item, the warehouse in LOC, the report date in DTM+137.
    "INVRPT_20261127_0900.edi": (
        "UNA:+.? '\n"
        "UNB+UNOC:3+4012345000009:14+4098765000004:14+261127:0900+INV0001'\n"
        "UNH+1+INVRPT:D:96A:UN:EAN008'\n"
        "BGM+35+INV-20261127-1+9'\n"
        "DTM+137:20261127:102'\n"
        "LIN+1++96385074:EN'\n"
        "PIA+5+4714:SA'\n"
        "QTY+145:42'\n"
        "LOC+18+Lager Nord'\n"
        "UNS+S'\n"
        "UNT+9+1'\n"
        "UNZ+1+INV0001'\n"
    ).encode("latin-1"),
    # A BMEcat 2005 T_UPDATE_PRODUCTS from a supplier: a new article (PRODUCT mode="new") with its
    # list price. A delta: the articles of the product export above stay.
    "bmecat_update_20261127.xml": (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE BMECAT SYSTEM "bmecat_2005.dtd">\n'
        '<BMECAT version="2005" xmlns="http://www.bmecat.org/bmecat/2005">\n'
        "  <HEADER>\n"
        "    <CATALOG><LANGUAGE>deu</LANGUAGE><CATALOG_ID>ACME-2026</CATALOG_ID><CATALOG_VERSION>2.1</CATALOG_VERSION>"
        "<CURRENCY>EUR</CURRENCY></CATALOG>\n"
        "    <SUPPLIER><SUPPLIER_NAME>Acme Werkzeuge GmbH</SUPPLIER_NAME></SUPPLIER>\n"
        "  </HEADER>\n"
        '  <T_UPDATE_PRODUCTS prev_version="2">\n'
        '    <PRODUCT mode="new">\n'
        "      <SUPPLIER_PID>4715</SUPPLIER_PID>\n"
        "      <PRODUCT_DETAILS>\n"
        "        <DESCRIPTION_SHORT>Akku-Bohrschrauber 18 V</DESCRIPTION_SHORT>\n"
        '        <INTERNATIONAL_PID type="gtin">4006381333955</INTERNATIONAL_PID>\n'
        "        <MANUFACTURER_NAME>Acme</MANUFACTURER_NAME>\n"
        "      </PRODUCT_DETAILS>\n"
        "      <PRODUCT_ORDER_DETAILS><ORDER_UNIT>C62</ORDER_UNIT></PRODUCT_ORDER_DETAILS>\n"
        "      <PRODUCT_PRICE_DETAILS>\n"
        '        <DATETIME type="valid_start_date"><DATE>2026-11-01</DATE></DATETIME>\n'
        '        <PRODUCT_PRICE price_type="net_list"><PRICE_AMOUNT>89.00</PRICE_AMOUNT><TAX>0.19</TAX></PRODUCT_PRICE>\n'
        "      </PRODUCT_PRICE_DETAILS>\n"
        "    </PRODUCT>\n"
        "  </T_UPDATE_PRODUCTS>\n"
        "</BMECAT>\n"
    ).encode("utf-8"),
    # A shop order: 12 screwdriver sets reach the price break at 10 (17,50 instead of 19,90).
    "order_SO-1001.json": (
        '{"order_id": "SO-1001", "customer_id": "K-20417", "ordered_at": "2026-11-27T10:15:00+01:00",\n'
        ' "currency": "EUR",\n'
        ' "lines": [{"sku": "4711", "quantity": "12", "unit_price": "17.50", "description": "Schraubendreher Set"},\n'
        '           {"sku": "4714", "quantity": "1", "unit_price": "12.95"}],\n'
        ' "shipping_address": {"name": "Werkstatt Süd", "city": "Köln", "country": "DE"},\n'
        ' "totals": {"net": "222.95", "tax": "42.36", "gross": "265.31"}}\n'
    ).encode("utf-8"),
}

# Where the demo's order goes when the config names no ERP: EANCOM ORDERS between two example GLNs.
DEMO_ORDERS = {"sender_id": "4012345000009", "recipient_id": "4098765000004"}


def write_samples(inbox: Path) -> list[Path]:
    """Put the samples into ``inbox/demo/`` the way a careful ERP does: written under a temporary
    name, then renamed into place (complete the moment they appear)."""
    folder = inbox / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    now = time.time()
    for index, name in enumerate(SAMPLES):
        path = folder / name
        temp = folder / f".{name}.part"
        temp.write_bytes(SAMPLES[name])
        # One second apart, in this order: files are taken in arrival (mtime) order, and three
        # files written within one clock tick would otherwise all look equally old.
        moment = now - len(SAMPLES) + index
        os.utime(temp, (moment, moment))
        temp.rename(path)
        paths.append(path)
    return paths


def run_demo(settings: Settings, log: EventLog | None = None) -> list[FileReport]:
    """Drop the samples into the inbox and run the daemon once over it (``exchanged run --once``):
    the samples, and whatever else was waiting, end up processed, archived and recorded."""
    write_samples(settings.folder("inbox"))
    update: dict[str, object] = {"settle_seconds": 0.0}  # renamed into place: complete at once, no need to settle
    if settings.orders.format == "edifact" and settings.orders.edifact is None:
        update["orders"] = settings.orders.model_copy(update={"edifact": DEMO_ORDERS})
    daemon = Daemon(settings.model_copy(update=update), log=log or EventLog(stream=io.StringIO()))
    return daemon.run(once=True)
