"""formats/xml/safe.py: nothing fetched or expanded, bombs refused fast, syntax errors located, streaming."""

from __future__ import annotations

import http.server
import resource
import threading
import time
from pathlib import Path

import pytest

from exchanged.errors import InputRejected
from exchanged.formats.xml import iter_elements, root_of

NS = "http://www.bmecat.org/bmecat/2005"


def catalog(products: int, *, doctype: str = "", encoding: str = "UTF-8", names: str = "Schraube") -> bytes:
    body = "".join(f"<PRODUCT><SUPPLIER_PID>P{n}</SUPPLIER_PID><DESCRIPTION_SHORT>{names} {n} &amp; Co"
                   f"</DESCRIPTION_SHORT></PRODUCT>" for n in range(products))
    return (f'<?xml version="1.0" encoding="{encoding}"?>\n{doctype}'
            f'<BMECAT xmlns="{NS}" version="2005"><T_NEW_CATALOG>{body}</T_NEW_CATALOG></BMECAT>\n').encode(encoding)


def pids(data: bytes) -> list[str]:
    return [e.findtext(f"{{{NS}}}SUPPLIER_PID") for e in iter_elements(data, f"{{{NS}}}PRODUCT")]


def rejected(data: bytes) -> tuple[str, int | None]:
    with pytest.raises(InputRejected) as caught:
        pids(data)
    return caught.value.issue.code, caught.value.issue.location.line


def test_a_doctype_naming_an_external_dtd_is_ignored_and_never_fetched(tmp_path: Path) -> None:
    fetched: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            fetched.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY x "y">')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/bmecat_2005.dtd"
        data = catalog(2, doctype=f'<!DOCTYPE BMECAT SYSTEM "{url}">\n')
        assert pids(data) == ["P0", "P1"]
        assert root_of(data) == ("BMECAT", NS)
    finally:
        server.shutdown()
        server.server_close()
    assert fetched == []


@pytest.mark.parametrize(("name", "doctype", "use"), [
    ("xxe file", '<!DOCTYPE BMECAT [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n', "&secret;"),
    ("xxe network", '<!DOCTYPE BMECAT [<!ENTITY net SYSTEM "http://127.0.0.1:9/x">]>\n', "&net;"),
    ("billion laughs", "<!DOCTYPE BMECAT [<!ENTITY a \"lol\">" + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + "]>\n", "&j;"),
    ("quadratic blowup", '<!DOCTYPE BMECAT [<!ENTITY big "' + "x" * 50_000 + '">]>\n', "&big;" * 50_000),
    ("parameter entity", '<!DOCTYPE BMECAT [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>\n', ""),
])
def test_a_file_that_declares_entities_is_refused_fast_with_little_memory(name: str, doctype: str, use: str) -> None:
    data = catalog(1, doctype=doctype).replace(b"Schraube 0", use.encode() + b" 0")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    assert rejected(data) == ("xml-unsafe", 2)
    assert time.perf_counter() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB


def test_a_reference_to_an_undeclared_entity_is_unsafe_but_not_inside_cdata_or_comments() -> None:
    assert rejected(catalog(1).replace(b"Schraube", b"Schraube &micro;")) == ("xml-unsafe", 2)
    assert pids(catalog(1).replace(b"Schraube", b"Schraube <![CDATA[&micro; <b>]]> <!-- &x; -->")) == ["P0"]
    assert pids(catalog(1).replace(b"Schraube", b"&amp;micro; &#181; &#xB5;")) == ["P0"]  # escaped, char refs


def test_a_syntax_error_is_located_by_line_and_column() -> None:
    data = b'<?xml version="1.0"?>\n<BMECAT>\n  <PRODUCT>\n  </PRODUKT>\n</BMECAT>\n'
    with pytest.raises(InputRejected) as caught:
        list(iter_elements(data, "PRODUCT"))
    issue = caught.value.issue
    assert (issue.code, issue.location.line) == ("xml-syntax", 4)
    assert issue.location.column is not None and "PRODUKT" in issue.message


def test_nesting_deeper_than_the_parser_limit_is_refused() -> None:
    data = b"<a>" * 20_000 + b"x" + b"</a>" * 20_000
    with pytest.raises(InputRejected) as caught:
        list(iter_elements(data, "b"))
    assert caught.value.issue.code == "xml-syntax" and "depth" in caught.value.issue.message.lower()


@pytest.mark.parametrize("encoding", ["UTF-8", "ISO-8859-1", "UTF-16"])
def test_the_declared_encoding_and_the_bom_are_honoured(encoding: str) -> None:
    data = catalog(1, encoding=encoding, names="Größe Ø")
    texts = [e.findtext(f"{{{NS}}}DESCRIPTION_SHORT") for e in iter_elements(data, f"{{{NS}}}PRODUCT")]
    assert texts == ["Größe Ø 0 & Co"]
    bom = b"\xef\xbb\xbf" + catalog(1)
    assert pids(bom) == ["P0"]


def test_elements_are_cleared_as_they_stream_so_memory_stays_flat() -> None:
    def peak_of(products: int) -> int:
        data = catalog(products)
        kept = 0
        for element in iter_elements(data, f"{{{NS}}}PRODUCT"):
            kept = max(kept, len(element.getparent()))
        return kept

    # The parser reads ahead a buffer's worth of elements; what was handed over is gone: the tree
    # holds as many elements for 40,000 products as for 10,000.
    small, large = peak_of(10_000), peak_of(40_000)
    assert large <= small + 10 and large < 1000
