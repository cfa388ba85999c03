"""The upgrade row of the edit matrix: each example spec as the last release (0.1.0) deployed it, and
as this version synthesizes it, judged by the same rules as an edit (:mod:`tests.edits.matrix`).

tests/edits/release-0.1.0/ keeps the templates of 0.1.0 (``python -m tests.template_diff snapshot``
on that release's checkout, then ``freeze``). What this version may change, each with its reason,
is listed below; anything else that would fail or harm a running platform fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ecs_platform.cli.preflight import AssemblyStack, read_assembly
from tests.conftest import SPECS
from tests.edits.matrix import Expected, judge
from tests.template_diff import thawed

RELEASE = Path(__file__).parent / "release-0.1.0"

UPGRADE = Expected(
    touches=(
        # Keys by purpose: queues and topics get a key of their own, ECS Exec sessions another (added).
        "Default/MessagingKey",
        "Default/ExecKey",
        # Service Connect by declaration: a caller group per service that calls others (added).
        "Default/ServiceConnectCallers",
        # Workers have alarms (OBS-2): the platform's alarm topic exists wherever a service or a worker does (added).
        "Default/Alarms",
    ),
    replaces={
        r"[\w-]+/\w+TaskLogs[0-9A-F]{8}": "log group names carry app, environment and workload (/ecs/<app>/<env>/<workload>), "
        "so two environments or a renamed workload never collide: a new name is a new group. The old group is kept "
        "(UpdateReplacePolicy: Retain) until its logs expire.",
    },
)


def _released(name: str) -> list[AssemblyStack]:
    return [AssemblyStack(stack, stack, "", "", None, template) for stack, template in thawed(RELEASE / f"{name}.json.gz").items()]


@pytest.mark.parametrize("name", sorted(p.name.removesuffix(".json.gz") for p in RELEASE.glob("*.json.gz")))
def test_the_examples_of_the_last_release_upgrade_cleanly(name: str, assembled: Callable[[str], Path]) -> None:
    """The example as this version synthesizes it (with construct paths, as the CDK CLI does) over 0.1.0's."""
    assert judge(_released(name), read_assembly(assembled(name)), UPGRADE) == []


def test_every_example_spec_has_its_release_templates() -> None:
    """A new example has no 0.1.0 templates: it joins the upgrade row at the next release."""
    released = {p.name.removesuffix(".json.gz") for p in RELEASE.glob("*.json.gz")}
    assert released == {"access", "batch", "default", "production", "services", "web"}
    assert released <= {p.stem for p in SPECS.glob("*.yaml")}
