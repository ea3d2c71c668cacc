"""Random valid orders for the round trips of every order reader and writer (Hypothesis).

Each format's test passes the text it must survive (XML's special characters, CSV's delimiters,
EDIFACT's separators in its character set); the amounts are exact decimals that add up.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st

from exchanged.records.order import Order

TIMES = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 1, 1), timezones=st.just(dt.UTC))
GTINS = (None, "4006381333931", "96385074")


@st.composite
def orders_of(draw: st.DrawFn, text: st.SearchStrategy[str], ids: st.SearchStrategy[str], *,
              descriptions: st.SearchStrategy[str | None] | None = None, names: st.SearchStrategy[str] | None = None,
              cities: st.SearchStrategy[str] | None = None,
              times: st.SearchStrategy[dt.datetime] = TIMES, currencies: tuple[str, ...] = ("EUR",),
              units: tuple[str, ...] = ("C62",), gtins: tuple[str | None, ...] = GTINS, optional_sku: bool = False,
              tax: bool | None = None, addresses: bool = True) -> Order:
    """A valid order: 1 to 4 lines, totals that add up exactly. ``tax``: True always, False never,
    None sometimes; ``optional_sku``: lines may name only a GTIN."""
    names = text if names is None else names
    cities = names if cities is None else cities
    lines, net = [], Decimal(0)
    for _ in range(draw(st.integers(1, 4))):
        quantity = draw(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(99999), places=4))
        price = draw(st.decimals(min_value=Decimal(0), max_value=Decimal("999999.99"), places=2))
        net += quantity * price
        line = {"sku": draw(st.none() | ids) if optional_sku else draw(ids), "gtin": draw(st.sampled_from(gtins)),
                "quantity": quantity, "unit_price": price, "unit": draw(st.sampled_from(units)),
                "description": draw(descriptions if descriptions is not None else st.none() | text)}
        if line["sku"] is None and line["gtin"] is None:
            line["gtin"] = "4000417025005"
        lines.append(line)
    taxed = {True: st.decimals(min_value=Decimal(0), max_value=Decimal(1000), places=2), False: st.none(),
             None: st.none() | st.decimals(min_value=Decimal(0), max_value=Decimal(1000), places=2)}[tax]
    amount = draw(taxed)
    data = {"order_id": draw(ids), "customer_id": draw(ids), "ordered_at": draw(times),
            "currency": draw(st.sampled_from(currencies)), "lines": lines,
            "totals": {"net": net, "tax": amount, "gross": net + (amount or 0)}}
    if addresses:
        data["billing_address"] = {"name": draw(names), "city": draw(st.none() | cities)}
        data["shipping_address"] = draw(st.none() | st.builds(lambda n: {"name": n}, names))
    return Order.model_validate(data)




# Text an XML writer must carry: markup characters, entity-like text, CDATA openers, any letter.
XML_SPECIAL = st.sampled_from(list("<&>\"'];") + ["]]>", "&amp;", "<![CDATA[", "ÄÖÜäöüßéçñø", "東京", "😀"])
LETTERS = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff")
XML_TEXT = st.lists(st.one_of(XML_SPECIAL, LETTERS), min_size=1, max_size=20).map("".join)
XML_IDS = XML_TEXT.map(lambda s: s.strip()[:40]).filter(lambda s: s != "" and not (s[0].isspace() or s[-1].isspace()))
XML_DESCRIPTIONS = st.none() | st.tuples(XML_TEXT, st.sampled_from(["", "\r\n", "\t"])).map("".join)


def sample_order_data(**changes: object) -> dict[str, object]:
    """A realistic three-line order: two addresses, non-ASCII letters, every XML special character
    (the fixed input of the XML writers' golden files)."""
    data: dict[str, object] = {
        "order_id": "SO-2026-0042",
        "customer_id": "K-10077",
        "ordered_at": "2026-03-01T09:30:00+01:00",
        "currency": "EUR",
        "billing_address": {"name": "Müller & Söhne <GmbH>", "street": "Hauptstraße 1", "postal_code": "10115",
                            "city": "Berlin", "country": "DE"},
        "shipping_address": {"name": "Lager \"Tor 3\" ]]> Rampe", "street": "Am Hafen 7", "postal_code": "20457",
                             "city": "Hamburg", "country": "DE"},
        "lines": [
            {"sku": "A-100", "gtin": "4006381333931", "quantity": "2", "unit_price": "9.95",
             "description": "Kaffeebecher 'Classic' 0,3l"},
            {"sku": "B-200&1", "quantity": "1.5", "unit": "KGM", "unit_price": "12.40",
             "description": "Käse: Gouda < Edamer, 50% Fett"},
            {"gtin": "4000417025005", "quantity": "12", "unit_price": "0.79"},
        ],
        "totals": {"net": "47.98", "tax": "9.12", "gross": "57.10"},
    }
    data.update(changes)
    return data


__all__ = ["GTINS", "TIMES", "XML_DESCRIPTIONS", "XML_IDS", "XML_TEXT", "orders_of", "sample_order_data"]
