"""Shared fixtures: each example spec is synthesized once per test session.

Synthesis is the slow part (the first one in a process loads CDK's CloudFormation
validation); every test reads the same synthesized templates through these fixtures.
The app is built by the same ``build_app`` as app.py, with cdk.json's feature flags.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from ecs_platform.app_builder import PROJECT_ROOT, build_app, build_platform_app
from ecs_platform.spec import Spec, load_spec, load_specs
from ecs_platform.stacks.stage import PlatformStage

SPECS = PROJECT_ROOT / "specs"


@dataclass
class Synthesized:
    """A spec, its stage, the templates of its two stacks and the cloud assembly directory."""

    spec: Spec
    stage: PlatformStage
    network: Template
    workloads: Template
    outdir: Path

    @property
    def network_json(self) -> dict[str, Any]:
        return self.network.to_json()

    @property
    def workloads_json(self) -> dict[str, Any]:
        return self.workloads.to_json()

    def resources(self, kind: str, template: str = "workloads") -> dict[str, dict[str, Any]]:
        """Resources of a CloudFormation type, by logical ID."""
        doc = self.workloads_json if template == "workloads" else self.network_json
        return {k: v for k, v in doc["Resources"].items() if v["Type"] == kind}

    def validation_report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads((self.outdir / "validation-report.json").read_text())
        return report


def synthesize(spec: Spec, outdir: Path, context: dict[str, Any] | None = None) -> Synthesized:
    app, stage = build_app(spec, outdir=str(outdir), context=context)
    app.synth()
    return Synthesized(
        spec=spec,
        stage=stage,
        network=Template.from_stack(stage.network_stack),
        workloads=Template.from_stack(stage.workload_stack),
        outdir=outdir,
    )


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Synthesized]]:
    """``synth("default")`` synthesizes ``specs/default.yaml`` once per session."""
    cache: dict[str, Synthesized] = {}

    def get(name: str) -> Synthesized:
        if name not in cache:
            outdir = tmp_path_factory.mktemp(f"cdk-{name}")
            cache[name] = synthesize(load_spec(SPECS / f"{name}.yaml"), outdir, context=CLI_CONTEXT)
        return cache[name]

    yield get


#: What the CDK CLI adds to the context of ``make synth``: construct paths in the templates (the edit tests tell a
#: resource's workload by them; cfn-lint knows CDK templates by them).
CLI_CONTEXT = {"aws:cdk:enable-path-metadata": True}


@pytest.fixture(scope="session")
def assembled(synth: Callable[[str], Synthesized], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Path]]:
    """``assembled("environments")``: the cloud assembly of every environment of ``specs/<name>.yaml`` (and what the
    spec builds beside them), synthesized once per session as ``make synth`` does (a spec of one environment: the
    :func:`synth` fixture's assembly)."""
    cache: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in cache and len(load_specs(SPECS / f"{name}.yaml")) == 1 and name != "environments":
            cache[name] = synth(name).outdir  # one environment: the session's synthesis
        if name not in cache:
            outdir = tmp_path_factory.mktemp(f"cdk-all-{name}")
            app, _ = build_platform_app(
                load_specs(SPECS / f"{name}.yaml"),
                outdir=str(outdir),
                spec_file=f"specs/{name}.yaml",
                context=CLI_CONTEXT,
            )
            app.synth()
            cache[name] = outdir
        return cache[name]

    yield get


@pytest.fixture(scope="session")
def default(synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth("default")


@pytest.fixture(scope="session")
def production(synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth("production")
