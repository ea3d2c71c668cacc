"""Which mapping fits a file: routing by content (header columns) and name (globs).

A mapping is a candidate when every condition of its ``[match]`` holds:

* ``filename``: one of its globs matches the file's base name, letter case ignored;
* ``columns``: every listed column is in the header, blanks at the ends and letter case ignored.

The best candidate has the highest score ``(priority, has a filename glob, number of match
columns)``, compared in that order. No candidate is ``no-mapping``; two or more sharing the best
score is ``ambiguous-mapping``; both reject the file (DESIGN §3).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import replace
from pathlib import PurePosixPath

from exchanged.errors import InputRejected
from exchanged.mapping.source import normalise
from exchanged.mapping.spec import Mapping
from exchanged.report import Issue, Location

Score = tuple[int, int, int]


def base_name(file_name: str) -> str:
    return PurePosixPath(file_name.replace("\\", "/")).name


def match_score(mapping: Mapping, file_name: str, header: list[str] | None) -> Score | None:
    """The mapping's score for this file, or None when one of its conditions fails."""
    globs = mapping.match.globs
    name = base_name(file_name).casefold()
    if globs and not any(fnmatch.fnmatchcase(name, glob.casefold()) for glob in globs):
        return None
    wanted = mapping.match.columns
    if wanted:
        if header is None:
            return None
        have = {normalise(column) for column in header}
        if not all(normalise(column) in have for column in wanted):
            return None
    return (mapping.match.priority, 1 if globs else 0, len(wanted))


def _preview(header: list[str] | None, limit: int = 8) -> str:
    if header is None:
        return "no header could be read"
    shown = ", ".join(header[:limit])
    more = f", … ({len(header)} columns)" if len(header) > limit else ""
    return f"header: {shown}{more}"


def _explain(score: Score) -> str:
    priority, glob, columns = score
    return f"priority {priority}, {'a' if glob else 'no'} file-name glob, {columns} match column(s)"


def _best(file_name: str, scored: list[tuple[Score, Mapping]], header: list[str] | None) -> Mapping:
    name = base_name(file_name)
    if not scored:
        raise InputRejected(Issue(
            code="no-mapping",
            message=f"no mapping recognises {name} ({_preview(header)}); add a mapping file whose [match] fits it",
        ))
    top = max(score for score, _ in scored)
    best = sorted(m.name for score, m in scored if score == top)
    if len(best) > 1:
        raise InputRejected(Issue(
            code="ambiguous-mapping",
            message=f"{name} matches mappings {' and '.join(repr(b) for b in best)} equally well ({_explain(top)}); "
                    "raise match.priority of the right one or make its [match] stricter",
        ))
    return next(m for score, m in scored if score == top)


def route(file_name: str, header: list[str] | None, mappings: Iterable[Mapping]) -> Mapping:
    """The mapping for a file whose header is ``header`` (None when the file has no header)."""
    scored = []
    for mapping in mappings:
        score = match_score(mapping, file_name, header)
        if score is not None:
            scored.append((score, mapping))
    return _best(file_name, scored, header)


def route_file(file_name: str, data: bytes, format: str, mappings: Iterable[Mapping]) -> Mapping:
    """The mapping for a file's bytes: each CSV mapping is tried on the header as *it* reads it.

    Mappings differ in encoding, delimiter and header line, so the header is read once per distinct
    set of reader options. A header that cannot be read that way only fails those mappings; when no
    mapping fits and the file cannot be read even with detection, the reader's rejection is raised.
    """
    from exchanged.formats.csv import CsvOptions, read_header

    of_format = [m for m in mappings if m.format == format]
    if format == "edifact":
        return route_edifact(file_name, data, of_format)
    if format == "xml":
        return route_xml(file_name, data, of_format)
    if format != "csv":
        if not of_format:
            raise InputRejected(Issue(code="no-mapping", message=f"no mapping reads {format} files ({base_name(file_name)})"))
        return route(file_name, None, of_format)
    headers: dict[CsvOptions, list[str] | InputRejected] = {}

    def header_for(options: CsvOptions) -> list[str] | InputRejected:
        key = replace(options, max_bytes=None)
        if key not in headers:
            try:
                headers[key] = read_header(data, key)
            except InputRejected as rejected:
                headers[key] = rejected
        return headers[key]

    scored = []
    for mapping in of_format:
        header = header_for(mapping.csv.options())
        score = match_score(mapping, file_name, None if isinstance(header, InputRejected) else header)
        if score is not None:
            scored.append((score, mapping))
    if not scored:
        detected = header_for(CsvOptions())
        if isinstance(detected, InputRejected):
            raise detected
        return _best(file_name, scored, detected)
    return _best(file_name, scored, None)


def route_edifact(file_name: str, data: bytes, mappings: list[Mapping]) -> Mapping:
    """The mapping for the file's first message (UNH S009): its type must be listed, and its
    version and association code too when the mapping lists them. More conditions score higher;
    a ``filename`` glob, when given, must match as well."""
    from exchanged.formats.edifact.peek import first_message_type

    found = first_message_type(data)
    if found is None:
        raise InputRejected(Issue(code="edifact-no-message", location=Location(line=1),
                                  message=f"{base_name(file_name)} holds no UNH message header"))
    scored = []
    for mapping in mappings:
        if not mapping.match.accepts_message(found.type, found.version, found.association):
            continue
        score = match_score(mapping, file_name, None)
        if score is not None:
            specific = (mapping.match.version is not None) + (mapping.match.association is not None)
            scored.append(((score[0], specific, score[1]), mapping))
    if not scored:
        raise InputRejected(Issue(code="no-mapping", value=found.type,
                                  message=f"no mapping reads EDIFACT {found} messages ({base_name(file_name)}); "
                                          "add a mapping whose [match] message lists it"))
    return _best(file_name, scored, None)


def route_xml(file_name: str, data: bytes, mappings: list[Mapping]) -> Mapping:
    """The mapping whose ``root`` is the file's root element (in one of its prefix's namespace
    variants) and whose every ``child`` is among the root's children; each ``child`` condition
    scores higher. A ``filename`` glob, when given, must match as well."""
    from exchanged.formats.xml.paths import parse_step, step_matches
    from exchanged.formats.xml.peek import peek_root

    root = peek_root(data)  # xml-unsafe / xml-syntax before any mapping is tried
    scored = []
    for mapping in mappings:
        variants = mapping.xml.variants if mapping.xml is not None else {}
        if mapping.match.root is None or not step_matches(parse_step(mapping.match.root), root.namespace, root.local, variants):
            continue
        children = [parse_step(child) for child in mapping.match.children]
        if not all(any(step_matches(child, ns, local, variants) for ns, local in root.children) for child in children):
            continue
        score = match_score(mapping, file_name, None)
        if score is not None:
            scored.append(((score[0], len(children), score[1]), mapping))
    if not scored:
        seen = ", ".join(sorted(f"<{local}>" for _, local in root.children)[:8]) or "none"
        raise InputRejected(Issue(code="no-mapping", value=root.local,
                                  message=f"no mapping reads XML with root element {root} ({base_name(file_name)}; "
                                          f"its first children: {seen}); add a mapping whose [match] root names it"))
    return _best(file_name, scored, None)


__all__ = ["base_name", "match_score", "route", "route_edifact", "route_file", "route_xml"]
