"""The outcome model: where something is (Location), what is wrong (Issue), what happened (FileReport).

These are the shapes of DESIGN §1 "File report": they are printed by ``--json``, stored in the
audit ledger and written beside a quarantined file, so field names and issue codes are a contract.

>>> issue = Issue(code="invalid-gtin", message="check digit should be 1", value="4006381333932",
...               location=Location(row=17, field="gtin"))
>>> issue.model_dump(exclude_none=True)["location"]
{'row': 17, 'field': 'gtin'}
"""

from __future__ import annotations

import enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warning"]


class Status(str, enum.Enum):
    """The final state of one input file (DESIGN §1 "Lifecycle of one input file")."""

    ACCEPTED = "accepted"
    PARTIAL = "partial"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    STALE = "stale"


class Location(BaseModel):
    """What a reader knows about where an item sits in its file; every field is optional."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int | None = None
    column: int | None = None
    row: int | None = None
    field: str | None = None
    segment_index: int | None = None
    segment_tag: str | None = None
    interchange_ref: str | None = None
    message_ref: str | None = None
    xpath: str | None = None

    def with_field(self, field: str) -> Location:
        return self.model_copy(update={"field": field})


class Issue(BaseModel):
    """One finding. ``code`` is a stable kebab-case id; scripts match on it, people read ``message``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    severity: Severity = "error"
    message: str
    location: Location = Field(default_factory=Location)
    value: Any = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "severity": self.severity, "message": self.message}
        location = self.location.model_dump(exclude_none=True)
        if location:
            out["location"] = location
        if self.value is not None:
            out["value"] = self.value
        return out


class FileReport(BaseModel):
    """What happened to one input file (the object of ``--json``, an audit row, a quarantine report)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    file: str
    sha256: str
    size: int
    status: Status
    format: str | None = None
    mapping: str | None = None
    entity: str | None = None
    entities: dict[str, int] = Field(
        default_factory=dict, description="records published per entity, for inputs feeding several"
    )
    records: int = 0
    rejected_records: int = 0
    issues: list[Issue] = Field(default_factory=list)
    issues_truncated: int = Field(0, description="issues found beyond the per-file cap and not listed")
    outputs: list[str] = Field(default_factory=list)
    archive: str | None = None
    received_at: str
    finished_at: str | None = None
    duration_ms: int | None = None

    @property
    def ok(self) -> bool:
        """True when the file did not end ``rejected`` (the exit-code rule of the CLI)."""
        return self.status is not Status.REJECTED

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"issues"})
        data["issues"] = [issue.to_json() for issue in self.issues]
        return data


class IssueCollector:
    """Collects issues for one file up to a cap and counts the ones beyond it.

    A file with a million bad rows must still produce a readable report: the first ``limit`` issues
    are kept, the rest only counted (``FileReport.issues_truncated``).
    """

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self.issues: list[Issue] = []
        self.truncated = 0
        self.errors = 0

    def add(self, issue: Issue) -> None:
        if issue.severity == "error":
            self.errors += 1
        if len(self.issues) < self.limit:
            self.issues.append(issue)
        else:
            self.truncated += 1

    def extend(self, issues: Any) -> None:
        for issue in issues:
            self.add(issue)

    def count_more(self, n: int, *, errors: bool = True) -> None:
        """Count ``n`` issues that were not built because the cap is reached."""
        self.truncated += n
        if errors:
            self.errors += n

    @property
    def room(self) -> int:
        return max(0, self.limit - len(self.issues))
