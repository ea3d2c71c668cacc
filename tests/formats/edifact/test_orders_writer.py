"""``write_orders``: an order as EANCOM ORDERS D.96A EAN008, byte for byte and read back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from test_serialise import (
    matches_golden,
    read_interchange_with_pydifact,
    read_with_pydifact,
)

from exchanged.errors import InputRejected
from exchanged.formats.edifact.orders import OrdersConfig, write_orders
from exchanged.records.order import Order
from exchanged.report import Issue
from tests.order_strategies import orders_of

NOW = dt.datetime(2026, 3, 1, 10, 5, tzinfo=dt.UTC)
CONFIG = OrdersConfig(sender_id="4012345000009", recipient_id="4098765000003", timezone="Europe/Berlin")


def order_data(**changes: Any) -> dict[str, Any]:
    """A realistic three-line order: an address, non-ASCII letters, every service character."""
    data: dict[str, Any] = {
        "order_id": "SO-2026-0042",
        "customer_id": "4012345000016",
        "ordered_at": "2026-03-01T09:30:00+01:00",
        "currency": "EUR",
        "billing_address": {"name": "Müller & Söhne GmbH", "street": "Hauptstraße 1", "postal_code": "10115",
                            "city": "Berlin", "country": "DE"},
        "shipping_address": {"name": "Lager: Tor 3 + Rampe", "street": "Am Hafen 7", "postal_code": "20457",
                             "city": "Hamburg", "country": "DE"},
        "lines": [
            {"sku": "A-100", "gtin": "4006381333931", "quantity": "2", "unit_price": "9.95",
             "description": "Kaffeebecher 'Classic' 0,3l"},
            {"sku": "B-200?", "quantity": "1.5", "unit": "KGM", "unit_price": "12.40",
             "description": "Käse: Gouda + Edamer, 50% Fett?"},
            {"gtin": "4000417025005", "quantity": "12", "unit_price": "0.79"},
        ],
        "totals": {"net": "47.98", "tax": "9.12", "gross": "57.10"},
    }
    data.update(changes)
    return data


def write(data: dict[str, Any] | None = None, config: OrdersConfig = CONFIG, **config_changes: Any) -> bytes:
    if config_changes:
        config = config.model_copy(update=config_changes)
        config = OrdersConfig.model_validate(config.model_dump())
    return write_orders(Order.model_validate(data or order_data()), config, "17", NOW)


def lines_of(data: bytes, codec: str = "latin-1") -> list[str]:
    return data.decode(codec).splitlines()


def rejection(data: dict[str, Any], **config_changes: Any) -> Issue:
    with pytest.raises(InputRejected) as caught:
        write(data, **config_changes)
    return caught.value.issue


# --- golden files -------------------------------------------------------------------------------------


def test_golden_three_lines() -> None:
    data = write()
    assert matches_golden("orders/three-lines.edi", data)
    assert lines_of(data)[:8] == [
        "UNA:+.? '",
        "UNB+UNOC:3+4012345000009:14+4098765000003:14+260301:1105+17'",
        "UNH+1+ORDERS:D:96A:UN:EAN008'",
        "BGM+220+SO-2026-0042+9'",
        "DTM+137:202603010930:203'",
        "NAD+BY+4012345000016::9++Müller & Söhne GmbH+Hauptstraße 1+Berlin++10115+DE'",
        "NAD+DP+++Lager?: Tor 3 ?+ Rampe+Am Hafen 7+Hamburg++20457+DE'",
        "CUX+2:EUR:9'",
    ]


def test_golden_customer_number_decimal_comma_long_text() -> None:
    description = "Schreibtischlampe mit Schwenkarm, LED 12 W, warmweiß (2700 K), Fuß aus Eiche geölt"
    data = order_data(
        customer_id="K-10077", billing_address=None, shipping_address=None,
        lines=[{"sku": "LAMP-7", "quantity": "3", "unit_price": "49.90", "description": description}],
        totals={"net": "149.70", "gross": "149.70"},
    )
    written = write(data, decimal_mark=",", unit_codes={"C62": "PCE"}, supplier_id="4098765000003",
                    acknowledgement_request=True, newline=True)
    assert matches_golden("orders/customer-number-decimal-comma.edi", written)
    text = lines_of(written)
    assert text[0] == "UNA:+,? '"
    assert "NAD+BY+K-10077::91'" in text and "NAD+SU+4098765000003::9'" in text
    assert "QTY+21:3:PCE'" in text and "PRI+AAA:49,9'" in text and "MOA+86:149,7'" in text
    assert [line for line in text if line.startswith("IMD")] == [
        "IMD+F++:::Schreibtischlampe mit Schwenkarm, L:ED 12 W, warmweiß (2700 K), Fuß aus'",
        "IMD+F++::: Eiche geölt'",  # cut every 35 characters: a reader joins the parts as they are
    ]


def test_golden_utf8() -> None:
    data = order_data(
        order_id="JP-1", customer_id="C-東京-1", billing_address={"name": "株式会社 東京*商事", "city": "東京", "country": "JP"},
        shipping_address=None, currency="JPY",
        lines=[{"sku": "茶-1", "quantity": "2", "unit_price": "1500", "description": "緑茶 'Sencha' 2*100 g"}],
        totals={"net": "3000", "tax": "240", "gross": "3240"},
    )
    written = write(data, charset="UNOY")
    assert matches_golden("orders/utf8-unoy.edi", written)
    text = lines_of(written, "utf-8")
    assert text[:2] == ["UNA:+.?*'", "UNB+UNOY:4+4012345000009:14+4098765000003:14+20260301:1105+17'"]
    assert "NAD+BY+C-東京-1::91++株式会社 東京?*商事++東京+++JP'" in text
    assert "IMD+F++:::緑茶 ?'Sencha?' 2?*100 g'" in text  # syntax 4: the repetition separator is released


# --- the message is consistent -------------------------------------------------------------------------


def test_pydifact_reads_it_and_the_counts_agree() -> None:
    interchange = read_interchange_with_pydifact(write().decode("latin-1"))
    assert interchange.syntax_identifier == ("UNOC", 3)
    assert interchange.control_reference == "17"
    segments = read_with_pydifact(write().decode("latin-1"))
    tags = [tag for tag, _ in segments]
    unh, unt = tags.index("UNH"), tags.index("UNT")
    assert segments[unt][1] == [str(unt - unh + 1), "1"]
    assert segments[-1] == ("UNZ", ["1", "17"])
    assert tags.count("LIN") == 3 and ("CNT", [["2", "3"]]) in segments
    assert [e for t, e in segments if t == "MOA"] == [[["79", "47.98"]], [["176", "9.12"]], [["86", "57.1"]]]


def test_a_line_without_gtin_is_identified_by_pia_5() -> None:
    text = lines_of(write())
    assert text[text.index("LIN+2'") + 1] == "PIA+5+B-200??:SA'"
    assert text[text.index("LIN+1++4006381333931:EN'") + 1] == "PIA+1+A-100:SA'"
    assert text[text.index("LIN+3++4000417025005:EN'") + 1] == "QTY+21:12:C62'"


def test_line_numbers_are_the_orders() -> None:
    data = order_data()
    for line, number in zip(data["lines"], (10, 20, 30)):
        line["line_no"] = number
    assert [t for t in lines_of(write(data)) if t.startswith("LIN")] == [
        "LIN+10++4006381333931:EN'", "LIN+20'", "LIN+30++4000417025005:EN'"]


def test_without_tax_there_is_no_tax_amount() -> None:
    data = order_data(totals={"net": "47.98", "gross": "47.98"})
    assert [t for t in lines_of(write(data)) if t.startswith("MOA")] == ["MOA+79:47.98'", "MOA+86:47.98'"]


def test_numbers_are_plain() -> None:
    data = order_data(lines=[{"sku": "X", "quantity": Decimal("1E+2"), "unit_price": Decimal("0.500000")}], totals={"net": "50.00", "gross": "50"})
    text = lines_of(write(data))
    assert "QTY+21:100:C62'" in text and "PRI+AAA:0.5'" in text and "MOA+79:50'" in text


def test_unb_options() -> None:
    unb = lines_of(write(application_reference="ORDERS", acknowledgement_request=True, test_indicator=True,
                         sender_qualifier=None, recipient_qualifier="ZZ"))[1]
    assert unb == "UNB+UNOC:3+4012345000009+4098765000003:ZZ+260301:1105+17++ORDERS++1++1'"


def test_eancom_2002_codes_and_no_descriptions() -> None:
    text = lines_of(write(gtin_type="SRV", association_code="EAN010", message_release="01B", descriptions=False))
    assert "UNH+1+ORDERS:D:01B:UN:EAN010'" in text and "LIN+1++4006381333931:SRV'" in text
    assert not [t for t in text if t.startswith("IMD")]


def test_a_unit_can_be_left_out() -> None:
    assert "QTY+21:2'" in lines_of(write(unit_codes={"C62": ""}))


def test_one_long_line() -> None:
    data = write(newline=False)
    assert b"\n" not in data and data.startswith(b"UNA:+.? 'UNB+")


def test_line_breaks_in_text_become_spaces() -> None:
    data = order_data()
    data["lines"][0]["description"] = "two\r\nlines\tand a tab"
    assert "IMD+F++:::two lines and a tab'" in lines_of(write(data))


# --- what cannot be written faithfully ------------------------------------------------------------------


def test_text_outside_latin_1_is_rejected_not_garbled() -> None:
    data = order_data()
    data["lines"][1]["description"] = "Tee aus 東京"
    issue = rejection(data)
    assert (issue.code, issue.location.field) == ("edifact-charset", "lines[1].description")
    assert "U+6771" in issue.message and "UNOC" in issue.message


def test_c1_control_characters_are_rejected() -> None:
    issue = rejection(order_data(billing_address={"name": "A\x85B"}))
    assert (issue.code, issue.location.field) == ("edifact-charset", "billing_address.name")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"order_id": "X" * 36}, "order_id"),
        ({"customer_id": "C" * 36}, "customer_id"),
        ({"lines": [{"sku": "S" * 36, "quantity": "1", "unit_price": "1"}], "totals": {"net": "1", "gross": "1"}}, "lines[0].sku"),
        ({"lines": [{"sku": "S", "quantity": "1234567890123.456", "unit_price": "0"}], "totals": {"net": "0", "gross": "0"}},
         "lines[0].quantity"),
        ({"lines": [{"sku": "S", "line_no": 1234567, "quantity": "1", "unit_price": "1"}], "totals": {"net": "1", "gross": "1"}},
         "lines[0].line_no"),
        ({"billing_address": {"name": "N" * 176}}, "billing_address.name"),
        ({"shipping_address": {"street": "S" * 141}}, "shipping_address.street"),
        ({"shipping_address": {"city": "C" * 36}}, "shipping_address.city"),
        ({"shipping_address": {"postal_code": "1234567890"}}, "shipping_address.postal_code"),
    ],
)
def test_too_long_is_rejected(changes: dict[str, Any], field: str) -> None:
    issue = rejection(order_data(**changes))
    assert (issue.code, issue.location.field) == ("edifact-too-long", field)


def test_names_use_every_component_before_they_overflow() -> None:
    name = "".join(str(n % 10) for n in range(175))
    nad = next(t for t in lines_of(write(order_data(billing_address={"name": name}))) if t.startswith("NAD+BY"))
    assert nad == "NAD+BY+4012345000016::9++" + ":".join(name[i : i + 35] for i in range(0, 175, 35)) + "'"


def test_truncate_cuts_text_with_a_warning_but_never_ids() -> None:
    issues: list[Issue] = []
    config = OrdersConfig.model_validate({**CONFIG.model_dump(), "overflow": "truncate"})
    order = Order.model_validate(order_data(billing_address={"name": "N" * 200}))
    text = write_orders(order, config, "17", NOW, issues=issues).decode("latin-1")
    assert "NAD+BY+4012345000016::9++" + ":".join(["N" * 35] * 5) + "'" in text
    assert [(i.code, i.severity, i.location.field) for i in issues] == [("edifact-truncated", "warning", "billing_address.name")]
    with pytest.raises(InputRejected):
        write_orders(Order.model_validate(order_data(order_id="X" * 36)), config, "17", NOW)


def test_without_an_issue_list_warnings_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    config = OrdersConfig.model_validate({**CONFIG.model_dump(), "overflow": "truncate"})
    write_orders(Order.model_validate(order_data(billing_address={"name": "N" * 200})), config, "17", NOW)
    assert [r.levelname for r in caplog.records] == ["WARNING"] and "billing_address.name" in caplog.text


@pytest.mark.parametrize(
    "changes",
    [
        {"sender_id": ""}, {"sender_id": "with space"}, {"recipient_id": "R" * 36}, {"timezone": "Mars/Olympus"},
        {"gtin_type": "toolong"}, {"charset": "UNOB"}, {"decimal_mark": ";"}, {"colour": "red"},
        {"application_reference": "A" * 15}, {"unit_codes": {"C62": "PIECE"}}, {"sender_qualifier": "with space"},
        {"association_code": "EAN0080"},
    ],
)
def test_bad_config(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        OrdersConfig.model_validate({**CONFIG.model_dump(), **changes})


def test_config_documents_every_field() -> None:
    properties = OrdersConfig.model_json_schema()["properties"]
    assert all(spec.get("description") for spec in properties.values())


def test_control_reference_must_fit_unb_0020() -> None:
    with pytest.raises(ValueError, match="control reference"):
        write_orders(Order.model_validate(order_data()), CONFIG, "123456789012345", NOW)


# --- any order round-trips through pydifact's parser ----------------------------------------------------

_LATIN_1 = st.sampled_from(list(":+?'* .,\\/&%\"ÄÖÜäöüßéèçñøÅ") + [chr(c) for c in range(0x21, 0x7F)] + [chr(c) for c in range(0xA0, 0x100)])
_ANY = st.one_of(_LATIN_1, st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")))


def _ids(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=1, max_size=35).filter(lambda s: s == s.strip(" ") and s.strip())


def orders(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[Order]:
    text = st.text(alphabet=alphabet, min_size=1, max_size=120)
    # NAD (EANCOM ORDERS): a name of up to 5 x 35 characters (C080 3036), a city of 35 (3164).
    return orders_of(text, _ids(alphabet), times=st.just(NOW), names=st.text(alphabet=alphabet, min_size=1, max_size=100),
                     cities=st.text(alphabet=alphabet, min_size=1, max_size=35), tax=False, units=("C62",))


def via_pydifact(data: bytes, codec: str) -> list[tuple[str, list[list[str]]]]:
    """The segments as pydifact's parser reads them, each element as its list of components."""
    return [(tag, [e if isinstance(e, list) else [e] for e in elements]) for tag, elements in read_with_pydifact(data.decode(codec))]


def via_our_reader(data: bytes, codec: str) -> list[tuple[str, list[list[str]]]]:
    """The segments as our own reader (envelope.read_interchanges) reads them, without issues."""
    envelope = pytest.importorskip("exchanged.formats.edifact.envelope")
    file = envelope.read_interchanges(data)
    messages = list(file.messages())
    assert not file.issues and [(m.rejected, m.issues) for m in messages] == [(False, [])]
    return [(segment.tag, segment.elements) for segment in messages[0].segments]


def read_back(segments: list[tuple[str, list[list[str]]]], mark: str) -> dict[str, Any]:
    """The order's facts as a partner's reader sees them."""
    found: dict[str, Any] = {"lines": []}
    for tag, parts in segments:
        if tag == "BGM":
            found["order_id"] = parts[1][0]
        elif tag == "NAD" and parts[0] == ["BY"]:
            found["customer_id"], found["name"] = parts[1][0], "".join(parts[3])
        elif tag == "LIN":
            found["lines"].append({"gtin": parts[2][0] if len(parts) > 2 else None, "sku": None, "description": None})
        elif tag == "PIA":
            found["lines"][-1]["sku"] = parts[1][0]
        elif tag == "IMD":
            found["lines"][-1]["description"] = (found["lines"][-1]["description"] or "") + "".join(parts[2][3:])
        elif tag in ("QTY", "PRI"):
            found["lines"][-1][tag] = Decimal(parts[0][1].replace(mark, "."))
    return found


def expected(order: Order) -> dict[str, Any]:
    assert order.billing_address is not None
    return {
        "order_id": order.order_id, "customer_id": order.customer_id, "name": order.billing_address.name,
        "lines": [{"gtin": line.gtin, "sku": line.sku, "description": line.description, "QTY": line.quantity,
                   "PRI": line.unit_price} for line in order.lines],
    }


READERS = [pytest.param(via_pydifact, id="pydifact"), pytest.param(via_our_reader, id="read_interchanges")]

# Our reader flags a typographic apostrophe before "TAG+" as a pasted-over segment terminator
# (edifact-lookalike-terminator, an error) even where the writer produced valid data such as a
# party name ending in "’BGM", and U+FFFD as destroyed text (a warning): text with those characters
# round-trips through pydifact only.
_READER_HEURISTICS = "\u2018\u2019\u00b4`\ufffd"


def alphabet_for(reader: Any, alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return alphabet.filter(lambda c: c not in _READER_HEURISTICS) if reader is via_our_reader else alphabet


@pytest.mark.parametrize("reader", READERS)
@settings(max_examples=100, deadline=None)
@given(data=st.data(), mark=st.sampled_from(".,"))
def test_any_latin_1_order_round_trips(reader: Any, data: st.DataObject, mark: str) -> None:
    order = data.draw(orders(alphabet_for(reader, _LATIN_1)))
    config = OrdersConfig.model_validate({**CONFIG.model_dump(), "decimal_mark": mark})
    written = write_orders(order, config, "17", NOW)
    assert read_back(reader(written, "latin-1"), mark) == expected(order)


@pytest.mark.parametrize("reader", READERS)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_any_unicode_order_round_trips_as_utf8(reader: Any, data: st.DataObject) -> None:
    order = data.draw(orders(alphabet_for(reader, _ANY)))
    config = OrdersConfig.model_validate({**CONFIG.model_dump(), "charset": "UNOY"})
    written = write_orders(order, config, "17", NOW)
    assert read_back(reader(written, "utf-8"), ".") == expected(order)
