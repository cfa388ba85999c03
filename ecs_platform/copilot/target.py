"""Where a manifest's fields go: the spec entry being built and the names of its places in the report.

A :class:`Target` is one workload's entry of the spec (``services``, ``workers`` or ``jobs``) with its containers,
and names the place of each field as the report shows it: ``services[api].desired_count`` for the shared settings,
``environments[prod].overrides.services.api.desired_count`` for what an environment changes. :class:`Context` is
what every family may read: the application, the environment being built (None for the shared settings) and the
spec-wide things the workloads contribute to (topics, stores, Service Connect).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecs_platform.spec import models

#: The spec's model of each workload list, to ask which fields it has.
MODELS: dict[str, type[models._WorkloadSpec]] = {"services": models.ServiceSpec, "workers": models.WorkerSpec, "jobs": models.JobSpec}


@dataclass(frozen=True)
class EnvironmentInfo:
    """What an environment manifest tells the workloads deployed to it."""

    name: str
    production: bool = False
    public_certificates: tuple[str, ...] = ()
    private_certificates: tuple[str, ...] = ()
    private_only: bool = False
    """The environment configures an internal load balancer and no public one."""
    source_ips: tuple[str, ...] = ()
    """http.public.ingress.source_ips: the networks its public load balancer admits."""
    manifest: str = ""


@dataclass
class Shared:
    """What the workloads add to the spec beside their own entries."""

    topics: dict[str, dict[str, Any]] = field(default_factory=dict)
    stores: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_connect: bool = False
    subscriptions: list[tuple[str, str, str, dict[str, list[str]]]] = field(default_factory=list)
    """(worker, topic, copilot service, filter policy)."""


@dataclass
class Context:
    app: str
    root: Path
    """The workspace root: Copilot's paths (image.build, env_file) are relative to it."""
    spec_dir: Path
    """The folder of the spec file: the spec's build paths are relative to it."""
    names: dict[str, str]
    """Copilot workload name -> spec name."""
    kinds: dict[str, str]
    """Spec name -> services, workers or jobs."""
    env: EnvironmentInfo | None = None
    override_env: str | None = None
    """Name places as this environment's overrides (the report of an environment's values when every one is imported)."""
    shared: Shared = field(default_factory=Shared)
    copilot_app: str | None = None
    """The application's name as Copilot spells it (for ${COPILOT_APPLICATION_NAME})."""
    topic_names: dict[tuple[str, str], str] = field(default_factory=dict)
    """(Copilot service, topic) -> the spec's topic name."""


@dataclass
class Target:
    """One workload's spec entry."""

    kind: str
    name: str
    entry: dict[str, Any]
    ctx: Context
    service_connect: bool = False
    """The service joins the spec's Service Connect namespace (callers are given once every workload is known)."""

    @property
    def containers(self) -> list[dict[str, Any]]:
        containers: list[dict[str, Any]] = self.entry.setdefault("containers", [])
        return containers

    @property
    def main(self) -> dict[str, Any]:
        return self.containers[0]

    def at(self, sub: str) -> str:
        """The report's name of ``sub`` (e.g. ``containers[api].port``) in this entry."""
        if self.ctx.override_env is None:
            return f"{self.kind}[{self.name}].{sub}"
        dotted = re.sub(r"\[([^\]]+)\]", r".\1", sub)
        return f"environments[{self.ctx.override_env}].overrides.{self.kind}.{self.name}.{dotted}"

    def has(self, spec_field: str) -> bool:
        """Whether this kind of workload has ``spec_field`` in the spec."""
        return spec_field in MODELS[self.kind].model_fields

    def access(self, entry: dict[str, Any]) -> None:
        self.entry.setdefault("access", []).append(entry)
