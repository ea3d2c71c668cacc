"""Every EDIFACT file of ../shared/corpus/edifact through the whole pipeline to a precise outcome.

Processed by a built-in EANCOM mapping (PRICAT -> product + price, INVRPT -> stock, ORDRSP /
DESADV / INVOIC -> order_status) with the right counts, or rejected with precise codes: the
syntax layer's (UNT counts, missing UNZ, release characters, no envelope…) and ``no-mapping`` for
message types nothing maps (ORDERS sent to us, SLSRPT, QUOTES…). Never a crash, never a silent
wrong result. Skipped on a clone without ../shared. The syntax layer's own goldens are in
tests/formats/edifact/test_syntax_corpus.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exchanged.config import load_settings
from exchanged.mapping import load_mappings
from exchanged.pipeline import Source, evaluate

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "edifact"

# file -> (status, mapping, records per entity, error codes)
EXPECTED: dict[str, tuple[str, str | None, dict[str, int], list[str]]] = {
    # lines 2 and 3 carry GTINs with wrong check digits; the second message repeats the first
    "bots_INVOIC_D96A_EAN008_UNOC_allowances-tax.edi": ("partial", 'eancom-invoic', {'order_status': 1}, ['duplicate-key', 'invalid-gtin']),
    "bots_ORDERS_D96A_EAN008_24-interchanges-in-one-file.edi": ("rejected", None, {}, ['no-mapping']),
    "bots_ORDERS_D96A_EAN008_arbitrary-line-wrap.edi": ("rejected", None, {}, ['no-mapping']),
    "bots_ORDERS_D96A_EAN008_garbage-lines-before-UNB.edi": ("rejected", None, {}, ['no-mapping']),
    "bots_ORDERS_D96A_EAN008_sap_12-messages_CRLF.edi": ("rejected", None, {}, ['no-mapping']),
    # SAP repeats a LIN per price change: the product again (duplicate-key), every price kept
    "bots_PRICAT_D96A_EAN005_sap_556-items.edi": ("partial", 'eancom-pricat', {'product': 338, 'price': 556}, ['duplicate-key']),
    "bots_PRICAT_D96A_EAN005_sap_small_CRLF.edi": ("accepted", 'eancom-pricat', {'product': 1, 'price': 1}, []),
    "bots_PRICAT_D96A_EAN005_sap_two-messages.edi": ("partial", 'eancom-pricat', {'product': 143, 'price': 145}, ['duplicate-key']),
    "bots_SLSRPT_D96A_EAN004_two-interchanges_negative-qty.edi": ("rejected", None, {}, ['no-mapping']),
    "edifabric_INVOIC_D00A_INVALID-FNB-instead-of-UNB.edi": ("rejected", None, {}, ['edifact-no-interchange', 'no-mapping']),
    "edifabric_INVOIC_D00A_INVALID-five-messages-garbage.edi": ("rejected", None, {}, ['edifact-interchange-count', 'edifact-interchange-ref-mismatch', 'edifact-missing-unt', 'edifact-segment-count', 'no-mapping']),
    "edifabric_INVOIC_D00A_INVALID-junk-after-UNZ.edi": ("rejected", None, {}, ['edifact-junk-after-interchange', 'no-mapping']),
    "edifabric_INVOIC_D00A_INVALID-missing-UNZ_then-UNA-pipe.edi": ("rejected", None, {}, ['edifact-missing-unz', 'no-mapping']),
    "edifabric_INVOIC_D00A_INVALID-unknown-segment-BGL.edi": ("rejected", None, {}, ['no-mapping']),
    "edifabric_INVOIC_D00A_UNA-pipe-element-separator.edi": ("rejected", None, {}, ['no-mapping']),
    "edifabric_INVOIC_D00A_UNG-group_two-messages.edi": ("rejected", None, {}, ['no-mapping']),
    # D:00A INVOIC: no built-in mapping (EANCOM D.96A / D.01B only); syntax issues still listed
    "edifabric_INVOIC_D00A_UNOB1_base_latin1.edi": ("rejected", None, {}, ['no-mapping']),
    "edifabric_INVOIC_D00A_escaped-segment-terminator.edi": ("rejected", None, {}, ['no-mapping']),
    "edifabric_INVOIC_D00A_repetition-separator-star.edi": ("rejected", None, {}, ['no-mapping']),
    "edifabric_INVOIC_D00A_trailing-blanks-after-terminator.edi": ("rejected", None, {}, ['no-mapping']),
    "edifabric_INVOIC_D00A_utf8-BOM.edi": ("rejected", None, {}, ['no-mapping']),
    "edifabric_INVOIC_D01B_EAN011_eancom2002-example.edi": ("accepted", 'eancom-invoic', {'order_status': 2}, []),
    "estrato_ORDERS_D96A_EAN008_UNA-but-no-UNB.edi": ("rejected", None, {}, ['edifact-no-interchange', 'no-mapping']),
    "koha_ORDRSP_D96A_EAN005_DEFECT-curly-quote-terminators.edi": ("rejected", 'eancom-ordrsp', {}, ['edifact-lookalike-terminator', 'edifact-message-ref-mismatch', 'edifact-segment-count']),
    # no RFF+ON, only RFF+LI: the order id is missing on every line
    "koha_ORDRSP_D96A_EAN005_book-trade_single-line.edi": ("rejected", 'eancom-ordrsp', {}, ['missing-value']),
    # no LIN: no record, said by an edifact-no-records warning
    "koha_ORDRSP_D96A_EAN005_header-only_CNT-zero.edi": ("accepted", 'eancom-ordrsp', {'order_status': 0}, []),
    "koha_QUOTES_D96A_EAN002_INVALID-LVC-code.edi": ("rejected", None, {}, ['no-mapping']),
    "oca_ORDERS_D96A_EAN008_amazon-retail_sample1.edi": ("rejected", None, {}, ['no-mapping']),
    "oca_ORDERS_D96A_EAN008_empty-LIN-ean_utf8-in-UNOC.edi": ("rejected", None, {}, ['no-mapping']),
    "oca_ORDERS_D96A_EAN008_no-PRI_UNT-count-wrong.edi": ("rejected", None, {}, ['edifact-segment-count', 'no-mapping']),
    "oca_ORDERS_D96A_EAN008_template-placeholders.edi": ("rejected", None, {}, ['no-mapping']),
    # UNH version '0' instead of 'D': no mapping reads 0:96A
    "php-edifact_DESADV_D96A_UNOC1_utf8-char.edi": ("rejected", None, {}, ['no-mapping']),
    "php-edifact_IFTMBC_D00B_UNOB_segment-split-across-lines.edi": ("rejected", None, {}, ['edifact-segment-count', 'no-mapping']),
    "php-edifact_ORDERS_D01B_EAN010_INVALID-release-char.edi": ("rejected", None, {}, ['edifact-invalid-release', 'no-mapping']),
    "php-edifact_ORDERS_D01B_EAN010_UNOC3_U+FFFD-mojibake.edi": ("rejected", None, {}, ['no-mapping']),
    "php-edifact_PAORES_release-character-torture.edi": ("rejected", None, {}, ['edifact-segment-count', 'no-mapping']),
    "php-edifact_PAORES_single-line-wrapped.edi": ("rejected", None, {}, ['no-mapping']),
    "pydifact_APERAK_D96A_syntax4_accepted.edi": ("rejected", None, {}, ['edifact-segment-count', 'no-mapping']),
    "pydifact_INFENT_D00B_sage-coala_junk-prefix_UNG-group.edi": ("rejected", None, {}, ['edifact-segment-count', 'no-mapping']),
    "pydifact_INVOIC_D97A_trailing-component-separator.edi": ("rejected", None, {}, ['no-mapping']),
    "pydifact_MEDRPT_latin1_newlines-in-data.edi": ("rejected", None, {}, ['edifact-interchange-ref-mismatch', 'edifact-invalid-release', 'no-mapping']),
    "pydifact_ORDERS_D96A_EAN008_decimal-comma_no-UNZ.edi": ("rejected", None, {}, ['edifact-missing-unz', 'no-mapping']),
    "pydifact_ORDERS_D96A_UNOC3_no-UNA_no-UNZ.edi": ("rejected", None, {}, ['edifact-missing-unz', 'no-mapping']),
    "smooks_INVOIC_D03B_UNA-repetition-star_UNOC4.edi": ("rejected", None, {}, ['no-mapping']),
    "smooks_INVOIC_D96A_body-only_no-envelope_decimal-comma.edi": ("rejected", None, {}, ['edifact-no-interchange', 'edifact-no-message']),
    "smooks_ORDERS_D03B_EAN008_INVALID-DTM-repeated-36x.edi": ("rejected", None, {}, ['edifact-segment-count', 'no-mapping']),
    "smooks_ORDERS_D03B_EAN008_UNOA4_ISBN.edi": ("rejected", None, {}, ['no-mapping']),
    "smooks_ORDERS_D96A_EAN008_UNOB4_ISBN-PIA_no-UNZ.edi": ("rejected", None, {}, ['edifact-missing-unz', 'no-mapping']),
    "smooks_RECADV_D01B_EAN007_UNOA_with-UTF8-Chinese.edi": ("rejected", None, {}, ['no-mapping']),
}

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/edifact is not here (fresh clone)"),
]


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_outcome(name: str) -> None:
    settings = load_settings(environ={})
    report = evaluate(Source.from_bytes((CORPUS / name).read_bytes(), f"inbox/{name}"), load_mappings(None), settings).report
    status, mapping, entities, codes = EXPECTED[name]
    assert (report.status.value, report.mapping, report.entities) == (status, mapping, entities)
    assert sorted({i.code for i in report.issues if i.severity == "error"}) == codes
    for issue in report.issues:  # every EDIFACT finding says where it is
        if issue.code.startswith("edifact-"):
            assert issue.location.line is not None, issue
