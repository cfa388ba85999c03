"""What the importer says about each manifest field, and the errors that stop it.

Every field of every manifest gets exactly one :class:`ReportLine`: mapped (and where to), approximated (and how)
or not mapped (and why, with what to write instead). A :class:`Recorder` collects them for one manifest while its
field families are mapped, and :meth:`Recorder.finish` reports whatever no family claimed as a field this importer
does not know, so nothing of a manifest is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["mapped", "approximated", "not mapped"]
STATUSES: tuple[Status, ...] = ("mapped", "approximated", "not mapped")
UNKNOWN_FIELD = "not a field this importer knows"


class CopilotImportError(Exception):
    """The workspace cannot be imported: the message names the file (and field) and what is allowed."""


@dataclass(frozen=True)
class ReportLine:
    """One manifest field and what became of it."""

    manifest: str
    """The manifest's path relative to the workspace, e.g. copilot/api/manifest.yml."""
    field: str
    """The dotted path in the manifest, e.g. http.healthcheck.path or environments.prod.count."""
    status: Status
    note: str
    """Where it went (services[api].health_check.path), how it was approximated, or why it was not mapped."""


@dataclass(frozen=True)
class ImportResult:
    """The imported spec (plain YAML-able data, what --out writes) and the report of every manifest field."""

    spec: dict[str, Any]
    report: list[ReportLine]


def worse(a: Status, b: Status) -> Status:
    """The less faithful of two statuses."""
    return a if STATUSES.index(a) >= STATUSES.index(b) else b


def leaves(data: Any, prefix: str = "") -> Iterator[str]:
    """The dotted paths of a manifest's leaves: scalars, lists and empty mappings (a list is one field)."""
    if isinstance(data, Mapping) and data:
        for key, value in data.items():
            yield from leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif prefix:
        yield prefix


def covers(line_field: str, leaf: str) -> bool:
    """Whether a report line about ``line_field`` speaks for ``leaf`` (the field itself or one inside it)."""
    return leaf == line_field or leaf.startswith(line_field + ".")


@dataclass
class Recorder:
    """The report lines of one manifest, in the order its fields were mapped."""

    manifest: str
    lines: dict[str, tuple[Status, str]] = field(default_factory=dict)

    def add(self, field_path: str, status: Status, note: str) -> None:
        """Record ``field_path``; a second record of the same field keeps the first (families never overlap)."""
        self.lines.setdefault(field_path, (status, note))

    def mapped(self, field_path: str, note: str) -> None:
        self.add(field_path, "mapped", note)

    def approximated(self, field_path: str, note: str) -> None:
        self.add(field_path, "approximated", note)

    def not_mapped(self, field_path: str, note: str) -> None:
        self.add(field_path, "not mapped", note)

    def amend(self, field_path: str, status: Status, extra: str) -> None:
        """Add ``extra`` to the note of ``field_path`` (recorded already), keeping the worse of the two statuses."""
        old_status, note = self.lines.get(field_path, ("mapped", ""))
        self.lines[field_path] = (worse(old_status, status), f"{note}; {extra}" if note else extra)

    def claimed(self, leaf: str) -> bool:
        return any(covers(line_field, leaf) for line_field in self.lines)

    def finish(self, data: Any) -> list[ReportLine]:
        """The report lines, with each leaf of ``data`` that no line covers reported as unknown."""
        for leaf in leaves(data):
            if not self.claimed(leaf):
                self.not_mapped(leaf, UNKNOWN_FIELD)
        return [ReportLine(self.manifest, f, status, note) for f, (status, note) in self.lines.items()]


def render_report(report: Sequence[ReportLine]) -> str:
    """The report as printed on standard output: grouped by manifest, one line a field, then the totals."""
    out: list[str] = []
    manifests: dict[str, list[ReportLine]] = {}
    for line in report:
        manifests.setdefault(line.manifest, []).append(line)
    width = min(max((len(line.field) for line in report), default=10), 40)
    for manifest, lines in manifests.items():
        out.append(manifest)
        for line in lines:
            out.append(f"  {line.status:<12}  {line.field or '(whole file)':<{width}}  {line.note}")
        out.append("")
    counts = {status: sum(1 for line in report if line.status == status) for status in STATUSES}
    out.append(f"{len(report)} fields: " + ", ".join(f"{counts[s]} {s}" for s in STATUSES))
    return "\n".join(out) + "\n"
