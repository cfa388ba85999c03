"""A monthly cost estimate of one environment's spec, at the minimum and the maximum scale (COST-1).

Before a platform is deployed, its owner wants to know what it will cost a month, and what most of
it is: often not the tasks but what every environment pays whatever it runs (NAT gateways, load
balancers, public IPv4 addresses, Container Insights). :func:`estimate` turns a
:class:`~ecs_platform.spec.models.Spec` and a price file (``ecs_platform/prices/<region>.json``, public
list prices with their sources) into a :class:`CostEstimate`:

- per workload (services, workers, jobs), Fargate vCPU-hours and GB-hours by architecture, split
  On-Demand/Spot by the capacity strategy's base and weights, and their price at the minimum and at the
  maximum scale (services: desired count or scaling min..max; workers: min..max; jobs: runs a month from
  the schedule x tasks x an assumed run time);
- for the platform: NAT gateway hours and data, cross-AZ data, load balancer hours and LCUs, public IPv4
  addresses, KMS keys, CloudWatch Logs, Container Insights (enhanced observability), EC2 capacity
  providers, and AWS Config / GuardDuty / CloudTrail when ``governance`` asks for them.

Every figure that is not a list price is an :class:`Assumptions` field, printed with the estimate; a
price the file does not have makes its line "not priced" (0, and named in ``unpriced``) rather than a
guess. Pure computation: no CDK, no AWS calls; it reads only the spec's fields (the spec models are
imported for type checking only, so importing this module loads neither pydantic nor YAML).
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecs_platform import limits

if TYPE_CHECKING:
    from ecs_platform.spec.models import CapacityProviderSpec, CapacitySpec, JobSpec, ServiceSpec, Spec, WorkerSpec

#: The price files, one per region: ``<region>.json``.
PRICES_DIR = Path(__file__).parent / "prices"
#: Fargate includes this much ephemeral storage in every task.
FREE_EPHEMERAL_GIB = 20
FARGATE = "FARGATE"
FARGATE_SPOT = "FARGATE_SPOT"
ARCHITECTURES = ("x86_64", "arm64")


class PriceError(ValueError):
    """No price file for the region, or one without the fields every estimate needs."""


# --- prices -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prices:
    """The unit prices of one region, as its price file states them, with where they were read."""

    region: str
    currency: str
    date: str
    source: tuple[str, ...]
    notes: tuple[str, ...]
    values: Mapping[str, Any]
    """The file's ``prices`` tree: ``{"nat_gateway": {"hour": {"usd": 0.062, ...}}, "ec2": {"m7g.large": {...}}}``."""

    def get(self, *path: str) -> float | None:
        """The price at ``path`` in USD, or None when the file has none (null or absent)."""
        node: Any = self.values
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping):
            node = node.get("usd")
        return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None

    def instance(self, instance_type: str) -> float | None:
        """The On-Demand hourly price of an EC2 instance type, if the file has one."""
        return self.get("ec2", instance_type)

    @classmethod
    def from_file(cls, path: str | Path) -> Prices:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise PriceError(f"cannot read the price file {path}: {error}") from None
        missing = [key for key in ("region", "currency", "date", "source", "prices") if key not in data]
        if missing:
            raise PriceError(f"the price file {path} has no {', '.join(missing)}; allowed: a file like {PRICES_DIR}/ap-northeast-1.json")
        return cls(
            region=str(data["region"]),
            currency=str(data["currency"]),
            date=str(data["date"]),
            source=tuple(str(url) for url in data["source"]),
            notes=tuple(str(note) for note in data.get("notes", ())),
            values=data["prices"],
        )

    @classmethod
    def load(cls, region: str, directory: Path = PRICES_DIR) -> Prices:
        """The price file of ``region`` (``<directory>/<region>.json``), or PriceError naming the regions there are."""
        path = directory / f"{region}.json"
        if not path.is_file():
            raise PriceError(f"no price file for {region!r} ({path}); allowed: {', '.join(available_regions(directory)) or 'none'}")
        return cls.from_file(path)


def available_regions(directory: Path = PRICES_DIR) -> list[str]:
    """The regions with a price file."""
    return sorted(path.stem for path in directory.glob("*.json"))


# --- assumptions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assumption:
    """One named assumption of an estimate, as printed."""

    name: str
    text: str


@dataclass(frozen=True, kw_only=True)
class Assumptions:
    """What an estimate assumes where the spec and the price list say nothing. Every field is printed."""

    hours_per_month: float = 730.0
    """Hours in a month: AWS's pricing pages' month (8,760 / 12). Default: 730."""
    job_run_minutes: float = 10.0
    """A job run's duration at the minimum (and at the maximum without ``timeout_seconds``). Default: 10."""
    fargate_spot_factor: float = 0.3
    """Fargate Spot price as a share of On-Demand (AWS: up to 70 % off; it varies). Default: 0.3."""
    ec2_spot_factor: float = 0.4
    """EC2 Spot price as a share of On-Demand (AWS: up to 90 % off; it varies by type and AZ). Default: 0.4."""
    log_gb_per_task_month: float = 1.0
    """Application logs a task writes to CloudWatch Logs in a month of running, in GB. Default: 1."""
    flow_log_gb_month: float = 1.0
    """VPC flow log records the VPC writes a month whatever runs (NAT, load balancer traffic), in GB. Default: 1."""
    flow_log_gb_per_task_month: float = 0.5
    """VPC flow log records a task adds in a month of running, in GB. Default: 0.5."""
    log_stored_fraction: float = 0.15
    """Stored size of logs as a share of the ingested size (CloudWatch Logs compresses what it keeps). Default: 0.15."""
    nat_gb_per_task_month: float = 5.0
    """Data a task sends and receives through the NAT gateways in a month of running (image pulls, AWS API
    calls, log shipping), in GB; batch tasks of subnets without NAT (``batch_nat: false``) move none. Default: 5."""
    task_to_task_gb_per_task_month: float = 1.0
    """Data a task exchanges with other tasks in a month of running (Service Connect, shared stores), in GB.
    Default: 1."""
    alb_lcu_per_task: float = 0.25
    """Load balancer capacity units a task behind it drives on average (traffic grows with the tasks). Default: 0.25."""
    insights_metrics_per_cluster: int = 20
    """Container Insights (enhanced) metrics of the cluster. Default: 20."""
    insights_metrics_per_service: int = 20
    """Container Insights (enhanced) metrics of each ECS service (and its task family) while it runs tasks. Default: 20."""
    insights_metrics_per_task: int = 15
    """Container Insights (enhanced) metrics of each running task. Default: 15."""
    insights_metrics_per_container: int = 12
    """Container Insights (enhanced) metrics of each running container. Default: 12."""
    insights_log_gb_per_task_month: float = 0.1
    """Container Insights performance log events a task produces in a month of running, in GB. Default: 0.1."""
    config_items_month: float = 300.0
    """AWS Config configuration items the platform's resources produce a month (governance). Default: 300."""
    config_items_per_task_month: float = 30.0
    """AWS Config configuration items a task adds in a month of running (network interfaces come and go). Default: 30."""
    config_rules: int = 10
    """AWS Config rules evaluating each configuration item (governance). Default: 10."""
    guardduty_events_month: float = 200_000.0
    """CloudTrail management events GuardDuty analyzes a month (governance). Default: 200,000."""

    def describe(self) -> list[Assumption]:
        """The assumptions as named, printable lines."""
        return [
            Assumption("hours_per_month", f"a month is {self.hours_per_month:g} hours (AWS's pricing month); services run all of it"),
            Assumption(
                "job_run_minutes",
                f"a job run takes {self.job_run_minutes:g} minutes (or its timeout if shorter); at the maximum each run takes "
                "its timeout_seconds (when set) and is retried `retries` times",
            ),
            Assumption(
                "fargate_spot_factor", f"Fargate Spot costs {self.fargate_spot_factor:.0%} of On-Demand (AWS: up to 70 % off; it varies)"
            ),
            Assumption(
                "ec2_spot_factor",
                f"EC2 Spot costs {self.ec2_spot_factor:.0%} of On-Demand (AWS: up to 90 % off; it varies by type and AZ)",
            ),
            Assumption("log_gb_per_task_month", f"each task writes {self.log_gb_per_task_month:g} GB of logs a month of running"),
            Assumption(
                "flow_logs",
                f"VPC flow logs: {self.flow_log_gb_month:g} GB a month plus {self.flow_log_gb_per_task_month:g} GB per task-month "
                "(the flow log records ALL traffic)",
            ),
            Assumption(
                "log_stored_fraction",
                f"logs are stored compressed at {self.log_stored_fraction:.0%} of their ingested size, for the spec's retention "
                "(steady state: a full retention period of logs kept)",
            ),
            Assumption(
                "nat_gb_per_task_month",
                f"each task moves {self.nat_gb_per_task_month:g} GB a month through NAT (image pulls, AWS APIs, log shipping; "
                "the same with VPC endpoints, except batch tasks without NAT)",
            ),
            Assumption(
                "cross_az",
                f"tasks spread evenly over the AZs; tasks in an AZ without a NAT gateway reach one across AZs; each task exchanges "
                f"{self.task_to_task_gb_per_task_month:g} GB a month with other tasks, (AZs-1)/AZs of it across AZs; cross-AZ "
                "data is charged on both sides",
            ),
            Assumption("alb_lcu_per_task", f"each task behind a load balancer drives {self.alb_lcu_per_task:g} LCU on average"),
            Assumption(
                "public_ipv4",
                "an internet-facing load balancer holds one public IPv4 address per AZ, each NAT gateway one; tasks have none (SEC-1)",
            ),
            Assumption(
                "container_insights",
                "Container Insights with enhanced observability is on (the cluster's default) and billed as custom metrics "
                f"(AWS: Container Insights metrics are custom metrics), prorated hourly: {self.insights_metrics_per_cluster} "
                f"per cluster, {self.insights_metrics_per_service} per ECS service running tasks, {self.insights_metrics_per_task} "
                f"per running task, {self.insights_metrics_per_container} per running container; plus "
                f"{self.insights_log_gb_per_task_month:g} GB of performance log events per task-month (ingestion; kept a day); "
                "the instance-level metrics of EC2 capacity are not counted",
            ),
            Assumption(
                "kms_keys",
                "each customer-managed key costs its first year's price; yearly rotation adds $1/month per rotated backing key "
                "later; requests stay within the free 20,000 a month",
            ),
            Assumption(
                "ec2_capacity",
                "asg providers: at the minimum, max(min_count, the instances the minimum's tasks need at the target capacity) "
                "run all month, plus the instance hours of jobs' runs; at the maximum, max_count; priced at the first listed "
                "instance type with a price; above on_demand_base, spot_percent of them are Spot",
            ),
            Assumption(
                "managed_instances",
                "ECS Managed Instances: the cheapest priced instance type within the provider's vcpus and memory_gib ranges, "
                "as many as the tasks need at each end; the ECS Managed Instances management fee is not counted",
            ),
            Assumption(
                "shared_and_elsewhere",
                "not counted: the shared stage (image repositories, pull-through cache, deploy role) and the delivery pipeline, "
                "which every environment shares",
            ),
            Assumption(
                "not_counted",
                "not counted: data transfer out to the internet, CloudWatch alarms and dashboards, SQS/SNS/KMS requests, "
                "S3 storage of load balancer access logs, ECR storage, Secrets Manager secrets, Route 53, private CAs, EBS volumes "
                "of EC2 instances and of tasks, the stores of storage: (S3, DynamoDB, Aurora capacity units, EFS), data processed "
                "by VPC endpoints, the free tier and Savings Plans",
            ),
        ]

    def describe_governance(self) -> list[Assumption]:
        return [
            Assumption(
                "governance",
                f"AWS Config records {self.config_items_month:g} configuration items a month plus "
                f"{self.config_items_per_task_month:g} per task-month, each evaluated by {self.config_rules} rules; GuardDuty "
                f"analyzes {self.guardduty_events_month:,.0f} CloudTrail management events a month and the VPC flow logs (no "
                "Runtime Monitoring); one CloudTrail trail of management events (its first copy is free)",
            )
        ]


# --- schedules ----------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, name in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)
}
_DAYS = {name: number for number, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}


def _value(text: str, names: Mapping[str, int]) -> int:
    return names[text.upper()] if text.upper() in names else int(text)


def _count(expression: str, low: int, high: int, names: Mapping[str, int] | None = None) -> int:
    """How many values of ``low..high`` a cron field selects: ``*``, lists, ranges and steps."""
    names = names or {}
    if expression == "*":
        return high - low + 1
    selected: set[int] = set()
    for item in expression.split(","):
        part, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, _, last = part.partition("-")
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(part, names)
            end = high if step_text else start
        selected.update(range(start, end + 1, step))
    return len(selected)


def runs_per_month(expression: str, hours_per_month: float = 730.0) -> float:
    """How often an EventBridge Scheduler expression fires in an average month (``rate(...)`` or ``cron(...)``;
    the year field is taken to allow every year, and a month to have ``hours_per_month / 24`` days)."""
    rate = _RATE.fullmatch(expression)
    if rate:
        interval = int(rate.group(1)) * _UNIT_MINUTES[rate.group(2).rstrip("s")]
        return hours_per_month * 60 / interval
    fields = expression.removeprefix("cron(").removesuffix(")").split()
    minutes, hours, day_of_month, month, day_of_week = fields[:5]
    days_per_month = hours_per_month / 24
    if day_of_month != "?":
        if day_of_month == "*":
            days = days_per_month
        elif day_of_month.endswith("W") or day_of_month == "L":
            days = 1.0
        else:
            days = float(_count(day_of_month, 1, 31))
    elif day_of_week == "*":
        days = days_per_month
    elif day_of_week.endswith("L") or "#" in day_of_week:
        days = 1.0
    else:
        days = _count(day_of_week, 1, 7, _DAYS) * days_per_month / 7
    return _count(minutes, 0, 59) * _count(hours, 0, 23) * days * _count(month, 1, 12, _MONTHS) / 12


# --- the estimate -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FargateUsage:
    """What a workload uses at one end of its range, a month: Fargate hours by purchase option, and task
    hours on EC2 capacity providers (priced with their instances)."""

    architecture: str
    on_demand_vcpu_hours: float = 0.0
    on_demand_gb_hours: float = 0.0
    spot_vcpu_hours: float = 0.0
    spot_gb_hours: float = 0.0
    ephemeral_gb_hours: float = 0.0
    """Ephemeral storage above the free 20 GiB, GB-hours (Fargate only)."""
    ec2_task_hours: Mapping[str, float] = field(default_factory=dict)
    """Task hours on each EC2 capacity provider, by its name in the spec."""


@dataclass(frozen=True)
class WorkloadScale:
    """A workload at one end of its range."""

    tasks: float
    """Services and workers: running tasks; jobs: tasks started a month."""
    task_hours: float
    usage: FargateUsage
    usd: float


@dataclass(frozen=True)
class CostLine:
    """One line of the estimate: monthly USD at the minimum and the maximum, and how it was computed."""

    name: str
    min_usd: float
    max_usd: float
    basis: str
    priced: bool = True
    """False when the price file has no price for it: the line counts 0."""


@dataclass(frozen=True)
class WorkloadCost:
    """A service, worker or job: its Fargate usage and price at the minimum and the maximum."""

    kind: str
    name: str
    architecture: str
    cpu: int
    memory: int
    capacity: str
    """The capacity strategy, e.g. ``FARGATE`` or ``FARGATE base 1, FARGATE_SPOT weight 3``."""
    basis: str
    """How the task counts were found, e.g. ``scaling 2..4`` or ``cron(0 3 * * ? *): 30.4 runs x 1 task``."""
    at_min: WorkloadScale
    at_max: WorkloadScale
    priced: bool = True

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    def line(self) -> CostLine:
        return CostLine(self.label, self.at_min.usd, self.at_max.usd, self.basis, self.priced)


@dataclass(frozen=True)
class CostEstimate:
    """A spec's monthly cost: per workload and for the platform, at the minimum and the maximum scale."""

    app: str
    environment: str
    region: str
    currency: str
    price_date: str
    price_sources: tuple[str, ...]
    workloads: tuple[WorkloadCost, ...]
    platform: tuple[CostLine, ...]
    assumptions: tuple[Assumption, ...]
    unpriced: tuple[str, ...]
    """What the price file has no price for (counted as 0), one line each."""
    governance: bool = False

    def lines(self) -> list[CostLine]:
        """Every line: the workloads, then the platform."""
        return [workload.line() for workload in self.workloads] + list(self.platform)

    @property
    def total_min(self) -> float:
        return sum(line.min_usd for line in self.lines())

    @property
    def total_max(self) -> float:
        return sum(line.max_usd for line in self.lines())

    def largest_drivers(self, n: int = 3) -> list[CostLine]:
        """The ``n`` biggest lines, by their cost at the maximum (then at the minimum)."""
        return sorted((line for line in self.lines() if line.max_usd > 0), key=lambda line: (-line.max_usd, -line.min_usd))[:n]

    def fargate_hours(self) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
        """Fargate vCPU-hours and GB-hours by end (min, max), architecture and purchase option (on_demand, spot)."""
        result: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
        for end in ("min", "max"):
            by_arch: dict[str, dict[str, dict[str, float]]] = {
                arch: {option: {"vcpu_hours": 0.0, "gb_hours": 0.0} for option in ("on_demand", "spot")} for arch in ARCHITECTURES
            }
            for workload in self.workloads:
                usage = (workload.at_min if end == "min" else workload.at_max).usage
                hours = by_arch[usage.architecture]
                hours["on_demand"]["vcpu_hours"] += usage.on_demand_vcpu_hours
                hours["on_demand"]["gb_hours"] += usage.on_demand_gb_hours
                hours["spot"]["vcpu_hours"] += usage.spot_vcpu_hours
                hours["spot"]["gb_hours"] += usage.spot_gb_hours
            result[end] = by_arch
        return result

    def to_dict(self) -> dict[str, Any]:
        """The estimate as plain JSON data (what ``ecs-platform cost --json`` prints)."""

        def scale(value: WorkloadScale) -> dict[str, Any]:
            usage = value.usage
            return {
                "tasks": _round(value.tasks),
                "task_hours": _round(value.task_hours),
                "usd": _round(value.usd),
                "fargate": {
                    "on_demand": {"vcpu_hours": _round(usage.on_demand_vcpu_hours), "gb_hours": _round(usage.on_demand_gb_hours)},
                    "spot": {"vcpu_hours": _round(usage.spot_vcpu_hours), "gb_hours": _round(usage.spot_gb_hours)},
                    "ephemeral_gb_hours": _round(usage.ephemeral_gb_hours),
                },
                "ec2_task_hours": {name: _round(hours) for name, hours in usage.ec2_task_hours.items()},
            }

        def line(value: CostLine) -> dict[str, Any]:
            return {
                "name": value.name,
                "min_usd": _round(value.min_usd),
                "max_usd": _round(value.max_usd),
                "basis": value.basis,
                "priced": value.priced,
            }

        return {
            "app": self.app,
            "environment": self.environment,
            "region": self.region,
            "currency": self.currency,
            "price_date": self.price_date,
            "price_sources": list(self.price_sources),
            "governance": self.governance,
            "workloads": [
                {
                    "kind": w.kind,
                    "name": w.name,
                    "architecture": w.architecture,
                    "cpu": w.cpu,
                    "memory": w.memory,
                    "capacity": w.capacity,
                    "basis": w.basis,
                    "priced": w.priced,
                    "min": scale(w.at_min),
                    "max": scale(w.at_max),
                }
                for w in self.workloads
            ],
            "platform": [line(value) for value in self.platform],
            "total": {"min_usd": _round(self.total_min), "max_usd": _round(self.total_max)},
            "fargate_hours": {
                end: {
                    arch: {option: {k: _round(v) for k, v in hours.items()} for option, hours in options.items()}
                    for arch, options in by_arch.items()
                }
                for end, by_arch in self.fargate_hours().items()
            },
            "assumptions": [{"name": a.name, "text": a.text} for a in self.assumptions],
            "unpriced": list(self.unpriced),
            "largest_drivers": [line(value) for value in self.largest_drivers(5)],
            "summary": one_line(self),
        }


def _round(value: float) -> float:
    return round(value, 4)


def one_line(estimate: CostEstimate) -> str:
    """One sentence for the synthesis summary: ``about $120–$180 a month, mostly NAT gateway hours, ...``."""
    drivers = [line.name for line in estimate.largest_drivers(3)]
    text = f"about ${estimate.total_min:,.0f}–${estimate.total_max:,.0f} a month"
    if drivers:
        names = drivers[0] if len(drivers) == 1 else f"{', '.join(drivers[:-1])} and {drivers[-1]}"
        text += f", mostly {names}"
    if estimate.unpriced:
        text += f" ({len(estimate.unpriced)} item(s) not priced)"
    return text


@dataclass(frozen=True)
class _Demand:
    """Tasks of one workload that a capacity provider holds at one end: (running tasks, cpu, memory) and jobs'
    task hours (for instance sizing)."""

    tasks: float
    cpu: int
    memory: int
    job_task_hours: float = 0.0
    architecture: str = "x86_64"


@dataclass
class _Estimator:
    spec: Spec
    prices: Prices
    a: Assumptions
    governance: bool
    unpriced: list[str] = field(default_factory=list)
    notes: list[Assumption] = field(default_factory=list)
    # per end ("min", "max"): what the platform lines are computed from
    task_hours: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    container_hours: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    alb_task_hours: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    running_services: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    demand: dict[str, dict[str, list[_Demand]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    fargate_vcpu_hours: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    batch_task_hours: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def hours(self) -> float:
        return self.a.hours_per_month

    def price(self, what: str, *path: str) -> float | None:
        value = self.prices.get(*path)
        if value is None:
            self.unpriced.append(f"{what}: the {self.prices.region} price file has no {'.'.join(path)}")
        return value

    # --- workloads ---

    def split(self, tasks: float, strategy: Sequence[CapacitySpec]) -> dict[str, float]:
        """Tasks per capacity provider: each provider's base first (in order), the rest by weight (ARCH-3)."""
        if not strategy:
            return {FARGATE: tasks}
        shares: dict[str, float] = defaultdict(float)
        remaining = tasks
        for item in strategy:
            base = min(float(item.base), remaining)
            shares[item.provider] += base
            remaining -= base
        weights = sum(item.weight for item in strategy)
        for item in strategy:
            shares[item.provider] += remaining * (item.weight / weights if weights else (1.0 if item is strategy[0] else 0.0))
        return dict(shares)

    def usage(
        self, architecture: str, cpu: int, memory: int, ephemeral: int | None, hours_by_provider: Mapping[str, float]
    ) -> FargateUsage:
        vcpu, gb = cpu / 1024, memory / 1024
        on_demand = hours_by_provider.get(FARGATE, 0.0)
        spot = hours_by_provider.get(FARGATE_SPOT, 0.0)
        extra_gib = max(0, (ephemeral or FREE_EPHEMERAL_GIB) - FREE_EPHEMERAL_GIB)
        return FargateUsage(
            architecture=architecture,
            on_demand_vcpu_hours=on_demand * vcpu,
            on_demand_gb_hours=on_demand * gb,
            spot_vcpu_hours=spot * vcpu,
            spot_gb_hours=spot * gb,
            ephemeral_gb_hours=(on_demand + spot) * extra_gib,
            ec2_task_hours={p: h for p, h in hours_by_provider.items() if p not in (FARGATE, FARGATE_SPOT)},
        )

    def usd(self, usage: FargateUsage, label: str) -> tuple[float, bool]:
        vcpu = self.prices.get("fargate", usage.architecture, "vcpu_hour")
        gb = self.prices.get("fargate", usage.architecture, "gb_hour")
        fargate_hours = usage.on_demand_vcpu_hours + usage.spot_vcpu_hours
        if vcpu is None or gb is None:
            if fargate_hours:
                self.unpriced.append(f"{label}: the {self.prices.region} price file has no Fargate {usage.architecture} price")
            return 0.0, not fargate_hours
        total = usage.on_demand_vcpu_hours * vcpu + usage.on_demand_gb_hours * gb
        total += (usage.spot_vcpu_hours * vcpu + usage.spot_gb_hours * gb) * self.a.fargate_spot_factor
        if usage.ephemeral_gb_hours:
            ephemeral = self.price(f"{label} ephemeral storage", "fargate", "ephemeral_gb_hour")
            total += usage.ephemeral_gb_hours * (ephemeral or 0.0)
        return total, True

    def continuous(
        self,
        kind: str,
        workload: ServiceSpec | WorkerSpec,
        low: int,
        high: int,
        basis: str,
        strategy: Sequence[CapacitySpec],
        load_balancer: str | None = None,
    ) -> WorkloadCost:
        scales = []
        priced = True
        label = f"{kind} {workload.name}"
        for end, tasks in (("min", low), ("max", high)):
            shares = self.split(float(tasks), strategy)
            usage = self.usage(
                workload.architecture,
                workload.cpu,
                workload.memory,
                workload.ephemeral_storage_gib,
                {p: n * self.hours for p, n in shares.items()},
            )
            usd, ok = self.usd(usage, label)
            priced = priced and ok
            scales.append(WorkloadScale(float(tasks), tasks * self.hours, usage, usd))
            self.task_hours[end] += tasks * self.hours
            if kind == "worker":
                self.batch_task_hours[end] += tasks * self.hours
            self.fargate_vcpu_hours[end] += usage.on_demand_vcpu_hours + usage.spot_vcpu_hours
            self.container_hours[end] += tasks * self.hours * len(workload.containers)
            self.running_services[end] += 1.0 if tasks else 0.0
            if load_balancer is not None:
                self.alb_task_hours[end][load_balancer] += tasks * self.hours
            for provider, n in shares.items():
                if provider not in (FARGATE, FARGATE_SPOT):
                    self.demand[end][provider].append(_Demand(n, workload.cpu, workload.memory, architecture=workload.architecture))
        if any(item.provider not in (FARGATE, FARGATE_SPOT) for item in strategy):
            basis += "; its EC2 tasks are priced in their capacity provider's line"
        return WorkloadCost(
            kind,
            workload.name,
            workload.architecture,
            workload.cpu,
            workload.memory,
            _strategy_text(strategy),
            basis,
            scales[0],
            scales[1],
            priced,
        )

    def service(self, service: ServiceSpec) -> WorkloadCost:
        low, high = service.scaling_range
        lb = service.load_balancer
        target = None if lb is None else (f"shared {lb.shared}" if lb.shared else f"own {service.name}")
        basis = f"scaling {low}..{high} tasks (desired_count {service.desired_count})"
        return self.continuous("service", service, low, high, basis, service.capacity, target)

    def worker(self, worker: WorkerSpec) -> WorkloadCost:
        return self.continuous(
            "worker", worker, worker.min_count, worker.max_count, f"{worker.min_count}..{worker.max_count} tasks", worker.capacity
        )

    def job(self, job: JobSpec) -> WorkloadCost:
        count = job.count or 1
        runs = runs_per_month(job.schedule, self.hours) if job.schedule else 0.0
        typical = self.a.job_run_minutes if job.timeout_seconds is None else min(self.a.job_run_minutes, job.timeout_seconds / 60)
        longest = (job.timeout_seconds / 60 if job.timeout_seconds is not None else typical) * (1 + (job.retries or 0))
        provider = job.capacity or FARGATE
        label = f"job {job.name}"
        scales = []
        priced = True
        for end, minutes in (("min", typical), ("max", longest)):
            task_hours = runs * count * minutes / 60
            usage = self.usage(job.architecture, job.cpu, job.memory, job.ephemeral_storage_gib, {provider: task_hours})
            usd, ok = self.usd(usage, label)
            priced = priced and ok
            scales.append(WorkloadScale(runs * count, task_hours, usage, usd))
            self.task_hours[end] += task_hours
            self.batch_task_hours[end] += task_hours
            self.fargate_vcpu_hours[end] += usage.on_demand_vcpu_hours + usage.spot_vcpu_hours
            self.container_hours[end] += task_hours * len(job.containers)
            if provider not in (FARGATE, FARGATE_SPOT):
                self.demand[end][provider].append(_Demand(0.0, job.cpu, job.memory, task_hours, job.architecture))
        if job.schedule:
            basis = f"{job.schedule}: {runs:.1f} runs x {count} task(s) x {typical:g}..{longest:g} min"
            self.notes.append(Assumption(f"job {job.name}", f"{job.schedule} fires {runs:.1f} times a month; {basis.split(': ', 1)[1]}"))
        else:
            basis = "on demand only: no scheduled runs counted"
            self.notes.append(Assumption(f"job {job.name}", "no schedule: runs started with ecs-platform run-task are not counted"))
        if provider not in (FARGATE, FARGATE_SPOT):
            basis += "; priced in its capacity provider's line"
        return WorkloadCost("job", job.name, job.architecture, job.cpu, job.memory, provider, basis, scales[0], scales[1], priced)

    # --- the platform ---

    def task_months(self, end: str) -> float:
        return self.task_hours[end] / self.hours

    def line(self, name: str, usd: tuple[float, float], basis: str, price: float | None) -> CostLine:
        if price is None:
            return CostLine(name, 0.0, 0.0, basis + " (not priced)", priced=False)
        return CostLine(name, usd[0], usd[1], basis)

    def platform(self) -> list[CostLine]:
        spec, a, h = self.spec, self.a, self.hours
        zones = len(spec.environment.availability_zones)
        network = spec.network
        # An existing VPC's NAT gateways are its owner's bill.
        nat = 0 if network.existing else spec.nat_gateways
        lines: list[CostLine] = []
        ends = ("min", "max")
        interface = sum(limits.VPC_INTERFACE_ENDPOINTS[name] for name in network.endpoints)
        if network.existing:
            self.notes.append(Assumption("existing_vpc", "an existing VPC: its NAT gateways and flow logs are its owner's, not counted"))
        self.notes.append(
            Assumption(
                "vpc_endpoints",
                f"{interface} interface endpoints in each of the {zones} AZs"
                + (
                    "; batch tasks reach AWS through them only (batch_nat: false), so they move nothing through NAT"
                    if not network.batch_nat
                    else ""
                )
                if network.endpoints
                else "the spec asks for no VPC endpoints: AWS API traffic goes through the NAT gateways",
            )
        )

        nat_hour = self.price("NAT gateway hours", "nat_gateway", "hour")
        lines.append(self.line("NAT gateway hours", _both(nat * h * (nat_hour or 0)), f"{nat} x {h:g} h x {_usd(nat_hour)}", nat_hour))
        through_nat = {end: self.task_hours[end] - (0.0 if network.batch_nat else self.batch_task_hours[end]) for end in ends}
        nat_gb = {end: a.nat_gb_per_task_month * through_nat[end] / self.hours if nat else 0.0 for end in ends}
        nat_data = self.price("NAT gateway data", "nat_gateway", "gb_processed")
        lines.append(
            self.line(
                "NAT gateway data processed",
                _pair(nat_gb[end] * (nat_data or 0) for end in ends),
                f"{nat_gb['min']:.1f}..{nat_gb['max']:.1f} GB x {_usd(nat_data)}",
                nat_data,
            )
        )
        if interface:
            endpoint_hour = self.price("VPC interface endpoint hours", "vpc_endpoint", "interface_hour_per_az")
            lines.append(
                self.line(
                    "VPC interface endpoint hours",
                    _both(interface * zones * h * (endpoint_hour or 0)),
                    f"{interface} endpoints x {zones} AZs x {h:g} h x {_usd(endpoint_hour)}",
                    endpoint_hour,
                )
            )
        cross_gb = {
            end: nat_gb[end] * max(0, zones - nat) / zones + a.task_to_task_gb_per_task_month * self.task_months(end) * (zones - 1) / zones
            for end in ends
        }
        cross = self.price("cross-AZ data", "data_transfer", "cross_az_gb_each_direction")
        lines.append(
            self.line(
                "cross-AZ data transfer",
                _pair(cross_gb[end] * 2 * (cross or 0) for end in ends),
                f"{cross_gb['min']:.1f}..{cross_gb['max']:.1f} GB x 2 sides x {_usd(cross)}",
                cross,
            )
        )

        albs = self.load_balancers()
        if albs:
            alb_hour = self.price("load balancer hours", "alb", "hour")
            lines.append(
                self.line(
                    "load balancer hours", _both(len(albs) * h * (alb_hour or 0)), f"{len(albs)} ALB x {h:g} h x {_usd(alb_hour)}", alb_hour
                )
            )
            lcu = {end: a.alb_lcu_per_task * sum(self.alb_task_hours[end].values()) for end in ends}
            lcu_hour = self.price("load balancer LCUs", "alb", "lcu_hour")
            lines.append(
                self.line(
                    "load balancer LCUs",
                    _pair(lcu[end] * (lcu_hour or 0) for end in ends),
                    f"{lcu['min']:.0f}..{lcu['max']:.0f} LCU-hours x {_usd(lcu_hour)}",
                    lcu_hour,
                )
            )
        public_albs = sum(1 for public in albs.values() if public)
        addresses = public_albs * zones + nat
        ipv4 = self.price("public IPv4 addresses", "public_ipv4", "hour")
        lines.append(
            self.line(
                "public IPv4 addresses",
                _both(addresses * h * (ipv4 or 0)),
                f"{addresses} ({public_albs} internet-facing ALB x {zones} AZs + {nat} NAT) x {h:g} h x {_usd(ipv4)}",
                ipv4,
            )
        )

        keys = self.kms_keys()
        key_month = self.price("KMS keys", "kms", "key_month")
        lines.append(
            self.line(
                "KMS keys", _both(len(keys) * (key_month or 0)), f"{len(keys)} keys ({', '.join(keys)}) x {_usd(key_month)}", key_month
            )
        )

        log_gb = {end: a.log_gb_per_task_month * self.task_months(end) for end in ends}
        ingestion = self.price("CloudWatch Logs ingestion", "cloudwatch", "logs_ingestion_gb")
        lines.append(
            self.line(
                "CloudWatch Logs ingestion",
                _pair(log_gb[end] * (ingestion or 0) for end in ends),
                f"{log_gb['min']:.1f}..{log_gb['max']:.1f} GB of task logs x {_usd(ingestion)}",
                ingestion,
            )
        )
        flow_gb = {end: a.flow_log_gb_month + a.flow_log_gb_per_task_month * self.task_months(end) for end in ends}
        vended = self.price("VPC flow logs", "cloudwatch", "vended_logs_ingestion_gb")
        lines.append(
            self.line(
                "VPC flow logs ingestion",
                _pair(flow_gb[end] * (vended or 0) for end in ends),
                f"{flow_gb['min']:.1f}..{flow_gb['max']:.1f} GB x {_usd(vended)}",
                vended,
            )
        )
        retention_months = spec.logs.retention_days / (h / 24)
        stored = {end: (log_gb[end] + flow_gb[end]) * retention_months * a.log_stored_fraction for end in ends}
        storage = self.price("CloudWatch Logs storage", "cloudwatch", "logs_storage_gb_month")
        lines.append(
            self.line(
                "CloudWatch Logs storage",
                _pair(stored[end] * (storage or 0) for end in ends),
                f"{stored['min']:.1f}..{stored['max']:.1f} GB kept ({spec.logs.retention_days} days) x {_usd(storage)}",
                storage,
            )
        )

        metrics = {
            end: a.insights_metrics_per_cluster
            + a.insights_metrics_per_service * self.running_services[end]
            + a.insights_metrics_per_task * self.task_hours[end] / h
            + a.insights_metrics_per_container * self.container_hours[end] / h
            for end in ends
        }
        metric = self.price("Container Insights", "cloudwatch", "custom_metric_month")
        insights_gb = {end: a.insights_log_gb_per_task_month * self.task_months(end) for end in ends}
        lines.append(
            self.line(
                "Container Insights",
                _pair(metrics[end] * (metric or 0) + insights_gb[end] * (ingestion or 0) for end in ends),
                f"{metrics['min']:.0f}..{metrics['max']:.0f} metrics x {_usd(metric)} + {insights_gb['min']:.2f}..{insights_gb['max']:.2f} "
                f"GB of performance logs x {_usd(ingestion)}",
                metric,
            )
        )

        for provider in spec.capacity_providers:
            lines.append(self.asg(provider) if provider.type == "asg" else self.managed_instances(provider))
        if self.governance:
            lines += self.governance_lines(flow_gb)
        return lines

    def load_balancers(self) -> dict[str, bool]:
        """Every ALB of the spec (``own <service>`` or ``shared <name>``) -> whether it is internet-facing."""
        albs = {f"shared {lb.name}": lb.public for lb in self.spec.load_balancers}
        for service in self.spec.services:
            lb = service.load_balancer
            if lb is not None and lb.shared is None:
                albs[f"own {service.name}"] = bool(lb.public)
        return albs

    def kms_keys(self) -> list[str]:
        """The customer-managed keys of the environment's stacks (what each encrypts)."""
        keys = ["VPC flow logs", "log groups", "queues and topics"]
        if any(entry.type == "ecs_exec" for service in self.spec.services for entry in service.access):
            keys.append("ECS Exec sessions")
        if any(provider.type == "asg" for provider in self.spec.capacity_providers):
            keys.append("EC2 volumes")
        return keys

    def asg(self, provider: CapacityProviderSpec) -> CostLine:
        h = self.hours
        name = f"EC2 capacity {provider.name} (asg)"
        price, priced_type = next(
            ((self.prices.instance(t), t) for t in provider.instance_types if self.prices.instance(t) is not None), (None, None)
        )
        instance = limits.INSTANCE_TYPES.get(provider.instance_types[0])
        needed = 0
        job_hours = {"min": 0.0, "max": 0.0}
        if instance is None:
            self.notes.append(
                Assumption(
                    f"capacity {provider.name}",
                    f"the size of {provider.instance_types[0]} is not in ecs_platform.limits.INSTANCE_TYPES: at the minimum "
                    f"min_count ({provider.min_count}) instances, without the instance hours of jobs' runs",
                )
            )
        else:
            needed = _instances(instance, self.demand["min"][provider.name], provider.target_capacity_percent)
            job_hours = {end: _job_instance_hours(instance, self.demand[end][provider.name]) for end in job_hours}
        instance_hours = {"min": max(provider.min_count, needed) * h + job_hours["min"], "max": provider.max_count * h}
        basis = f"{instance_hours['min']:.0f}..{instance_hours['max']:.0f} instance-hours of {priced_type or provider.instance_types[0]}"
        if provider.spot_percent:
            basis += f" ({provider.on_demand_base} On-Demand, then {provider.spot_percent} % Spot)"
        if price is None:
            self.unpriced.append(f"{name}: the {self.prices.region} price file has no price for {', '.join(provider.instance_types)}")
            return CostLine(name, 0.0, 0.0, basis + " (not priced)", priced=False)
        base_hours = provider.on_demand_base * h

        def usd(hours: float) -> float:
            on_demand = min(hours, base_hours) + max(0.0, hours - base_hours) * (1 - provider.spot_percent / 100)
            return (on_demand + (hours - on_demand) * self.a.ec2_spot_factor) * price

        return CostLine(name, usd(instance_hours["min"]), usd(instance_hours["max"]), basis + f" x {_usd(price)}")

    def managed_instances(self, provider: CapacityProviderSpec) -> CostLine:
        h = self.hours
        name = f"EC2 capacity {provider.name} (managed instances)"
        assert provider.vcpus is not None and provider.memory_gib is not None  # the spec requires both
        vcpus, memory = provider.vcpus, provider.memory_gib
        architectures = {d.architecture for end in ("min", "max") for d in self.demand[end][provider.name]}
        candidates = sorted(
            (price, type_name)
            for type_name, instance in limits.INSTANCE_TYPES.items()
            if (price := self.prices.instance(type_name)) is not None
            and vcpus.min <= instance.vcpus <= (vcpus.max or instance.vcpus)
            and memory.min * 1024 <= instance.memory_mib <= (memory.max or instance.memory_mib // 1024) * 1024
            and (not architectures or architectures == {instance.arch})
            and instance.gpus == 0
        )
        if not candidates:
            self.unpriced.append(f"{name}: the {self.prices.region} price file prices no instance type within its vcpus and memory_gib")
            return CostLine(name, 0.0, 0.0, "no priced instance type matches (not priced)", priced=False)
        price, type_name = candidates[0]
        instance = limits.INSTANCE_TYPES[type_name]
        factor = self.a.ec2_spot_factor if provider.spot else 1.0
        hours = {
            end: _instances(instance, self.demand[end][provider.name], 100) * h
            + _job_instance_hours(instance, self.demand[end][provider.name])
            for end in ("min", "max")
        }
        option = "Spot" if provider.spot else "On-Demand"
        basis = f"{hours['min']:.0f}..{hours['max']:.0f} instance-hours of {type_name} ({option}) x {_usd(price)}"
        return CostLine(name, hours["min"] * price * factor, hours["max"] * price * factor, basis)

    def governance_lines(self, flow_gb: Mapping[str, float]) -> list[CostLine]:
        a = self.a
        ends = ("min", "max")
        items = {end: a.config_items_month + a.config_items_per_task_month * self.task_months(end) for end in ends}
        item = self.price("AWS Config", "config", "configuration_item")
        evaluation = self.price("AWS Config rules", "config", "rule_evaluation")
        config = self.line(
            "AWS Config",
            _pair(items[end] * ((item or 0) + a.config_rules * (evaluation or 0)) for end in ends),
            f"{items['min']:.0f}..{items['max']:.0f} configuration items x ({_usd(item)} + {a.config_rules} rule evaluations "
            f"x {_usd(evaluation)})",
            None if item is None or evaluation is None else item,
        )
        events = self.price("GuardDuty", "guardduty", "cloudtrail_million_events")
        flow = self.price("GuardDuty", "guardduty", "flow_dns_logs_gb")
        guardduty = self.line(
            "GuardDuty",
            _pair(a.guardduty_events_month / 1e6 * (events or 0) + flow_gb[end] * (flow or 0) for end in ends),
            f"{a.guardduty_events_month / 1e6:g} M CloudTrail events x {_usd(events)} + "
            f"{flow_gb['min']:.1f}..{flow_gb['max']:.1f} GB of flow logs x {_usd(flow)}",
            None if events is None or flow is None else events,
        )
        trail = self.price("CloudTrail", "cloudtrail", "first_management_trail_month")
        cloudtrail = self.line("CloudTrail", _both(trail or 0.0), "one trail of management events (its first copy is free)", trail)
        lines = [config, guardduty, cloudtrail]
        governance = self.spec.governance
        if governance is None or governance.runtime_monitoring:
            vcpu_hour = self.price("GuardDuty Runtime Monitoring", "guardduty", "runtime_monitoring_vcpu_hour")
            hours = self.fargate_vcpu_hours
            lines.append(
                self.line(
                    "GuardDuty Runtime Monitoring",
                    _pair(hours[end] * (vcpu_hour or 0) for end in ends),
                    f"{hours['min']:,.0f}..{hours['max']:,.0f} Fargate vCPU-hours monitored x {_usd(vcpu_hour)}",
                    vcpu_hour,
                )
            )
        return lines


def _usd(price: float | None) -> str:
    return "$?" if price is None else f"${price:g}"


def _both(value: float) -> tuple[float, float]:
    return value, value


def _pair(values: Iterable[float]) -> tuple[float, float]:
    low, high = values
    return low, high


def _strategy_text(strategy: Sequence[CapacitySpec]) -> str:
    if not strategy:
        return FARGATE
    parts = []
    for item in strategy:
        text = item.provider
        if item.base:
            text += f" base {item.base}"
        text += f" weight {item.weight}"
        parts.append(text)
    return ", ".join(parts)


def _instances(instance: limits.InstanceType, demand: Sequence[_Demand], target_percent: int) -> int:
    """Instances of ``instance`` that the running tasks of ``demand`` need at ``target_percent`` of their use."""
    tasks = sum(d.tasks for d in demand)
    if not tasks:
        return 0
    need = max(
        sum(d.tasks * d.cpu for d in demand) / instance.task_cpu,
        sum(d.tasks * d.memory for d in demand) / instance.task_memory_mib,
        tasks / max(1, instance.enis - 1),
    )
    return math.ceil(need / (target_percent / 100) - 1e-9)


def _job_instance_hours(instance: limits.InstanceType, demand: Sequence[_Demand]) -> float:
    """Instance hours the runs of jobs need: their task hours over the tasks one instance holds."""
    hours = 0.0
    for d in demand:
        if d.job_task_hours:
            per_instance = max(1, min(instance.task_cpu // d.cpu, instance.task_memory_mib // d.memory, instance.enis - 1))
            hours += d.job_task_hours / per_instance
    return hours


def estimate(
    spec: Spec, prices: Prices | None = None, *, governance: bool | None = None, assumptions: Assumptions | None = None
) -> CostEstimate:
    """The monthly cost of ``spec`` (one environment) at the minimum and the maximum scale (COST-1).

    ``prices`` default to the price file of the spec's region (PriceError when there is none);
    ``governance`` adds AWS Config, GuardDuty and CloudTrail (default: when the spec has ``governance:``);
    ``assumptions`` replace the stated defaults."""
    if governance is None:
        governance = spec.governance is not None
    prices = prices or Prices.load(spec.environment.region)
    a = assumptions or Assumptions()
    estimator = _Estimator(spec, prices, a, governance)
    workloads = [estimator.service(s) for s in spec.services]
    workloads += [estimator.worker(w) for w in spec.workers]
    workloads += [estimator.job(j) for j in spec.jobs]
    platform = estimator.platform()
    stated = a.describe() + estimator.notes + (a.describe_governance() if governance else [])
    return CostEstimate(
        app=spec.app,
        environment=spec.environment.name,
        region=prices.region,
        currency=prices.currency,
        price_date=prices.date,
        price_sources=prices.source,
        workloads=tuple(workloads),
        platform=tuple(platform),
        assumptions=tuple(stated),
        unpriced=tuple(dict.fromkeys(estimator.unpriced)),
        governance=governance,
    )
