"""Edits of the edit matrix deployed in sequence into the local emulator (moto on 127.0.0.1).

specs/services.yaml is deployed, then edited four times and deployed again after each edit,
as `make deploy` would (preflight first, against what the emulator holds). The untouched
services keep their physical resources (service, listener rules, target groups) and their
rule priorities; a rename that keeps its priority is refused by the preflight, and the
emulator proves the refusal real: its ELB refuses the second rule on the priority.

What the emulator checks and what it cannot: moto enforces listener rule priorities (the
PriorityInUse error) and log group names (ResourceAlreadyExists); it does not refuse to drop an
export another stack imports, nor a second service of the same name in a cluster (it
overwrites), nor a target group on two load balancers. Those are proved on the templates
alone, by tests/edits/test_edit_matrix.py and the preflight's unit tests.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_platform.app_builder import build_app
from ecs_platform.cli.preflight import preflight, read_assembly
from ecs_platform.spec import parse_spec
from tests.conftest import SPECS
from tests.integration.emulator import REGION, Emulator
from tests.integration.test_emulator_services import _own_certificate

pytestmark = pytest.mark.integration

WORKLOADS = "market-staging-workloads"
Spec = dict[str, Any]


def _service(data: Spec, name: str) -> dict[str, Any]:
    return next(s for s in data["services"] if s["name"] == name)


def _add_reviews_first(data: Spec) -> None:
    data["services"].insert(0, {**copy.deepcopy(_service(data, "orders")), "name": "reviews", "connect": {"callers": ["api"]}})


def _rename_search_to_find(data: Spec) -> None:
    _service(data, "search").update(name="find")
    _service(data, "find")["load_balancer"]["priority"] = 25


def _remove_storefront(data: Spec) -> None:
    data["services"].remove(_service(data, "storefront"))
    _service(data, "orders")["connect"]["callers"].remove("storefront")


def _rename_find_keeping_its_priority(data: Spec) -> None:
    _service(data, "find").update(name="lookup")


EDITS: list[Callable[[Spec], None]] = [_add_reviews_first, _rename_search_to_find, _remove_storefront]


class Platform:
    """The services spec as deployed in the emulator, edit after edit."""

    def __init__(self, account: Emulator, workdir: Path) -> None:
        self.account = account
        self.workdir = workdir
        self.data: Spec = yaml.safe_load((SPECS / "services.yaml").read_text(encoding="utf-8"))
        self.applied: list[Callable[[Spec], None]] = []
        """The edits deployed so far, in order."""

    def edit(self, change: Callable[[Spec], None]) -> Path:
        """Apply ``change`` to the spec and synthesize it (cdk-nag included), without deploying."""
        change(self.data)
        outdir = self.workdir / f"{len(list(self.workdir.iterdir()))}-{change.__name__}"
        app, _ = build_app(parse_spec(self.data), outdir=str(outdir))
        app.synth()
        return outdir

    def deploy_edits_up_to(self, change: Callable[[Spec], None]) -> None:
        """Deploy every edit of :data:`EDITS` before ``change`` not yet deployed (a test run alone)."""
        for earlier in EDITS[: EDITS.index(change)] if change in EDITS else EDITS:
            if earlier not in self.applied:
                self.account.deploy(self.edit(earlier))
                self.applied.append(earlier)

    def preflight(self, assembly: Path) -> tuple[int, str]:
        out = io.StringIO()
        status = preflight(read_assembly(assembly), lambda service, region: self.account.client(service), out)
        return status, out.getvalue()

    def resources(self) -> dict[str, str]:
        """Physical IDs of the workload stack's resources, by logical ID."""
        found = self.account.client("cloudformation").describe_stack_resources(StackName=WORKLOADS)["StackResources"]
        return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in found if r.get("PhysicalResourceId")}

    def priorities(self) -> dict[str, str]:
        """Rule ARN -> priority of every rule of the shared ALB's listeners."""
        elbv2 = self.account.client("elbv2")
        found = {}
        for lb in elbv2.describe_load_balancers()["LoadBalancers"]:
            for listener in elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
                for rule in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
                    found[rule["RuleArn"]] = rule["Priority"]
        return found


@pytest.fixture(scope="module")
def platform(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Platform:
    data: Spec = yaml.safe_load((SPECS / "services.yaml").read_text(encoding="utf-8"))
    account = emulator.in_account(data["environment"]["account"])
    for lb in data["load_balancers"]:
        _own_certificate(lb["certificate_arn"])
    account.cdk("bootstrap", f"aws://{data['environment']['account']}/{REGION}")
    platform = Platform(account, tmp_path_factory.mktemp("edits"))
    account.deploy(platform.edit(lambda data: None))
    return platform


def _untouched(resources: dict[str, str], names: list[str]) -> dict[str, str]:
    prefixes = tuple(f"Service{n}WebService" for n in names)
    return {k: v for k, v in resources.items() if k.startswith(prefixes)}


@pytest.mark.parametrize("change", EDITS, ids=[e.__name__.strip("_") for e in EDITS])
def test_an_edit_deploys_and_the_untouched_services_keep_their_resources_and_priorities(
    platform: Platform, change: Callable[[Spec], None]
) -> None:
    """Each edit after the one before: the preflight finds nothing in the way, the update completes, and
    every service the edit leaves alone keeps its physical resources and its rules' priorities."""
    platform.deploy_edits_up_to(change)
    untouched = [s["name"] for s in platform.data["services"] if s["name"] not in ("reviews", "search", "find", "storefront")]
    resources_before, priorities_before = _untouched(platform.resources(), untouched), platform.priorities()
    assembly = platform.edit(change)

    status, out = platform.preflight(assembly)
    assert status == 0, out
    platform.account.deploy(assembly)
    platform.applied.append(change)

    (stack,) = platform.account.client("cloudformation").describe_stacks(StackName=WORKLOADS)["Stacks"]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    resources_after = _untouched(platform.resources(), untouched)
    assert resources_after == resources_before
    priorities_after = platform.priorities()
    kept = {arn: p for arn, p in priorities_before.items() if arn in resources_before.values()}
    assert kept and {arn: priorities_after.get(arn) for arn in kept} == kept


def test_a_rename_that_keeps_its_priority_is_refused_and_would_fail(platform: Platform) -> None:
    """The preflight refuses the rename (the new rule is created while the old one holds the priority); the
    emulator's ELB, asked anyway, refuses the rule on the priority."""
    platform.deploy_edits_up_to(_rename_find_keeping_its_priority)
    assembly = platform.edit(_rename_find_keeping_its_priority)

    status, out = platform.preflight(assembly)

    assert status == 1
    assert "takes priority 25, which ServicefindWebServiceRule" in out
    with pytest.raises(AssertionError, match=r"PriorityInUse|priority is in use"):
        platform.account.deploy(assembly)
