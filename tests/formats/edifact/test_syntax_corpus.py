"""The syntax layer on every file of ../shared/corpus/edifact (skipped when the corpus is absent).

Each file has a golden JSON in ``golden/syntax/<stem>.json``: interchanges, messages and the sorted
issue codes with their segment tag, index and line. Regenerate with ``EXCHANGED_REGEN_GOLDEN=1``, then
review each change against corpus/PROVENANCE.md: :data:`EXPECTED` pins the codes of the broken files
by hand, so a regenerated golden cannot bless a regression on its own.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from exchanged.formats.edifact.envelope import read_interchanges

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "edifact"
GOLDEN = Path(__file__).resolve().parent / "golden" / "syntax"
FILES = sorted(p.name for p in CORPUS.glob("*.edi")) if CORPUS.is_dir() else []
pytestmark = [pytest.mark.corpus, pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not present at {CORPUS}")]

# file -> every issue code it must produce (exactly), from its PROVENANCE entry; files not listed: none.
EXPECTED: dict[str, set[str]] = {
    # duplicate UNH 0062 in one interchange (both invoices are 111425)
    "bots_INVOIC_D96A_EAN008_UNOC_allowances-tax.edi": {"edifact-duplicate-message-ref"},
    "bots_ORDERS_D96A_EAN008_garbage-lines-before-UNB.edi": {"edifact-junk-before-interchange"},
    "edifabric_INVOIC_D00A_INVALID-FNB-instead-of-UNB.edi": {"edifact-no-interchange"},
    # UNT 41 vs 40, two messages without UNT, UNZ 1/'1' vs 5 messages/131; ß under UNOB; same 0062 x5
    "edifabric_INVOIC_D00A_INVALID-five-messages-garbage.edi": {
        "edifact-segment-count", "edifact-missing-unt", "edifact-interchange-count",
        "edifact-interchange-ref-mismatch", "edifact-charset-repertoire", "edifact-duplicate-message-ref"},
    "edifabric_INVOIC_D00A_INVALID-junk-after-UNZ.edi": {"edifact-junk-after-interchange",
                                                         "edifact-charset-repertoire"},
    "edifabric_INVOIC_D00A_INVALID-missing-UNZ_then-UNA-pipe.edi": {"edifact-missing-unz",
                                                                    "edifact-charset-repertoire"},
    # ß (0xDF) under UNOB: the whole edifabric INVOIC D00A family shares it
    "edifabric_INVOIC_D00A_INVALID-unknown-segment-BGL.edi": {"edifact-charset-repertoire"},
    "edifabric_INVOIC_D00A_UNA-pipe-element-separator.edi": {"edifact-charset-repertoire"},
    "edifabric_INVOIC_D00A_UNG-group_two-messages.edi": {"edifact-charset-repertoire",
                                                         "edifact-duplicate-message-ref"},
    "edifabric_INVOIC_D00A_UNOB1_base_latin1.edi": {"edifact-charset-repertoire"},
    "edifabric_INVOIC_D00A_escaped-segment-terminator.edi": {"edifact-charset-repertoire"},
    "edifabric_INVOIC_D00A_repetition-separator-star.edi": {"edifact-charset-repertoire"},
    "edifabric_INVOIC_D00A_trailing-blanks-after-terminator.edi": {"edifact-charset-repertoire"},
    "edifabric_INVOIC_D00A_utf8-BOM.edi": {"edifact-charset-mismatch"},  # the ß is UTF-8 here
    "estrato_ORDERS_D96A_EAN008_UNA-but-no-UNB.edi": {"edifact-no-interchange"},
    # two U+2019 terminators (UTF-8 under UNOC): segments run together, so UNT 21 vs 19; UNT+21:ME001236
    "koha_ORDRSP_D96A_EAN005_DEFECT-curly-quote-terminators.edi": {
        "edifact-lookalike-terminator", "edifact-charset-mismatch", "edifact-segment-count",
        "edifact-message-ref-mismatch"},
    "oca_ORDERS_D96A_EAN008_amazon-retail_sample1.edi": {"edifact-charset-repertoire"},  # lower case, UNOA
    "oca_ORDERS_D96A_EAN008_empty-LIN-ean_utf8-in-UNOC.edi": {"edifact-charset-mismatch",
                                                              "edifact-trailing-separator"},
    "oca_ORDERS_D96A_EAN008_no-PRI_UNT-count-wrong.edi": {"edifact-segment-count"},
    "oca_ORDERS_D96A_EAN008_template-placeholders.edi": {"edifact-charset-repertoire"},  # <Receiver GLN>
    "php-edifact_DESADV_D96A_UNOC1_utf8-char.edi": {"edifact-charset-mismatch"},
    "php-edifact_IFTMBC_D00B_UNOB_segment-split-across-lines.edi": {"edifact-segment-count"},
    "php-edifact_ORDERS_D01B_EAN010_INVALID-release-char.edi": {
        "edifact-invalid-release", "edifact-charset-mismatch", "edifact-replacement-character",
        "edifact-more-issues"},
    "php-edifact_ORDERS_D01B_EAN010_UNOC3_U+FFFD-mojibake.edi": {
        "edifact-charset-mismatch", "edifact-replacement-character", "edifact-more-issues"},
    "php-edifact_PAORES_release-character-torture.edi": {"edifact-segment-count", "edifact-unknown-charset"},
    "php-edifact_PAORES_single-line-wrapped.edi": {"edifact-unknown-charset"},  # IATB
    "pydifact_APERAK_D96A_syntax4_accepted.edi": {"edifact-segment-count", "edifact-charset-repertoire"},
    "pydifact_INFENT_D00B_sage-coala_junk-prefix_UNG-group.edi": {
        "edifact-junk-before-interchange", "edifact-segment-count", "edifact-unknown-charset"},
    "pydifact_INVOIC_D97A_trailing-component-separator.edi": {"edifact-trailing-separator"},
    # ANSI:1; '?.' releases a non-separator; UNB time written as its own element, so 0020 is '1623'
    "pydifact_MEDRPT_latin1_newlines-in-data.edi": {
        "edifact-unknown-charset", "edifact-invalid-release", "edifact-interchange-ref-mismatch"},
    "pydifact_ORDERS_D96A_EAN008_decimal-comma_no-UNZ.edi": {"edifact-missing-unz"},
    "pydifact_ORDERS_D96A_UNOC3_no-UNA_no-UNZ.edi": {"edifact-missing-unz"},
    "smooks_INVOIC_D96A_body-only_no-envelope_decimal-comma.edi": {"edifact-no-interchange"},
    "smooks_ORDERS_D03B_EAN008_INVALID-DTM-repeated-36x.edi": {"edifact-segment-count",
                                                               "edifact-charset-repertoire"},
    "smooks_ORDERS_D03B_EAN008_UNOA4_ISBN.edi": {"edifact-charset-repertoire"},
    "smooks_ORDERS_D96A_EAN008_UNOB4_ISBN-PIA_no-UNZ.edi": {"edifact-missing-unz"},
    "smooks_RECADV_D01B_EAN007_UNOA_with-UTF8-Chinese.edi": {
        "edifact-charset-mismatch", "edifact-charset-repertoire", "edifact-trailing-separator"},
}

# PROVENANCE's UNT figures: file -> (UNT 0074 as written, segments counted)
UNT_COUNTS = {
    "pydifact_APERAK_D96A_syntax4_accepted.edi": ("8", 7),
    "pydifact_INFENT_D00B_sage-coala_junk-prefix_UNG-group.edi": ("542", 97),
    "php-edifact_PAORES_release-character-torture.edi": ("14", 23),
    "php-edifact_IFTMBC_D00B_UNOB_segment-split-across-lines.edi": ("10", 7),
    "oca_ORDERS_D96A_EAN008_no-PRI_UNT-count-wrong.edi": ("267", 21),
    "smooks_ORDERS_D03B_EAN008_INVALID-DTM-repeated-36x.edi": ("22", 57),
    "edifabric_INVOIC_D00A_INVALID-five-messages-garbage.edi": ("41", 40),
}


def outcome(name: str) -> dict:
    f = read_interchanges((CORPUS / name).read_bytes())
    messages = list(f.messages())
    issues = [i for m in messages for i in m.issues] + f.issues
    return {
        "interchanges": [{"sender": s.header.sender, "control_ref": s.header.control_ref,
                          "syntax_id": s.header.syntax_id, "message_count": s.message_count, "ok": s.ok}
                         for s in f.interchanges],
        "messages": [{"type": f"{m.type}:{m.version}:{m.release}:{m.agency}:{m.association}", "ref": m.ref,
                      "segments": len(m.segments), "rejected": m.rejected} for m in messages],
        "issues": sorted([i.code, i.location.segment_tag, i.location.segment_index, i.location.line]
                         for i in issues),
    }


def dump(got: dict) -> str:
    """JSON with one issue (a list of scalars) per line, so that a diff of a golden reads well."""
    text = json.dumps(got, indent=1, ensure_ascii=False)
    return re.sub(r"\[\n\s+([^\[\]{}]*?)\n\s+\]", lambda m: "[" + re.sub(r",\n\s+", ", ", m.group(1)) + "]", text) + "\n"


def test_every_corpus_file_has_a_golden():
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(Path(n).stem for n in FILES)


@pytest.mark.parametrize("name", FILES)
def test_golden(name):
    got = outcome(name)
    path = GOLDEN / f"{Path(name).stem}.json"
    if os.environ.get("EXCHANGED_REGEN_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(got), encoding="utf-8")
    assert got == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", FILES)
def test_expected_codes(name):
    got = outcome(name)
    assert {code for code, *_ in got["issues"]} == EXPECTED.get(name, set())
    errors = any(code in {"edifact-no-interchange"} for code, *_ in got["issues"])
    assert not errors or all(m["rejected"] for m in got["messages"])


@pytest.mark.parametrize("name", sorted(UNT_COUNTS))
def test_unt_counts_match_provenance(name):
    declared, counted = UNT_COUNTS[name]
    f = read_interchanges((CORPUS / name).read_bytes())
    found = [(i.value, i.message) for m in f.messages() for i in m.issues if i.code == "edifact-segment-count"]
    assert found and found[0] == (declared, f"UNT 0074 says {declared!r} segments, the message has {counted}")


def test_the_broken_files_say_what_provenance_says():
    by_file = {n: outcome(n) for n in FILES}
    fnb = by_file["edifabric_INVOIC_D00A_INVALID-FNB-instead-of-UNB.edi"]
    assert fnb["issues"] == [["edifact-no-interchange", "FNB", None, 1]] and fnb["messages"][0]["rejected"]
    junk = by_file["edifabric_INVOIC_D00A_INVALID-junk-after-UNZ.edi"]
    assert ["edifact-junk-after-interchange", None, None, 44] in junk["issues"]
    release = by_file["php-edifact_ORDERS_D01B_EAN010_INVALID-release-char.edi"]
    assert ["edifact-invalid-release", "IMD", 83, 85] in release["issues"] and release["messages"][0]["rejected"]
    curly = by_file["koha_ORDRSP_D96A_EAN005_DEFECT-curly-quote-terminators.edi"]
    assert [c for c in curly["issues"] if c[0] == "edifact-lookalike-terminator"] == [
        ["edifact-lookalike-terminator", "LIN", 12, 1], ["edifact-lookalike-terminator", "QTY", 8, 1]]
    missing = by_file["edifabric_INVOIC_D00A_INVALID-missing-UNZ_then-UNA-pipe.edi"]
    assert [m["rejected"] for m in missing["messages"]] == [True, False]
    assert [i["control_ref"] for i in missing["interchanges"]] == ["131", "132"]
    assert by_file["bots_ORDERS_D96A_EAN008_24-interchanges-in-one-file.edi"]["messages"].__len__() == 24
    utf8 = by_file["oca_ORDERS_D96A_EAN008_empty-LIN-ean_utf8-in-UNOC.edi"]
    assert not utf8["messages"][0]["rejected"]


def test_utf8_under_unoc_is_decoded_not_mojibake():
    f = read_interchanges((CORPUS / "php-edifact_DESADV_D96A_UNOC1_utf8-char.edi").read_bytes())
    (msg,) = list(f.messages())
    texts = [c for s in msg.segments for e in s.elements for c in e]
    assert any("\u00cb" in t for t in texts) and not any("\u00c3" in t for t in texts)
