"""EDIFACT reading benchmark: our syntax layer against pydifact, on a generated PRICAT.

    python benchmarks/bench_edifact_tokenizer.py [--segments 100000] [--repeat 3] [--pydifact-segments N]

The text is PRICAT-like (UNA, UNB, one PRICAT D:96A EANCOM message, CRLF after each terminator):
per item LIN, PIA, IMD (descriptions with released ``?'`` ``?+`` ``?:`` ``??`` in every 7th
item and umlauts, so the release and UTF-8 paths are exercised), QTY, PRI, DTM. Measured in one run
(the machines are shared and noisy; only the ratios mean something):

* ``tokenizer``: :class:`SegmentReader` over the interchange body: every segment found, tagged,
  indexed and located (elements parsed lazily, on first access).
* ``read_interchanges``: the whole syntax layer (charset plan, trailer pre-scan, envelope checks,
  messages) from bytes.
* ``bodies as columns``: the same with a body sink (what the record reader uses): message bodies
  come as columns (``bodies.BodyRun``), no Segment object per body segment.
* ``+ all elements``: ``read_interchanges``, then every segment's elements parsed
  (``Segment.elements``): what a mapping that reads every value one segment at a time pays; the
  fair comparison with pydifact, which parses everything.
* ``pydifact``: ``pydifact.segmentcollection.Interchange.from_str`` on the same text (on a prefix of
  ``--pydifact-segments`` segments when given: it is slow; the rate is per segment either way).
"""

from __future__ import annotations

import argparse
import time
import warnings

from exchanged.formats.edifact.envelope import read_interchanges
from exchanged.formats.edifact.separators import DEFAULT
from exchanged.formats.edifact.tokenizer import SegmentReader, Syntax


def pricat(segments: int) -> str:
    """A PRICAT interchange with about ``segments`` segments."""
    body = ["UNH+1+PRICAT:D:96A:UN:EAN005", "BGM+9+PL20261127+9", "DTM+137:20261127:102",
            "NAD+SU+4012345000009::9", "CUX+2:EUR:8"]
    item = 0
    while len(body) < segments - 4:
        item += 1
        name = f"Jacke Größe {item % 60}"
        if item % 7 == 0:
            name = f"Hose 1?:{item} ?'Slim?' 50?+?? Rabatt"
        body += [f"LIN+{item}++40{item:011d}:EN", f"PIA+5+A{item:06d}:SA::91", f"IMD+F+ANM+:::{name}",
                 f"QTY+53:{item % 90 + 1}:PCE", f"PRI+AAA:{item % 500}.{item % 100:02d}:CT:NTP",
                 "DTM+194:20270101:102"]
    body.append(f"UNT+{len(body) + 1}+1")
    head = ["UNA:+.? '", "UNB+UNOW:3+4012345000009:14+4398765000004:14+261127:1200+42"]
    return "'\r\n".join(head[1:] + body + ["UNZ+1+42"]).join([head[0] + "\r\n", "'\r\n"])


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pydifact-segments", type=int, default=0, help="pydifact on a prefix (0: all)")
    args = parser.parse_args()
    text = pricat(args.segments)
    data = text.encode("utf-8")
    n = text.count("'\r\n")
    shadow = data.decode("latin-1")

    def tokenizer() -> None:
        reader = SegmentReader(shadow, Syntax(DEFAULT))
        assert sum(len(c.segments) for c in reader.read(0, len(shadow))) == n

    def syntax_layer() -> None:
        assert sum(len(m.segments) for m in read_interchanges(data).messages()) == n - 3

    def all_elements() -> None:
        for m in read_interchanges(data).messages():
            for seg in m.segments:
                seg.elements  # noqa: B018

    def body_columns() -> None:
        file = read_interchanges(data)
        counted = [0]

        def sink(message: object, run: object) -> None:
            counted[0] += len(run)  # type: ignore[arg-type]

        file.body_sink = sink
        assert sum(len(m.segments) for m in file.messages()) + counted[0] == n - 3

    rates = {}
    for name, fn in (("tokenizer", tokenizer), ("read_interchanges", syntax_layer),
                     ("bodies as columns", body_columns), ("+ all elements", all_elements)):
        rates[name] = n / best(fn, args.repeat)
    from pydifact.segmentcollection import Interchange

    if args.pydifact_segments:
        cut = text.split("'\r\n")[: args.pydifact_segments]
        small = "'\r\n".join(cut) + "'\r\n"
    else:
        small = text
    m = small.count("'\r\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rates["pydifact"] = m / best(lambda: list(Interchange.from_str(small).segments), 1)
    print(f"{n:,} segments, {len(data) / 1e6:.1f} MB (pydifact on {m:,})")
    for name, rate in rates.items():
        ratio = rate / rates["pydifact"]
        print(f"  {name:20s} {rate:12,.0f} segments/s   {ratio:6.1f}x pydifact")


if __name__ == "__main__":
    main()
