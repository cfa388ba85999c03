"""make access-report: per workload, role -> actions -> resources, stable for diffs."""

from __future__ import annotations

from collections.abc import Callable

from ecs_platform.access_report import report
from tests.conftest import Synthesized


def test_access_report_lists_each_role_of_each_workload(synth: Callable[[str], Synthesized]) -> None:
    text = report(synth("access").outdir)
    lines = text.splitlines()
    assert "dev/Workloads: task definition invoice-worker" in lines
    worker = lines.index("dev/Workloads: task definition invoice-worker")
    assert lines[worker + 1].startswith("    task role (Jobinvoiceworker")
    assert (
        "      sqs:ChangeMessageVisibility, sqs:DeleteMessage, sqs:GetQueueAttributes, sqs:ReceiveMessage"
        "  ->  arn:aws:sqs:ap-northeast-1:111122223333:invoice-requests"
    ) in lines
    assert any(line.startswith("dev/Workloads: role Jobinvoiceworker") and "scheduler.amazonaws.com" in line for line in lines)
    assert report(synth("access").outdir) == text  # deterministic


def test_a_role_without_grants_says_so(synth: Callable[[str], Synthesized]) -> None:
    lines = report(synth("default").outdir).splitlines()
    task_role = next(i for i, line in enumerate(lines) if line.startswith("    task role (Servicemyservice"))
    assert lines[task_role + 1] == "      (no permissions)"
