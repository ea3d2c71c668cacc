"""CONTRL acknowledgements for the EDIFACT interchanges an input brought (``contrl = true``).

One file per interchange in ``outbox/erp/``, named after the interchange and the input's report
id (``CONTRL_<sender>_<control ref>_<report id>.edi``): a replay after a crash writes the same name
again instead of a second acknowledgement. Our UNB control reference comes from the persistent
counter per partner (``control_ref.py``, in ``work/``). A duplicate input is not acknowledged again.
Syntax version 4 interchanges (CONTRL:4:1) are not answered; the report says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exchanged.archive import safe_name
from exchanged.atomic import write_atomic
from exchanged.config import Settings
from exchanged.report import FileReport, Issue, Status


def acknowledge(acks: list[Any], report: FileReport, settings: Settings, show: Callable[[Path], str]) -> None:
    """Write a CONTRL per interchange in ``acks`` and list the files in ``report.outputs``."""
    if not settings.contrl or not acks or report.status is Status.DUPLICATE:
        return
    from exchanged.formats.edifact.contrl import ContrlConfig, write_contrl
    from exchanged.formats.edifact.control_ref import next_control_ref

    config = ContrlConfig(sender_id=settings.contrl_sender)
    counters = settings.folder("work") / "edifact-control-ref"
    for ack in acks:
        if ack.syntax_version > 3:
            report.issues.append(Issue(code="contrl-not-written", severity="warning", value=ack.control_ref,
                                       message=f"interchange {ack.control_ref} uses syntax version {ack.syntax_version}: "
                                               "CONTRL for syntax 4 is not supported, none was sent"))
            continue
        ours = settings.contrl_sender or ack.recipient
        reference = next_control_ref(counters, ours, ack.sender)
        data = write_contrl(ack, config, reference, dt.datetime.now(dt.timezone.utc))
        path = settings.erp_dir / safe_name(f"CONTRL_{ack.sender}_{ack.control_ref}_{report.id}.edi")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
        report.outputs.append(show(path))


__all__ = ["acknowledge"]
