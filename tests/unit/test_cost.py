"""``ecs-platform cost`` and :mod:`ecs_platform.cost`: a spec's monthly cost at its minimum and maximum scale (COST-1).

The default spec's estimate is checked against a calculation written out here from the same price
file (the module's helpers are not called for it), so a change of either the model or the prices
shows up as a difference. Other specs are small dicts parsed by the spec layer.
"""

from __future__ import annotations

import ast
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ecs_platform.app_builder import PROJECT_ROOT
from ecs_platform.cli import cost as cli
from ecs_platform.cli import main as dispatch
from ecs_platform.cost import (
    PRICES_DIR,
    Assumptions,
    CostEstimate,
    PriceError,
    Prices,
    estimate,
    one_line,
    runs_per_month,
)
from ecs_platform.spec import Spec, load_specs, parse_spec

DEFAULT_SPEC = PROJECT_ROOT / "specs" / "default.yaml"
TOKYO = PRICES_DIR / "ap-northeast-1.json"
H = 730.0


def usd(prices: dict[str, Any], *path: str) -> float:
    node: Any = prices["prices"]
    for key in path:
        node = node[key]
    return float(node["usd"])


@pytest.fixture(scope="module")
def tokyo() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TOKYO.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def default() -> CostEstimate:
    return estimate(load_specs(DEFAULT_SPEC)[0])


def line(result: CostEstimate, name: str) -> tuple[float, float]:
    found = [x for x in result.lines() if x.name == name]
    assert len(found) == 1, f"no single line {name!r} in {[x.name for x in result.lines()]}"
    return found[0].min_usd, found[0].max_usd


def spec_of(**fields: Any) -> Spec:
    """A one-environment spec in Tokyo with two AZs, one NAT gateway and a Service Connect namespace (services without a
    load balancer need one; it adds no cost line), plus ``fields``."""
    data = {
        "app": "shop",
        "environment": {"name": "dev", "availability_zones": ["ap-northeast-1a", "ap-northeast-1c"]},
        "service_connect": {"namespace": "shop.internal"},
        **fields,
    }
    return parse_spec(data)


def container(name: str = "app") -> dict[str, Any]:
    return {"name": name, "image": "public.ecr.aws/nginx/nginx:1.27"}


# --- the default spec, calculated independently --------------------------------------------------


def written_prices(tokyo: dict[str, Any], path: Path) -> dict[str, Any]:
    """A price file written here: the Tokyo file's keys, each price a different round figure (1, 2, 3 ... cents), so a
    line that read the wrong price, or none, cannot come out right by accident."""
    data = json.loads(json.dumps(tokyo))
    figures = iter(range(1, 1000))

    def walk(node: Any) -> None:
        if isinstance(node, dict) and "usd" in node and node["usd"] is not None:
            node["usd"] = next(figures) / 100
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(data["prices"])
    path.write_text(json.dumps(data), encoding="utf-8")
    return data


@pytest.fixture(scope="module", params=["shipped", "written"])
def priced(
    request: pytest.FixtureRequest, tokyo: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> tuple[CostEstimate, dict[str, Any]]:
    """The default spec's estimate and the price file it came from: Tokyo's, and one written by the test."""
    if request.param == "shipped":
        return estimate(load_specs(DEFAULT_SPEC)[0]), tokyo
    path = tmp_path_factory.mktemp("prices") / "ap-northeast-1.json"
    prices = written_prices(tokyo, path)
    return estimate(load_specs(DEFAULT_SPEC)[0], Prices.from_file(path)), prices


def test_cost1_default_spec_matches_an_independent_calculation_from_the_price_file(priced: tuple[CostEstimate, dict[str, Any]]) -> None:
    """COST-1: every line and the total of specs/default.yaml equal a calculation written out from the price file (the
    Tokyo one, and one this test writes) and the stated assumptions: my-service 2..4 tasks of 0.25 vCPU / 0.5 GB all
    month, nightly-report 10 minutes a day, one NAT gateway, one internet-facing ALB in two AZs, three KMS keys, logs
    kept 365 days."""
    default, tokyo = priced
    vcpu, gb = usd(tokyo, "fargate", "x86_64", "vcpu_hour"), usd(tokyo, "fargate", "x86_64", "gb_hour")
    task_price = 0.25 * vcpu + 0.5 * gb
    job_hours = (H / 24) * 10 / 60  # a run a day of 10 minutes
    service_hours = {"min": 2 * H, "max": 4 * H}
    hours = {end: service_hours[end] + job_hours for end in service_hours}
    months = {end: hours[end] / H for end in hours}
    ingestion = usd(tokyo, "cloudwatch", "logs_ingestion_gb")
    expected: dict[str, tuple[float, float]] = {}

    def both(f: Any) -> tuple[float, float]:
        return f("min"), f("max")

    expected["service my-service"] = both(lambda e: service_hours[e] * task_price)
    expected["job nightly-report"] = both(lambda e: job_hours * task_price)
    expected["NAT gateway hours"] = both(lambda e: 1 * H * usd(tokyo, "nat_gateway", "hour"))
    expected["NAT gateway data processed"] = both(lambda e: 5 * months[e] * usd(tokyo, "nat_gateway", "gb_processed"))
    # One NAT in two AZs: half the NAT traffic crosses, and half of the 1 GB per task-month between tasks; both sides pay.
    expected["cross-AZ data transfer"] = both(
        lambda e: (5 * months[e] / 2 + 1 * months[e] / 2) * 2 * usd(tokyo, "data_transfer", "cross_az_gb_each_direction")
    )
    expected["load balancer hours"] = both(lambda e: H * usd(tokyo, "alb", "hour"))
    expected["load balancer LCUs"] = both(lambda e: 0.25 * service_hours[e] * usd(tokyo, "alb", "lcu_hour"))
    expected["public IPv4 addresses"] = both(lambda e: (2 + 1) * H * usd(tokyo, "public_ipv4", "hour"))
    expected["KMS keys"] = both(lambda e: 3 * usd(tokyo, "kms", "key_month"))
    expected["CloudWatch Logs ingestion"] = both(lambda e: 1 * months[e] * ingestion)
    expected["VPC flow logs ingestion"] = both(lambda e: (1 + 0.5 * months[e]) * usd(tokyo, "cloudwatch", "vended_logs_ingestion_gb"))
    expected["CloudWatch Logs storage"] = both(
        lambda e: (months[e] + 1 + 0.5 * months[e]) * (365 / (H / 24)) * 0.15 * usd(tokyo, "cloudwatch", "logs_storage_gb_month")
    )
    # 20 for the cluster, 20 for the one service, 15 per running task and 12 per running container (one per task).
    expected["Container Insights"] = both(
        lambda e: (
            (20 + 20 + 15 * months[e] + 12 * months[e]) * usd(tokyo, "cloudwatch", "custom_metric_month") + 0.1 * months[e] * ingestion
        )
    )

    assert {x.name for x in default.lines()} == set(expected)
    for name, (low, high) in expected.items():
        assert line(default, name) == pytest.approx((low, high)), name
    assert default.total_min == pytest.approx(sum(low for low, _ in expected.values()))
    assert default.total_max == pytest.approx(sum(high for _, high in expected.values()))
    assert default.unpriced == ()


def test_cost1_the_independent_calculation_uses_the_stated_assumptions() -> None:
    """The figures the calculation above writes out are the module's stated defaults: a change of one must change both."""
    a = Assumptions()
    assert (a.hours_per_month, a.job_run_minutes, a.nat_gb_per_task_month, a.task_to_task_gb_per_task_month) == (730, 10, 5, 1)
    assert (a.alb_lcu_per_task, a.log_gb_per_task_month, a.flow_log_gb_month, a.flow_log_gb_per_task_month) == (0.25, 1, 1, 0.5)
    assert (a.log_stored_fraction, a.insights_log_gb_per_task_month) == (0.15, 0.1)
    assert (
        a.insights_metrics_per_cluster,
        a.insights_metrics_per_service,
        a.insights_metrics_per_task,
        a.insights_metrics_per_container,
    ) == (
        20,
        20,
        15,
        12,
    )


def test_cost1_default_spec_fargate_hours_are_x86_on_demand(default: CostEstimate) -> None:
    """COST-1: the Fargate hours of the default spec: x86 On-Demand only, 0.25 vCPU-hours and 0.5 GB-hours per task-hour."""
    hours = default.fargate_hours()
    task_hours = 2 * H + (H / 24) * 10 / 60
    assert hours["min"]["x86_64"]["on_demand"] == {
        "vcpu_hours": pytest.approx(0.25 * task_hours),
        "gb_hours": pytest.approx(0.5 * task_hours),
    }
    assert hours["min"]["x86_64"]["spot"] == {"vcpu_hours": 0, "gb_hours": 0}
    assert hours["max"]["arm64"]["on_demand"] == {"vcpu_hours": 0, "gb_hours": 0}


def test_cost1_largest_drivers_of_the_default_spec_are_nat_container_insights_and_public_ipv4(default: CostEstimate) -> None:
    """COST-1: what a small environment pays whatever it runs dominates: NAT gateway hours, Container Insights and public
    IPv4 addresses are among the five largest lines of the default spec."""
    names = [x.name for x in default.largest_drivers(5)]
    assert {"NAT gateway hours", "Container Insights", "public IPv4 addresses"} <= set(names)
    assert names[0] == "NAT gateway hours"
    maxima = [x.max_usd for x in default.largest_drivers(5)]
    assert maxima == sorted(maxima, reverse=True)


def test_cost1_one_line_names_the_range_and_the_main_drivers(default: CostEstimate) -> None:
    """COST-1: the summary line reads ``about $X–$Y a month, mostly A, B and C``, from the totals and the largest drivers."""
    text = one_line(default)
    assert text == (
        f"about ${default.total_min:,.0f}–${default.total_max:,.0f} a month, "
        "mostly NAT gateway hours, service my-service and Container Insights"
    )


# --- capacity strategies, architectures, min and max ---------------------------------------------


def test_cost1_spot_weights_split_tasks_after_the_base(tokyo: dict[str, Any]) -> None:
    """ARCH-3/COST-1: FARGATE base 1 weight 1 + FARGATE_SPOT weight 3 at 5 tasks: 1 base + 1 by weight On-Demand, 3 Spot;
    Spot at the stated 30 % of On-Demand."""
    spec = spec_of(
        services=[
            {
                "name": "api",
                "cpu": 1024,
                "memory": 2048,
                "desired_count": 5,
                "scaling": {"min_count": 5, "max_count": 9},
                "containers": [container()],
                "capacity": [{"provider": "FARGATE", "base": 1, "weight": 1}, {"provider": "FARGATE_SPOT", "weight": 3}],
            }
        ]
    )
    api = estimate(spec).workloads[0]
    assert api.at_min.usage.on_demand_vcpu_hours == pytest.approx(2 * H)
    assert api.at_min.usage.spot_vcpu_hours == pytest.approx(3 * H)
    assert api.at_max.usage.on_demand_vcpu_hours == pytest.approx(3 * H)  # 1 + 8/4
    assert api.at_max.usage.spot_vcpu_hours == pytest.approx(6 * H)
    per_task_hour = usd(tokyo, "fargate", "x86_64", "vcpu_hour") + 2 * usd(tokyo, "fargate", "x86_64", "gb_hour")
    assert api.at_min.usd == pytest.approx((2 + 3 * 0.3) * H * per_task_hour)
    assert api.capacity == "FARGATE base 1 weight 1, FARGATE_SPOT weight 3"


def test_cost1_arm_tasks_use_the_arm_prices(tokyo: dict[str, Any]) -> None:
    """COST-1: an arm64 workload is priced with the price file's Linux/ARM figures, and counted under arm64."""
    spec = spec_of(
        workers=[{"name": "w", "architecture": "arm64", "queue": {}, "min_count": 2, "max_count": 4, "containers": [container()]}]
    )
    result = estimate(spec)
    worker = result.workloads[0]
    arm = 0.25 * usd(tokyo, "fargate", "arm64", "vcpu_hour") + 0.5 * usd(tokyo, "fargate", "arm64", "gb_hour")
    assert (worker.at_min.usd, worker.at_max.usd) == pytest.approx((2 * H * arm, 4 * H * arm))
    assert result.fargate_hours()["max"]["arm64"]["on_demand"]["vcpu_hours"] == pytest.approx(4 * H * 0.25)
    assert result.fargate_hours()["max"]["x86_64"]["on_demand"]["vcpu_hours"] == 0


def test_cost1_min_and_max_follow_scaling_workers_and_job_timeouts() -> None:
    """COST-1: a service costs its scaling min..max, a worker that scales to zero nothing at the minimum, and a job at the
    maximum runs its full timeout and every retry."""
    spec = spec_of(
        services=[{"name": "api", "desired_count": 3, "scaling": {"min_count": 3, "max_count": 7}, "containers": [container()]}],
        workers=[{"name": "w", "queue": {}, "scale_to_zero": True, "min_count": 0, "max_count": 6, "containers": [container()]}],
        jobs=[
            {
                "name": "j",
                "schedule": "rate(1 hour)",
                "timeout_seconds": 1800,
                "retries": 1,
                "containers": [container()],
            }
        ],
    )
    api, worker, job = estimate(spec).workloads
    assert (api.at_min.tasks, api.at_max.tasks) == (3, 7)
    assert (worker.at_min.usd, worker.at_min.task_hours) == (0, 0)
    assert worker.at_max.task_hours == pytest.approx(6 * H)
    assert job.at_min.task_hours == pytest.approx(H * 10 / 60)  # 730 runs x 10 minutes
    assert job.at_max.task_hours == pytest.approx(H * 30 / 60 * 2)  # x 30 minutes x (1 + 1 retry)
    assert job.at_max.usd == pytest.approx(job.at_min.usd * 6)


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("rate(1 hour)", 730),
        ("rate(15 minutes)", 730 * 4),
        ("rate(2 days)", 730 / 48),
        ("cron(0 3 * * ? *)", 730 / 24),
        ("cron(0/15 9-17 * * ? *)", 4 * 9 * 730 / 24),
        ("cron(0 9 ? * MON-FRI *)", 5 / 7 * 730 / 24),
        ("cron(30 1 1,15 * ? *)", 2),
        ("cron(0 0 L * ? *)", 1),
        ("cron(0 12 ? * 2#1 *)", 1),
        ("cron(0 6 * JAN,JUL ? *)", 730 / 24 * 2 / 12),
    ],
)
def test_cost1_runs_a_month_follow_the_schedule(expression: str, runs: float) -> None:
    """COST-1: a job's runs a month come from its EventBridge Scheduler expression (rate, cron lists, ranges, steps, L, #)."""
    assert runs_per_month(expression) == pytest.approx(runs)


def test_cost1_a_job_without_a_schedule_counts_no_runs() -> None:
    """COST-1: a job run on demand only costs nothing in the estimate, and the assumption says so."""
    result = estimate(spec_of(jobs=[{"name": "adhoc", "containers": [container()]}]))
    assert (result.workloads[0].at_min.usd, result.workloads[0].at_max.usd) == (0, 0)
    assert any(a.name == "job adhoc" and "not counted" in a.text for a in result.assumptions)


# --- load balancers, keys, EC2 capacity, governance ---------------------------------------------


def test_cost1_shared_and_internal_load_balancers_are_counted_with_their_addresses() -> None:
    """COST-1: a shared internet-facing ALB and a service's internal ALB are two ALBs; only the public one holds an address
    per AZ; an ecs_exec grant adds the ECS Exec key."""
    spec = spec_of(
        network={"nat_gateways": 2},
        load_balancers=[{"name": "edge", "public": True, "https": False}],
        services=[
            {"name": "web", "containers": [{**container(), "port": 80}], "load_balancer": {"shared": "edge"}},
            {
                "name": "admin",
                "containers": [{**container(), "port": 80}],
                "load_balancer": {"public": False, "https": False},
                "access": [{"type": "ecs_exec"}],
            },
        ],
    )
    result = estimate(spec)
    platform = {x.name: x for x in result.platform}
    assert platform["load balancer hours"].basis.startswith("2 ALB x 730 h")
    assert platform["public IPv4 addresses"].basis.startswith("4 (1 internet-facing ALB x 2 AZs + 2 NAT)")
    assert "ECS Exec sessions" in platform["KMS keys"].basis
    assert platform["KMS keys"].max_usd == 4


def _ec2_spec() -> Spec:
    return spec_of(
        capacity_providers=[
            {"name": "general", "instance_types": ["m7g.large"], "min_count": 1, "max_count": 4, "on_demand_base": 1, "spot_percent": 50}
        ],
        services=[
            {
                "name": "api",
                "architecture": "arm64",
                "cpu": 1024,
                "memory": 2048,
                "desired_count": 4,
                "containers": [container()],
                "capacity": [{"provider": "general", "weight": 1}],
            }
        ],
    )


def test_cost1_asg_capacity_is_instance_hours_with_the_spot_share_discounted() -> None:
    """ARCH-2/COST-1: an asg provider costs its instance hours (the tasks' need at the minimum, max_count at the maximum) at
    the listed type's price, On-Demand base first and spot_percent of the rest at the stated Spot share; its tasks cost no
    Fargate."""
    prices = Prices.load("us-east-1")
    price = prices.instance("m7g.large")
    assert price is not None
    result = estimate(_ec2_spec(), prices)
    api = result.workloads[0]
    assert api.at_min.usd == 0 and api.at_min.usage.ec2_task_hours == {"general": pytest.approx(4 * H)}
    # 4 tasks of 1 vCPU / 2 GiB on m7g.large (2 vCPU, 8 GiB, 2 task ENIs): 2 instances; at the maximum max_count 4.
    low, high = line(result, "EC2 capacity general (asg)")
    assert low == pytest.approx((1 + 0.5 + 0.5 * 0.4) * H * price)
    assert high == pytest.approx((1 + 1.5 + 1.5 * 0.4) * H * price)
    assert "EC2 volumes" in next(x for x in result.platform if x.name == "KMS keys").basis


def test_cost1_an_instance_type_without_a_price_is_reported_not_guessed() -> None:
    """COST-1: Tokyo's price file has no EC2 prices: the capacity line counts 0, says 'not priced', and the estimate lists it."""
    result = estimate(_ec2_spec())
    ec2 = next(x for x in result.platform if x.name == "EC2 capacity general (asg)")
    assert (ec2.min_usd, ec2.max_usd, ec2.priced) == (0, 0, False)
    assert any("m7g.large" in item for item in result.unpriced)
    assert "not priced" in one_line(result)


def test_cost1_managed_instances_are_the_cheapest_priced_type_in_range() -> None:
    """COST-1: ECS Managed Instances are priced as the cheapest priced type within vcpus/memory_gib, as many as the tasks
    need; with Spot at the stated share."""
    spec = spec_of(
        capacity_providers=[
            {"name": "managed", "type": "managed_instances", "vcpus": {"min": 2, "max": 4}, "memory_gib": {"min": 4}, "spot": True}
        ],
        workers=[
            {
                "name": "w",
                "architecture": "arm64",
                "cpu": 1024,
                "memory": 2048,
                "queue": {},
                "min_count": 1,
                "max_count": 3,
                "containers": [container()],
                "capacity": [{"provider": "managed", "weight": 1}],
            }
        ],
    )
    prices = Prices.load("us-east-1")
    result = estimate(spec, prices)
    low, high = line(result, "EC2 capacity managed (managed instances)")
    price = prices.instance("m7g.large")
    assert price is not None
    assert (low, high) == pytest.approx((1 * H * price * 0.4, 2 * H * price * 0.4))


def test_cost1_governance_adds_config_guardduty_and_cloudtrail() -> None:
    """COST-1: governance=True adds AWS Config, GuardDuty and CloudTrail; Tokyo has no GuardDuty price (not priced),
    us-east-1 has; a trail's first copy of management events is free."""
    spec = load_specs(DEFAULT_SPEC)[0]
    plain, tokyo, virginia = estimate(spec), estimate(spec, governance=True), estimate(spec, Prices.load("us-east-1"), governance=True)
    assert {x.name for x in tokyo.platform} - {x.name for x in plain.platform} == {
        "AWS Config",
        "GuardDuty",
        "CloudTrail",
        "GuardDuty Runtime Monitoring",
    }
    assert next(x for x in tokyo.platform if x.name == "GuardDuty").priced is False
    assert any(a.name == "governance" for a in tokyo.assumptions)
    guardduty = next(x for x in virginia.platform if x.name == "GuardDuty")
    assert guardduty.priced and guardduty.min_usd > 0
    assert next(x for x in virginia.platform if x.name == "CloudTrail").max_usd == 0
    assert line(tokyo, "AWS Config")[0] > 0


def test_cost1_every_assumption_is_a_named_printed_line(default: CostEstimate) -> None:
    """COST-1: each assumption has a name and a sentence, and the text output prints every one."""
    text = cli.render(default)
    assert len({a.name for a in default.assumptions}) == len(default.assumptions)
    for assumption in default.assumptions:
        assert assumption.text
        assert f"  {assumption.name}: {assumption.text}" in text


# --- price files --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(PRICES_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_cost1_the_price_file_names_its_region_date_and_sources(path: Path) -> None:
    """COST-1: a price file names its region (its file name), currency, date and the AWS pricing pages; every price says
    where it was read, how it was derived, or why it is missing."""
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["region"] == path.stem
    assert data["currency"] == "USD"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["date"])
    assert data["source"] and all(url.startswith("https://aws.amazon.com/") for url in data["source"])
    assert data["notes"]

    def prices(node: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
        if "usd" in node:
            return [(path, node)]
        return [found for key, child in node.items() for found in prices(child, f"{path}.{key}")]

    found = prices(data["prices"])
    assert len(found) > 10
    for name, price in found:
        assert price["usd"] is None or price["usd"] >= 0, name
        assert {"from", "derived", "missing"} & set(price), f"{name} says neither where it comes from nor why it is missing"
        assert (price["usd"] is None) == ("missing" in price), name


def test_cost1_a_region_without_a_price_file_is_refused() -> None:
    """COST-1: an unknown region raises PriceError naming the regions there are files for."""
    with pytest.raises(PriceError, match=r"no price file for 'eu-west-9'.*allowed: ap-northeast-1"):
        Prices.load("eu-west-9")


# --- the command --------------------------------------------------------------------------------


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_cost1_the_command_prints_workloads_platform_total_assumptions_and_drivers(default: CostEstimate) -> None:
    """COST-1: ``ecs-platform cost`` prints each workload and platform line at min and max, the total, the assumptions,
    the largest drivers and the summary sentence."""
    status, out, _ = run("--spec", str(DEFAULT_SPEC))
    assert status == 0
    assert re.search(r"service my-service\s+22\.50\s+44\.99", out)
    assert re.search(rf"Total\s+{default.total_min:,.2f}\s+{default.total_max:,.2f}", out)
    assert "\nAssumptions\n" in out and "\nLargest drivers (at the maximum)\n  NAT gateway hours: " in out
    assert out.rstrip().endswith(one_line(default)[1:] + ".")


def test_cost1_json_output_parses_and_matches_the_estimate(default: CostEstimate) -> None:
    """COST-1: ``--json`` prints one JSON object: workloads, platform, total, Fargate hours, assumptions, drivers, summary."""
    status, out, _ = run("--spec", str(DEFAULT_SPEC), "--json")
    assert status == 0
    data = json.loads(out)
    assert data["total"] == {"min_usd": round(default.total_min, 4), "max_usd": round(default.total_max, 4)}
    assert [w["name"] for w in data["workloads"]] == ["my-service", "nightly-report"]
    assert data["largest_drivers"][0]["name"] == "NAT gateway hours"
    assert data["fargate_hours"]["max"]["x86_64"]["on_demand"]["vcpu_hours"] > 0
    assert data["summary"] == one_line(default)
    assert data["region"] == "ap-northeast-1" and data["price_date"] and data["price_sources"]


def test_cost1_the_dispatcher_runs_the_cost_command(capsys: pytest.CaptureFixture[str]) -> None:
    """``ecs-platform cost`` is a registered subcommand."""
    assert dispatch(["cost", "--spec", str(DEFAULT_SPEC), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["app"] == "my-app"


def test_cost1_fails_when_the_spec_is_invalid(tmp_path: Path) -> None:
    """COST-1: a bad spec prints the spec layer's message (every problem with its path) and exits 1."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("app: Bad_Name\nenvironment: {name: dev, availability_zones: [ap-northeast-1a]}\n", encoding="utf-8")
    status, out, err = run("--spec", str(bad))
    assert (status, out) == (1, "")
    assert err.startswith(f"error: {bad}: 2 problem(s) in the spec:\n  app: 'Bad_Name' is not valid; allowed: lowercase letters")
    assert "environment.availability_zones: 1 availability zone(s); allowed: 2 to 6" in err


def test_cost1_fails_when_the_spec_file_is_missing() -> None:
    """COST-1: a missing spec file exits 1 with the loader's message."""
    status, _, err = run("--spec", "specs/missing.yaml")
    assert status == 1
    assert err.startswith("error: specs/missing.yaml: 1 problem(s) in the spec:\n  cannot read the spec file")


def test_cost1_fails_when_the_environment_is_unknown() -> None:
    """COST-1: --env names an environment the spec does not have: exit 1, naming the ones it has."""
    status, _, err = run("--spec", str(PROJECT_ROOT / "specs" / "environments.yaml"), "--env", "qa")
    assert status == 1
    assert "environment 'qa' is not in the spec; allowed: " in err


def test_cost1_fails_when_the_region_has_no_price_file(tmp_path: Path) -> None:
    """COST-1: a spec in a region without a price file exits 1, naming the regions with one."""
    spec = tmp_path / "paris.yaml"
    spec.write_text(
        "app: shop\nenvironment: {name: dev, region: eu-west-3, availability_zones: [eu-west-3a, eu-west-3b]}\n"
        "jobs: [{name: j, containers: [{name: c, image: busybox}]}]\n",
        encoding="utf-8",
    )
    status, _, err = run("--spec", str(spec))
    assert status == 1
    assert err.startswith("error: no price file for 'eu-west-3'")


def test_cost1_fails_when_the_arguments_are_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown options are argparse's usage error, exit 2."""
    assert cli.main(["--spce", "x"]) == 2
    assert "unrecognized arguments: --spce x" in capsys.readouterr().err


@pytest.mark.integration
def test_cost1_help_loads_neither_cdk_nor_pydantic() -> None:
    """``ecs-platform cost --help`` and ``import ecs_platform.cost`` load neither aws_cdk, jsii nor the spec models (pydantic,
    YAML): the command starts fast, and the estimate is pure computation."""
    script = (
        "import sys\n"
        "from ecs_platform.cli import main\n"
        "import ecs_platform.cost\n"
        "status = main(['cost', '--help'])\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii', 'constructs', 'cdk_nag', 'pydantic', 'yaml'})\n"
        "print('LOADED', loaded, status)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.startswith("usage: ecs-platform cost ")
    assert result.stdout.splitlines()[-1] == "LOADED [] 0"


def test_cost1_the_module_imports_only_the_spec_and_the_limits() -> None:
    """Layering: ecs_platform/cost.py imports no CDK, no boto3, and of the project only ecs_platform.spec and ecs_platform.limits."""
    tree = ast.parse((PROJECT_ROOT / "ecs_platform" / "cost.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {
        f"{node.module}.{alias.name}" if node.module == "ecs_platform" else str(node.module)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    project = {name for name in imported if name.startswith("ecs_platform")}
    assert project <= {"ecs_platform.limits", "ecs_platform.spec.models"}, project
    assert not {name.split(".")[0] for name in imported} & {"aws_cdk", "constructs", "boto3", "botocore"}


def test_cost1_the_estimate_prices_the_drivers_users_miss_as_lines_of_their_own(default: CostEstimate) -> None:
    """COST-1: NAT gateway hours and data, Container Insights, public IPv4 addresses and cross-AZ traffic are each a
    priced line with its basis (what users asked about: "3 NAT gateways, Container Insights ... no cost guidance")."""
    lines = {x.name: x for x in default.lines()}
    for name in (
        "NAT gateway hours",
        "NAT gateway data processed",
        "Container Insights",
        "public IPv4 addresses",
        "cross-AZ data transfer",
    ):
        assert lines[name].priced and lines[name].max_usd > 0 and lines[name].basis, name


def test_cost1_the_synthesis_summary_shows_each_environments_estimate_in_one_line(default: CostEstimate) -> None:
    from ecs_platform.summary import cost_lines

    assert cost_lines(str(DEFAULT_SPEC), {"dev"}) == [f"cost: dev: {one_line(default)} (make cost SPEC={DEFAULT_SPEC} ENV=dev: each line)"]
    assert cost_lines(str(DEFAULT_SPEC), {"prod"}) == []  # only what was synthesized


def test_cost1_vpc_endpoints_are_listed_and_batch_tasks_without_nat_move_nothing_through_it() -> None:
    """Interface endpoints are billed per AZ-hour (not priced in the price file: listed as such); with batch_nat false
    the workers' and jobs' tasks send no data through NAT, so NAT data falls to the web tasks' share."""
    spec = load_specs(PROJECT_ROOT / "specs" / "complete.yaml")[0]
    with_endpoints, plain = estimate(spec), estimate(spec.model_copy(update={"network": type(spec.network)()}))
    endpoints = next(x for x in with_endpoints.platform if x.name == "VPC interface endpoint hours")
    assert endpoints.priced is False and endpoints.basis.startswith("9 endpoints x 2 AZs")
    assert "VPC interface endpoint hours" not in {x.name for x in plain.platform}
    data = [next(x for x in r.platform if x.name == "NAT gateway data processed") for r in (with_endpoints, plain)]
    assert 0 < data[0].max_usd < data[1].max_usd
    assert any(a.name == "vpc_endpoints" and "batch_nat: false" in a.text for a in with_endpoints.assumptions)
