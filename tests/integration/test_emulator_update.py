"""A second deployment with a changed spec updates the deployed stack in place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ecs_platform.app_builder import build_app
from ecs_platform.spec import load_spec
from tests.conftest import SPECS, Synthesized
from tests.integration.emulator import Emulator

pytestmark = pytest.mark.integration


def test_changing_the_desired_count_updates_the_service(emulator: Emulator, synth: Callable[[str], Synthesized], tmp_path: Path) -> None:
    # Given the default spec deployed
    first = emulator.deploy(synth("default").outdir)["my-app-dev-workloads"]
    ecs = emulator.client("ecs")
    (before,) = ecs.describe_services(cluster=first["ClusterName"], services=["my-service"])["services"]
    assert before["desiredCount"] == 2

    # When the spec asks for three tasks and is deployed again
    spec = load_spec(SPECS / "default.yaml")
    changed = spec.model_copy(update={"services": [spec.services[0].model_copy(update={"desired_count": 3})]})
    app, _ = build_app(changed, outdir=str(tmp_path / "desired3"))
    app.synth()
    emulator.deploy(tmp_path / "desired3")

    # Then the workload stack is updated in place and the service keeps three tasks
    stack = emulator.client("cloudformation").describe_stacks(StackName="my-app-dev-workloads")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    (after,) = ecs.describe_services(cluster=first["ClusterName"], services=["my-service"])["services"]
    assert after["desiredCount"] == 3
    assert after["serviceArn"] == before["serviceArn"]
