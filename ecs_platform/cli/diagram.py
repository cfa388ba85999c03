"""``ecs-platform diagram``: the spec's architecture as a Mermaid flowchart, which GitHub renders.

:func:`mermaid` draws, from the spec alone (no CDK, no AWS):

- the VPC and its three subnet classes in the spec's AZs (SEC-1): public (internet-facing load
  balancers, NAT gateways), private web (services, internal load balancers) and private batch
  (workers, jobs); the EC2 capacity providers in the subnets the spec gives them (ARCH-2);
- the load balancers, own and shared, public or internal (ARCH-4), with an edge to each service
  they route to, labelled with the rule's hosts and paths;
- each service with its tasks and capacity (Fargate, Fargate Spot, EC2 providers: ARCH-3), each
  worker with its SQS queue, each job with its schedule (USE-3);
- the Service Connect edges, caller to server, from each server's ``connect.callers`` (ARCH-7), and a job's calls to
  a service's internal load balancer;
- the topics the platform owns, their publishers and the worker queues subscribed (with their filters);
- optionally, each workload's ``access:`` integrations as edges to the resources they name (IAM-5).

Node IDs are a kind prefix and the name with ``-`` as ``_`` (names have no ``_``), so they are
valid Mermaid identifiers and never collide. The text is stable: the spec's order, nothing else.

SVG and PNG need the Mermaid CLI (``mmdc``, npm ``@mermaid-js/mermaid-cli``) and a Chromium for it:
:func:`render` runs it where both are installed and says what to install where they are not.

    python -m ecs_platform.cli diagram [--spec PATH] [--env NAME] [--format mermaid|svg|png] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecs_platform.integrations import INTEGRATIONS, KINDS
from ecs_platform.limits import serving_container

if TYPE_CHECKING:
    from ecs_platform.spec.models import (
        AlbSpec,
        CapacityProviderSpec,
        JobSpec,
        LoadBalancerSpec,
        ServiceSpec,
        Spec,
        WorkerSpec,
    )

EXIT_OK, EXIT_ERROR = 0, 2
DEFAULT_SPEC = "specs/default.yaml"
FORMATS = ("mermaid", "svg", "png")
PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: Integrations that name no resource: what their node is called.
_NO_RESOURCE_TITLES = {
    "cloudwatch_metrics": "CloudWatch metrics",
    "rds_iam": "RDS IAM authentication",
    "xray": "X-Ray",
    "ecs_exec": "ECS Exec",
    "ssm_parameters": "SSM parameters",
}


def node_id(kind: str, name: str) -> str:
    """A Mermaid identifier: ``svc`` + ``my-service`` -> ``svc_my_service``. Kinds have no ``_`` and names
    have none either (``-`` becomes ``_``), so the first ``_`` separates them and no two IDs collide."""
    assert kind.isalpha() and "_" not in name, (kind, name)
    return f"{kind}_{name.replace('-', '_')}"


def label(*lines: str) -> str:
    """A quoted Mermaid label of one or more lines; quotes and markup characters as entities."""
    escaped = [line.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;") for line in lines]
    return '"' + "<br/>".join(escaped) + '"'


@dataclass
class _Chart:
    """The lines of a flowchart, with its external resources numbered in order of first use."""

    lines: list[str] = field(default_factory=list)
    edges: list[str] = field(default_factory=list)
    external: dict[tuple[str, str], str] = field(default_factory=dict)
    external_lines: list[str] = field(default_factory=list)

    def node(self, indent: int, text: str) -> None:
        self.lines.append("  " * indent + text)

    def edge(self, source: str, target: str, text: str | None = None, *, dotted: bool = False) -> None:
        arrow = "-.->" if dotted else "-->"
        self.edges.append(f"  {source} {arrow}{f'|{label(text)}|' if text else ''} {target}")

    def resource(self, key: tuple[str, str], *lines: str) -> str:
        """The ID of an external resource's node, drawn once however many workloads use it."""
        if key not in self.external:
            self.external[key] = f"ext_{len(self.external) + 1}"
            self.external_lines.append(f"    {self.external[key]}[({label(*lines)})]")
        return self.external[key]


def _capacity(workload: ServiceSpec | WorkerSpec | JobSpec, ec2: Collection[str]) -> str:
    """Where a workload's tasks run (ARCH-3): FARGATE, FARGATE_SPOT or EC2 providers, with bases and weights."""

    def provider(name: str) -> str:
        return f"EC2 {name}" if name in ec2 else name

    strategy = workload.capacity
    if not isinstance(strategy, list):
        return provider(strategy or "FARGATE")
    if not strategy:
        return "FARGATE"
    parts = []
    for item in strategy:
        text = provider(item.provider)
        if item.base:
            text += f" base {item.base}"
        if len(strategy) > 1:
            text += f" weight {item.weight}"
        parts.append(text)
    return ", ".join(parts)


def _routes(lb: LoadBalancerSpec) -> str:
    """The hosts and paths a service's listener rule matches."""
    parts = []
    if lb.hosts:
        parts.append(" ".join(lb.hosts))
    if lb.paths:
        parts.append(" ".join(lb.paths))
    return " ".join(parts) if parts else "any path"


def _served_port(service: ServiceSpec) -> int | None:
    wanted = service.load_balancer.container if service.load_balancer else None
    name = serving_container([(c.name, c.port) for c in service.containers], wanted)
    return next((c.port for c in service.containers if c.name == name), None)


def _short(value: str) -> str:
    """A resource's name from its ARN (``arn:...:secret:orders/db-AbCdEf`` -> ``orders/db-AbCdEf``), or the name as given."""
    if not value.startswith("arn:"):
        return value
    resource = value.split(":", 5)[-1]
    typed = re.fullmatch(r"[A-Za-z-]+[/:](.+)", resource)
    return typed.group(1) if typed else resource


#: Fields that qualify an entry's grant on its resource rather than name one: they label the edge.
_QUALIFIERS = ("level", "prefix", "indexes")


def _access(chart: _Chart, source: str, entries: Sequence[Any]) -> None:
    """Edges from a workload to the resources its ``access:`` entries name (their KMS keys left out); an
    entry that names none (metrics, X-Ray, a parameter path, ...) has a node of its integration."""
    for entry in entries:
        integration = INTEGRATIONS[entry.type]
        qualifiers = [str(getattr(entry, name)) for name in ("level", "prefix") if getattr(entry, name, None)]
        edge_text = " ".join(qualifiers) or None
        named = [(kind, value) for _, kind, value in entry.resources() if kind != "kms_key"]
        for kind, value in named:
            title = KINDS[kind].label.split(" (")[0].split(" ", 1)[1]  # "an S3 bucket (...)" -> "S3 bucket"
            chart.edge(source, chart.resource((kind, value), title, _short(value)), edge_text)
        details = [
            str(value)
            for param in integration.params
            if param.kind is None and param.name not in _QUALIFIERS and (value := getattr(entry, param.name, None)) not in (None, [])
        ]
        if named and not details:
            continue
        title = _NO_RESOURCE_TITLES.get(entry.type, integration.title)
        detail = " ".join(details)
        chart.edge(source, chart.resource((entry.type, detail), title, *([detail] if detail else [])), edge_text)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def _alb_node(node: str, name: str, alb: AlbSpec | LoadBalancerSpec, *, shared: bool) -> str:
    protocol = "HTTPS" if alb.https else "HTTP"
    if alb.domain is not None:
        protocol += f" {alb.domain.name}"
    test = f", test listener :{alb.test_listener_port}" if alb.test_listener_port else ""
    text = (f"ALB {name}{' (shared)' if shared else ''}", f"{'public' if alb.public else 'internal'}, {protocol}{test}")
    return f"{node}{{{{{label(*text)}}}}}"


def _capacity_node(provider: CapacityProviderSpec) -> str:
    if provider.type == "asg":
        spot = f", {provider.spot_percent} % Spot above {provider.on_demand_base}" if provider.spot_percent else ""
        text = (
            f"EC2 capacity {provider.name}",
            f"Auto Scaling group: {' '.join(provider.instance_types)}",
            f"{provider.min_count}-{provider.max_count} instances{spot}",
        )
    else:
        sizes = []
        for unit, size in (("vCPU", provider.vcpus), ("GiB", provider.memory_gib)):
            if size is not None:
                sizes.append(f"{size.min}-{size.max} {unit}" if size.max is not None else f"{size.min}+ {unit}")
        text = (f"EC2 capacity {provider.name}", "ECS Managed Instances" + (" on Spot" if provider.spot else ""), ", ".join(sizes))
    return f"{node_id('cap', provider.name)}[[{label(*text)}]]"


def _providers_of(workload: ServiceSpec | WorkerSpec | JobSpec) -> list[str]:
    """The capacity providers a workload's tasks run on."""
    if isinstance(workload.capacity, list):
        return [item.provider for item in workload.capacity] or ["FARGATE"]
    return [workload.capacity or "FARGATE"]


def _workloads(spec: Spec) -> list[tuple[str, ServiceSpec | WorkerSpec | JobSpec]]:
    """Every workload with the kind of its node: services, workers, jobs, in the spec's order."""
    return [("svc", s) for s in spec.services] + [("wrk", w) for w in spec.workers] + [("job", j) for j in spec.jobs]


def _own_alb(service: ServiceSpec) -> LoadBalancerSpec | None:
    lb = service.load_balancer
    return lb if lb is not None and lb.shared is None else None


def _vpc(chart: _Chart, spec: Spec) -> None:
    """The VPC, its subnet classes, and what runs in each (an empty one says so: Mermaid draws an empty subgraph awry)."""
    ec2 = {p.name for p in spec.capacity_providers}
    own = [(s, alb) for s in spec.services if (alb := _own_alb(s)) is not None]
    zones = ", ".join(spec.environment.availability_zones)
    chart.node(1, f"subgraph vpc[{label(f'VPC {spec.network.cidr}', f'{len(spec.environment.availability_zones)} AZs: {zones}')}]")
    chart.node(2, f"subgraph public[{label('public subnets, one per AZ')}]")
    chart.lines += [f"      {_alb_node(node_id('alb', lb.name), lb.name, lb, shared=True)}" for lb in spec.load_balancers if lb.public]
    chart.lines += [f"      {_alb_node(node_id('lbo', s.name), s.name, alb, shared=False)}" for s, alb in own if alb.public]
    chart.node(3, f"nat[{label(_count(spec.nat_gateways, 'NAT gateway'))}]")
    chart.node(2, "end")
    chart.node(2, f"subgraph web[{label('private web subnets, one per AZ')}]")
    start = len(chart.lines)
    chart.lines += [f"      {_alb_node(node_id('alb', lb.name), lb.name, lb, shared=True)}" for lb in spec.load_balancers if not lb.public]
    chart.lines += [f"      {_alb_node(node_id('lbo', s.name), s.name, alb, shared=False)}" for s, alb in own if not alb.public]
    for service in spec.services:
        low, high = service.scaling_range
        text = (f"service {service.name}", f"{_count(service.desired_count, 'task')}, scales {low}-{high}", _capacity(service, ec2))
        chart.node(3, f"{node_id('svc', service.name)}[{label(*text)}]")
    chart.lines += [f"      {_capacity_node(p)}" for p in spec.capacity_providers if p.subnets == "web"]
    if len(chart.lines) == start:
        chart.node(3, f"webempty[{label('no services')}]")
    chart.node(2, "end")
    chart.node(2, f"subgraph batch[{label('private batch subnets, one per AZ')}]")
    start = len(chart.lines)
    for worker in spec.workers:
        tasks = f"{worker.min_count}-{worker.max_count} tasks on the queue's backlog"
        chart.node(3, f"{node_id('wrk', worker.name)}[{label(f'worker {worker.name}', tasks, _capacity(worker, ec2))}]")
    for job in spec.jobs:
        run = f"{_count(job.count or 1, 'task')} a run"
        if job.timeout_seconds:
            run += f", timeout {job.timeout_seconds} s"
        if job.retries:
            run += f", {_count(job.retries, 'retry')}".replace("retrys", "retries")
        text = (f"job {job.name}", run, _capacity(job, ec2))
        chart.node(3, f"{node_id('job', job.name)}[/{label(*text)}/]")
    chart.lines += [f"      {_capacity_node(p)}" for p in spec.capacity_providers if p.subnets == "batch"]
    if len(chart.lines) == start:
        chart.node(3, f"batchempty[{label('no workers or jobs')}]")
    chart.node(2, "end")
    chart.node(1, "end")


def mermaid(spec: Spec, *, access: bool = True) -> str:
    """The spec's architecture as a Mermaid flowchart (``flowchart TB``), GitHub-renderable; ``access``:
    also the resources of the workloads' ``access:`` entries. Pure: the same spec gives the same text."""
    chart = _Chart()
    environment = spec.environment
    own = [(s, alb) for s in spec.services if (alb := _own_alb(s)) is not None]
    public = [node_id("alb", lb.name) for lb in spec.load_balancers if lb.public]
    public += [node_id("lbo", s.name) for s, alb in own if alb.public]
    scheduled = [job for job in spec.jobs if job.schedule]

    chart.lines += ["---", f"title: {spec.app} {environment.name} ({environment.region})", "---", "flowchart TB"]
    if public:
        chart.node(1, 'internet(("Internet"))')
    if scheduled:
        chart.node(1, 'scheduler(["EventBridge Scheduler"])')
    _vpc(chart, spec)
    for worker in spec.workers:  # queues are regional services, outside the VPC
        queue = worker.queue
        text = ("SQS queue " + _short(queue.arn), "existing") if queue.arn else (f"SQS queue {worker.name}", "own, with dead-letter queue")
        chart.node(1, f"{node_id('queue', worker.name)}[({label(*text)})]")

    for node in public:
        chart.edge("internet", node)
    for service in spec.services:
        lb = service.load_balancer
        if lb is not None:
            chart.edge(node_id("alb", lb.shared) if lb.shared else node_id("lbo", service.name), node_id("svc", service.name), _routes(lb))
    if spec.service_connect is not None:
        tls = " TLS" if spec.service_connect.tls else ""
        for service in spec.services:
            served = f"{service.connect.name or service.name}:{_served_port(service)}{tls}"
            for caller in service.connect.callers:
                kind = "wrk" if caller in {w.name for w in spec.workers} else "svc"
                chart.edge(node_id(kind, caller), node_id("svc", service.name), served, dotted=True)
    for worker in spec.workers:
        chart.edge(node_id("queue", worker.name), node_id("wrk", worker.name))
    kinds = {workload.name: kind for kind, workload in _workloads(spec)}
    for topic in spec.topics:  # topics are regional services, outside the VPC, like queues
        chart.node(1, f"{node_id('topic', topic.name)}[/{label(f'SNS topic {topic.name}')}/]")
        for publisher in topic.publishers:
            chart.edge(node_id(kinds.get(publisher, "svc"), publisher), node_id("topic", topic.name), "publishes")
        for subscriber in topic.subscribers:
            filtered = "; ".join(f"{k}: {' or '.join(v)}" for k, v in subscriber.filter_policy.items()) or None
            chart.edge(node_id("topic", topic.name), node_id("queue", subscriber.worker), filtered)
    for job in spec.jobs:
        for called in job.calls:
            chart.edge(node_id("job", job.name), node_id("svc", called), "calls (internal ALB)", dotted=True)
    for job in scheduled:
        zone = f" {job.timezone or 'UTC'}" if str(job.schedule).startswith("cron(") else ""  # a rate has no time zone
        chart.edge("scheduler", node_id("job", job.name), f"{job.schedule}{zone}")
    ec2 = {p.name for p in spec.capacity_providers}
    for kind, workload in _workloads(spec):
        for provider in _providers_of(workload):
            if provider in ec2:
                chart.edge(node_id(kind, workload.name), node_id("cap", provider), "runs on", dotted=True)
    if access:
        for kind, workload in _workloads(spec):
            _access(chart, node_id(kind, workload.name), workload.access)
    lines = list(chart.lines)
    if chart.external_lines:
        lines += [f"  subgraph aws[{label('AWS resources the tasks may use (access:)')}]", *chart.external_lines, "  end"]
    return "\n".join(lines + chart.edges) + "\n"


# --- SVG and PNG ---------------------------------------------------------------------------

#: Where a Chromium for the Mermaid CLI may be (Debian's chromium package, Google Chrome).
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class RendererMissingError(Exception):
    """No Mermaid CLI or no browser for it: the message says what to install."""


def mermaid_cli() -> str | None:
    """The Mermaid CLI: the project's (``make diagram FORMAT=svg`` installs it in .mermaid/) or one on PATH."""
    for local in (PROJECT_ROOT / ".mermaid" / "node_modules" / ".bin" / "mmdc", PROJECT_ROOT / "node_modules" / ".bin" / "mmdc"):
        if local.exists():
            return str(local)
    return shutil.which("mmdc")


def browser() -> str | None:
    """A Chromium for the Mermaid CLI: PUPPETEER_EXECUTABLE_PATH, or one on PATH."""
    configured = os.environ.get("PUPPETEER_EXECUTABLE_PATH")
    if configured:
        return configured
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


INSTALL = (
    "install the Mermaid CLI, npm's @mermaid-js/mermaid-cli, without the browser download (`make diagram FORMAT=svg` "
    "does, into .mermaid/) and a Chromium for it (Debian: `apt-get install chromium`, or set PUPPETEER_EXECUTABLE_PATH "
    "to a Chrome); or use --format mermaid, which GitHub renders as it is"
)


def render(text: str, output: Path, image_format: str) -> None:
    """Write ``text`` (Mermaid) to ``output`` as SVG or PNG with the Mermaid CLI and a local Chromium. Raises
    :class:`RendererMissingError` when either is missing, RuntimeError when the CLI fails."""
    mmdc, chromium = mermaid_cli(), browser()
    if mmdc is None or chromium is None:
        missing = "the Mermaid CLI (mmdc)" if mmdc is None else "a Chromium for the Mermaid CLI"
        raise RendererMissingError(f"--format {image_format} needs {missing}, which is not installed: {INSTALL}")
    with tempfile.TemporaryDirectory(prefix="ecs-platform-diagram-") as scratch:
        source, config = Path(scratch) / "diagram.mmd", Path(scratch) / "puppeteer.json"
        source.write_text(text, encoding="utf-8")
        # --no-sandbox: Chromium's sandbox refuses to start as root (CI, containers); the page is our own text.
        config.write_text(json.dumps({"executablePath": chromium, "args": ["--no-sandbox"]}), encoding="utf-8")
        command = [mmdc, "--quiet", "-p", str(config), "-i", str(source), "-o", str(output.resolve()), "-e", image_format]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0 or not output.exists():
        raise RuntimeError(f"mmdc failed ({result.returncode}): {(result.stderr or result.stdout).strip()[-2000:]}")


# --- the command ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecs-platform diagram",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "The spec's architecture as a Mermaid flowchart (GitHub renders it in a ```mermaid block): the VPC and its\n"
            "subnets, the load balancers and their rules, services, workers and their queues, jobs and their schedules,\n"
            "Service Connect callers, and the resources of access:. From the spec only: no AWS, no CDK."
        ),
        epilog="svg and png need the Mermaid CLI (npm @mermaid-js/mermaid-cli) and a Chromium (Debian: chromium).",
    )
    parser.add_argument("--spec", metavar="PATH", default=DEFAULT_SPEC, help=f"the spec (default: {DEFAULT_SPEC})")
    parser.add_argument("--env", metavar="NAME", help="the environment, for a spec of several")
    parser.add_argument("--format", choices=FORMATS, default="mermaid", help="mermaid text (default), or an svg or png image")
    parser.add_argument("--output", metavar="FILE", type=Path, help="write here (default: standard output; required for svg and png)")
    parser.add_argument("--no-access", action="store_true", help="leave out the resources of the workloads' access: entries")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``ecs-platform diagram ...``: returns the exit status (0 written, 2 the spec, the format or the renderer failed)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or argparse's one-line error after the usage
        return int(exit_.code or 0)
    if args.format != "mermaid" and args.output is None:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: --format {args.format} writes an image: name the file with --output", file=sys.stderr)
        return EXIT_ERROR
    from ecs_platform.spec import SpecError, load_specs  # only here: the spec models load pydantic and YAML

    try:
        # Image tags are given at synthesis (-c image_tag=...); the diagram shows none.
        specs = load_specs(args.spec, environment=args.env, image_tags={"": "diagram"})
    except SpecError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    if len(specs) > 1:
        names = ", ".join(s.environment.name for s in specs)
        print(f"{parser.prog}: error: {args.spec} has {len(specs)} environments ({names}); allowed: choose one with --env", file=sys.stderr)
        return EXIT_ERROR
    text = mermaid(specs[0], access=not args.no_access)
    if args.format == "mermaid":
        if args.output is None:
            sys.stdout.write(text)
        else:
            args.output.write_text(text, encoding="utf-8")
        return EXIT_OK
    try:
        render(text, args.output, args.format)
    except (RendererMissingError, RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
