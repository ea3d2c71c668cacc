"""Specification of the CSV reader and writer (exchanged.formats.csv)."""

from __future__ import annotations


import pyarrow as pa
import pytest

from exchanged.errors import InputRejected
from exchanged.formats.csv import (
    MAX_ISSUES,
    CsvDialect,
    CsvOptions,
    read_csv,
    read_header,
    sniff_dialect,
    write_csv,
)

from csv_helpers import BOM, ragged, rejection, rows_of


# --- detection ------------------------------------------------------------------------------------

def test_semicolon_with_decimal_comma():
    src = read_csv(b"sku;price;name\n001;1,50;Schraube, rot\n002;12,75;Mutter\n")
    assert src.dialect.delimiter == ";"
    assert src.table.column_names == ["sku", "price", "name"]
    assert rows_of(src) == [["001", "1,50", "Schraube, rot"], ["002", "12,75", "Mutter"]]


def test_semicolon_wins_when_every_line_also_has_one_comma():
    src = read_csv(b"Preis (EUR, netto);Menge\n1,50;3\n2,75;4\n")
    assert src.dialect.delimiter == ";"
    assert rows_of(src) == [["1,50", "3"], ["2,75", "4"]]


def test_tab_and_pipe():
    tab = read_csv(b"sku\tname\n01\tA, B; C\n02\tD|E\n")
    assert tab.dialect.delimiter == "\t"
    assert rows_of(tab) == [["01", "A, B; C"], ["02", "D|E"]]
    pipe = read_csv(b"sku|name|qty\n01|A, B|3\n02|C;D|4\n")
    assert pipe.dialect.delimiter == "|"
    assert rows_of(pipe) == [["01", "A, B", "3"], ["02", "C;D", "4"]]


def test_quoted_delimiters_do_not_count():
    src = read_csv(b'id,text\n1,"a;b;c"\n2,"d;e;f"\n3,"x;y;z"\n')
    assert src.dialect.delimiter == ","
    assert rows_of(src) == [["1", "a;b;c"], ["2", "d;e;f"], ["3", "x;y;z"]]


def test_single_column_keeps_leading_zeros():
    src = read_csv(b"value\n01\n002\n00003")
    assert src.dialect.delimiter == ","
    assert src.table.column_names == ["value"]
    assert src.table.schema.types == [pa.string()]
    assert rows_of(src) == [["01"], ["002"], ["00003"]]
    assert src.lines.to_pylist() == [2, 3, 4]
    assert src.rows.to_pylist() == [1, 2, 3]


def test_every_column_is_text_and_only_empty_cells_are_null():
    src = read_csv(b'gtin,qty,country,note,flag\n04006381333931,1e3,NA,"",true\n,0010,NULL,  padded  ,N/A\n')
    assert src.table.schema.types == [pa.string()] * 5
    assert rows_of(src) == [["04006381333931", "1e3", "NA", None, "true"],
                            [None, "0010", "NULL", "  padded  ", "N/A"]]


def test_utf8_bom_is_stripped_and_reported():
    src = read_csv(BOM + "id,name\n1,english\n2,中国人\n".encode())
    assert src.table.column_names == ["id", "name"]
    assert rows_of(src)[1] == ["2", "中国人"]
    assert (src.dialect.encoding, src.dialect.bom) == ("utf-8-sig", True)


def test_cp1252_umlauts_detected_without_issue():
    data = "Größe;Farbe;Preis\nXL;grün;9,99 €\n".encode("cp1252")
    src = read_csv(data)
    assert (src.dialect.encoding, src.dialect.bom) == ("cp1252", False)
    assert src.table.column_names == ["Größe", "Farbe", "Preis"]
    assert rows_of(src) == [["XL", "grün", "9,99 €"]]
    assert src.issues == []


def test_non_ascii_late_in_the_file_still_decides_the_encoding():
    data = b"sku;name\n" + b"".join(b"%06d;Schraube\n" % i for i in range(20000)) + "9;Dübel\n".encode("cp1252")
    assert len(data) > 128 * 1024
    src = read_csv(data)
    assert src.dialect.encoding == "cp1252"
    assert rows_of(src)[-1] == ["9", "Dübel"]


def test_bytes_undefined_in_cp1252_fall_back_to_latin1_with_a_warning():
    src = read_csv(b"sku;name\n1;Gr\xf6\xdfe\n2;x\x81y\n")
    assert src.dialect.encoding == "latin-1"
    assert rows_of(src) == [["1", "Größe"], ["2", "x\x81y"]]
    assert [(i.code, i.severity, i.location.line) for i in src.issues] == [("encoding-fallback", "warning", 3)]


def test_declared_encoding_that_does_not_decode_is_rejected_naming_the_line():
    data = "sku;name\n1;ok\n2;Größe\n".encode("cp1252")
    issue = rejection(data, CsvOptions(encoding="utf-8")).issue
    assert (issue.code, issue.location.line) == ("invalid-encoding", 3)
    issue = rejection(b"a;b\n1;2\n3;\x81\n", CsvOptions(encoding="cp1252")).issue
    assert (issue.code, issue.location.line) == ("invalid-encoding", 3)
    # a UTF-8 BOM declares UTF-8 as well
    issue = rejection(BOM + b"a;b\n1;\xfc\n").issue
    assert (issue.code, issue.location.line) == ("invalid-encoding", 2)


def test_declared_encoding_is_used_and_reported_as_given():
    src = read_csv("a;b\n1;ä\n".encode("cp1252"), CsvOptions(encoding="windows-1252", delimiter=";"))
    assert (src.dialect.encoding, rows_of(src)) == ("windows-1252", [["1", "ä"]])
    src = read_csv(BOM + b"a,b\n1,2\n", CsvOptions(encoding="utf-8"))
    assert (src.dialect.encoding, src.dialect.bom, src.table.column_names) == ("utf-8-sig", True, ["a", "b"])


def test_utf16_with_bom_from_excel_unicode_text():
    data = "sku\tname\n01\tGröße\n".encode("utf-16")
    src = read_csv(data)
    assert (src.dialect.encoding, src.dialect.bom, src.dialect.delimiter) == ("utf-16", True, "\t")
    assert rows_of(src) == [["01", "Größe"]]


def test_crlf_and_no_final_newline():
    src = read_csv(b"a,b\r\n1,2\r\n3,4")
    assert src.dialect.line_terminator == "\r\n"
    assert rows_of(src) == [["1", "2"], ["3", "4"]]
    assert src.lines.to_pylist() == [2, 3]
    assert read_csv(b"a,b\n1,2\n").dialect.line_terminator == "\n"


def test_classic_mac_line_ends():
    src = read_csv(b"a;b\r1;2\r3;4\r")
    assert (src.dialect.line_terminator, rows_of(src), src.lines.to_pylist()) == (
        "\r", [["1", "2"], ["3", "4"]], [2, 3])


def test_trailing_blank_lines_are_ignored():
    src = read_csv(b"a,b\n1,2\n\n\r\n\n")
    assert rows_of(src) == [["1", "2"]]
    assert src.issues == []


def test_header_on_line_2_after_a_metadata_record():
    data = b'"EXTF";700;21;"Buchungsstapel"\nUmsatz;Konto;Text\n24,95;1200;"a"\n5950,00;10000;"b"\n'
    src = read_csv(data, CsvOptions(header_line=2))
    assert src.dialect.header_line == 2
    assert src.table.column_names == ["Umsatz", "Konto", "Text"]
    assert rows_of(src) == [["24,95", "1200", "a"], ["5950,00", "10000", "b"]]
    assert src.lines.to_pylist() == [3, 4]
    assert src.rows.to_pylist() == [1, 2]


def test_header_on_line_5_and_footer_lines():
    data = (b"Bank code : 1001,Agency : 2\nAccount : 0808,Name : X\n,,,\nBalance,,,\"+1,00\"\n"
            b"Date,Label,Debit,Credit\n01/04/20,L1,\"-50,00\",\n02/04/20,L2,,\"1300,00\"\n"
            b"Total,,,\"+2,00\"\nGenerated by bank\n\n")
    src = read_csv(data, CsvOptions(header_line=5, skip_footer_lines=2))
    assert src.table.column_names == ["Date", "Label", "Debit", "Credit"]
    assert rows_of(src) == [["01/04/20", "L1", "-50,00", None], ["02/04/20", "L2", None, "1300,00"]]
    assert src.lines.to_pylist() == [6, 7]
    assert src.issues == []


def test_blank_lines_before_the_header_are_skipped():
    src = read_csv(b"\n\r\nsku,name\n1,a\n")
    assert (src.dialect.header_line, src.table.column_names, src.lines.to_pylist()) == (3, ["sku", "name"], [4])


def test_quoted_multiline_values_keep_physical_line_numbers():
    data = (b'sku,description,qty\n'
            b'1,"first\nsecond\nthird",5\n'
            b'2,plain,6\n'
            b'3,"crlf\r\ninside ""quoted""",7\n'
            b'4,"",8\n')
    src = read_csv(data)
    assert rows_of(src) == [["1", "first\nsecond\nthird", "5"], ["2", "plain", "6"],
                            ["3", 'crlf\r\ninside "quoted"', "7"], ["4", None, "8"]]
    assert src.lines.to_pylist() == [2, 5, 6, 8]
    assert src.rows.to_pylist() == [1, 2, 3, 4]


def test_quoted_multiline_header():
    src = read_csv(b'"Artikel\nnummer",Name\n1,a\n2,b\n')
    assert src.table.column_names == ["Artikel\nnummer", "Name"]
    assert src.lines.to_pylist() == [3, 4]


def test_blank_lines_between_records_are_not_records():
    data = b'a,b\n1,2\n\n3,"x\n\ny"\n\n\n4,5\n'
    src = read_csv(data)
    assert rows_of(src) == [["1", "2"], ["3", "x\n\ny"], ["4", "5"]]
    assert src.lines.to_pylist() == [2, 4, 9]
    assert src.rows.to_pylist() == [1, 2, 3]


def test_ragged_rows_are_dropped_and_reported_with_line_and_row():
    data = (b'id,name,age\n'
            b'1,John\n'                     # line 2, row 1: too few
            b'2,"Julie\nSmith",26\n'        # lines 3-4, row 2
            b'3,Jim,27,Potatoes\n'          # line 5, row 3: too many
            b'\n'                           # line 6: blank, not a record
            b'4,"Ann",28\n'                 # line 7, row 4
            b'5,"multi\nline",29,extra\n'   # lines 8-9, row 5: too many
            b'6,Bo,30')                     # line 10, row 6
    src = read_csv(data)
    assert rows_of(src) == [["2", "Julie\nSmith", "26"], ["4", "Ann", "28"], ["6", "Bo", "30"]]
    assert src.lines.to_pylist() == [3, 7, 10]
    assert src.rows.to_pylist() == [2, 4, 6]
    assert ragged(src) == [("ragged-row", 2, 1), ("ragged-row", 5, 3), ("ragged-row", 8, 5)]
    assert [i.message for i in src.issues] == ["expected 3 fields, found 2", "expected 3 fields, found 4",
                                               "expected 3 fields, found 4"]
    assert all(i.severity == "error" for i in src.issues)


def test_ragged_issues_are_capped_and_counted():
    data = b"a,b\n" + b"1,2,3\n" * (MAX_ISSUES + 5) + b"4,5\n"
    src = read_csv(data)
    assert len(src.issues) == MAX_ISSUES
    assert src.issues_truncated == 5
    assert (rows_of(src), src.lines.to_pylist(), src.rows.to_pylist()) == (
        [["4", "5"]], [MAX_ISSUES + 7], [MAX_ISSUES + 6])


def test_duplicate_header_is_rejected_naming_the_column():
    issue = rejection(b"sku;name; sku \n1;a;1\n").issue
    assert (issue.code, issue.location.field, issue.location.column, issue.location.line) == (
        "duplicate-column", "sku", 3, 1)
    assert "sku" in issue.message
    with pytest.raises(InputRejected, match="duplicate-column"):
        read_header(b"x,y,x\n")


def test_header_names_are_stripped_and_empty_ones_named_by_position():
    src = read_csv(b" sku ;\tname;;price;\n1;a;b;2;c\n")
    assert src.table.column_names == ["sku", "name", "column_3", "price", "column_5"]
    assert src.issues == []


def test_headerless_files_get_positional_or_given_names():
    data = b'102561333,10,"018679"\r\n102561334,20,"0001"\r\n'
    src = read_csv(data, CsvOptions(header_line=0))
    assert src.table.column_names == ["1", "2", "3"]
    assert rows_of(src)[0] == ["102561333", "10", "018679"]
    assert src.lines.to_pylist() == [1, 2]
    named = read_csv(data, CsvOptions(header_line=0, column_names=("invoice", "line", "article")))
    assert named.table.column_names == ["invoice", "line", "article"]
    assert read_header(data, CsvOptions(header_line=0, column_names=("a", "b", "c"))) == ["a", "b", "c"]


def test_headerless_file_with_leading_blank_lines_keeps_physical_lines():
    src = read_csv(b"\n\r\n1,2\n\n3,4\n", CsvOptions(header_line=0))
    assert (rows_of(src), src.lines.to_pylist(), src.rows.to_pylist()) == ([["1", "2"], ["3", "4"]], [3, 5], [1, 2])


def test_hostile_headers_are_rejected_not_parsed():
    assert rejection(b"," * 20_000 + b"\n1\n").issue.code == "too-many-columns"
    assert rejection(b'a,"' + b"x" * 200_000 + b'"\n1,2\n').issue.code == "malformed-header"
    src = read_csv(b"a,b\n1,2\nfooter\n", CsvOptions(skip_footer_lines=10**9, header_line=0))
    assert src.table.num_rows == 0


def test_a_bom_beats_a_declared_single_byte_encoding():
    src = read_csv(BOM + "a;b\n1;ä\n".encode(), CsvOptions(encoding="cp1252"))
    assert (src.dialect.encoding, rows_of(src)) == ("utf-8-sig", [["1", "ä"]])
    assert [(i.code, i.severity) for i in src.issues] == [("encoding-fallback", "warning")]


def test_header_only_file_has_no_rows():
    src = read_csv(b"sku,name\n")
    assert (src.table.num_rows, src.table.column_names, src.lines.to_pylist()) == (0, ["sku", "name"], [])
    assert src.table.schema.types == [pa.string(), pa.string()]


@pytest.mark.parametrize("data", [b"", b"\n\r\n  \n", BOM])
def test_empty_file_is_rejected(data):
    assert rejection(data).issue.code == "empty-file"


def test_header_line_past_the_end_is_rejected():
    assert rejection(b"a,b\n1,2\n", CsvOptions(header_line=5)).issue.code == "missing-header"


def test_size_limit():
    data = b"a,b\n" + b"1,2\n" * 100
    assert read_csv(data, CsvOptions(max_bytes=len(data))).table.num_rows == 100
    for call in (read_csv, read_header, sniff_dialect):
        with pytest.raises(InputRejected) as caught:
            call(data, CsvOptions(max_bytes=len(data) - 1))
        assert caught.value.issue.code == "file-too-large"


def test_unterminated_quote_is_reported_not_read_as_a_value():
    src = read_csv(b'a,b\n1,2\n3,"never closed\n4,5\n6,7\n')
    assert rows_of(src) == [["1", "2"]]
    assert ragged(src) == [("unterminated-quote", 3, 2)]
    big = b"a,b\n1,2\n3,\"" + b"x" * 200_000 + b"\n4,5\n"  # larger than the csv module's field limit
    assert ragged(read_csv(big)) == [("unterminated-quote", 3, 2)]
    closed = read_csv(b'a,b\n1,"multi\nline"\n')
    assert (rows_of(closed), closed.issues) == ([["1", "multi\nline"]], [])


def test_read_header_only_decodes_the_beginning():
    data = b"sku;name\n" + b"1;a\n" * 40000 + b"2;\xff\n"
    assert read_header(data, CsvOptions(encoding="utf-8")) == ["sku", "name"]
    assert rejection(data, CsvOptions(encoding="utf-8")).issue.code == "invalid-encoding"


def test_read_header_agrees_with_read_csv_on_a_deep_header():
    data = b"".join(b"# preamble line %d\n" % i for i in range(5000)) + b"a|b\n1|2\n"
    options = CsvOptions(header_line=5001)
    assert read_header(data, options) == ["a", "b"] == read_csv(data, options).table.column_names


def test_sniff_dialect():
    data = "Größe;Farbe\r\nXL;grün\r\n".encode("cp1252")
    assert sniff_dialect(data) == CsvDialect(encoding="cp1252", delimiter=";", quotechar='"', header_line=1,
                                             bom=False, line_terminator="\r\n")


def test_explicit_delimiter_and_quotechar():
    src = read_csv(b"a,b;c\n'x;y';\"2\"\n", CsvOptions(delimiter=";", quotechar="'"))
    assert (src.table.column_names, rows_of(src)) == (["a,b", "c"], [["x;y", '"2"']])
    unquoted = read_csv(b'a;b\n"x";2\n', CsvOptions(quotechar=""))
    assert (unquoted.dialect.delimiter, rows_of(unquoted)) == (";", [['"x"', "2"]])


@pytest.mark.parametrize("kwargs", [dict(delimiter=",,"), dict(delimiter="\n"), dict(header_line=-1),
                                    dict(encoding="no-such-codec"), dict(column_names=("a",), header_line=1)])
def test_invalid_options(kwargs):
    with pytest.raises(ValueError):
        CsvOptions(**kwargs)


def test_large_file_takes_the_columnar_path():
    n = 200_000
    body = b"".join(b'%07d,"name %d",%d.50\n' % (i, i, i) for i in range(n))
    src = read_csv(b"sku,name,price\n" + body)
    assert src.table.num_rows == n
    assert src.lines[-1].as_py() == n + 1 and src.rows[-1].as_py() == n
    assert src.table.column("sku")[0].as_py() == "0000000"


# --- writer ---------------------------------------------------------------------------------------

def test_writer_quotes_only_what_needs_it():
    table = pa.table({"sku": ["001", "002", None], "text": ['a "b"', " lead", "x,y"],
                      "more": ["multi\nline", "", "plain"]})
    assert write_csv(table) == (b'sku,text,more\n001,"a ""b""","multi\nline"\n'
                                b'002," lead",\n,"x,y",plain\n')


def test_writer_dialects():
    table = pa.table({"Größe": ["XL"], "Preis": ["9,99"]})
    out = write_csv(table, CsvDialect(encoding="cp1252", delimiter=";", line_terminator="\r\n"))
    assert out == "Größe;Preis\r\nXL;\"9,99\"\r\n".encode("cp1252")
    assert write_csv(table, CsvDialect(encoding="utf-8", bom=True)).startswith(BOM)
    assert write_csv(table, CsvDialect(header_line=0)) == b'XL,"9,99"\n'


def test_writer_one_column_nulls_stay_on_the_line():
    out = write_csv(pa.table({"v": ["a", None, ""]}))
    assert out == b'v\na\n""\n""\n'
    assert rows_of(read_csv(out)) == [["a"], [None], [None]]


def test_writer_casts_other_types():
    out = write_csv(pa.table({"n": pa.array([1, None], pa.int64()), "ok": [True, False]}))
    assert out == b"n,ok\n1,true\n,false\n"


def test_writer_rejects_characters_the_encoding_lacks():
    with pytest.raises(InputRejected) as caught:
        write_csv(pa.table({"name": ["ok", "中"]}), CsvDialect(encoding="cp1252"))
    assert (caught.value.issue.code, caught.value.issue.location.line) == ("unencodable-character", 3)
