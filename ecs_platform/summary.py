"""One-screen summary of a synthesized cloud assembly: stacks, resources, cdk-nag result, and with ``--spec`` the
monthly cost estimate of each environment in one line (COST-1).

python -m ecs_platform.summary [cdk.out] [--spec PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecs_platform.outputs import OVERRIDES_METADATA

#: Plugin reports that are not cdk-nag packs.
_NOT_NAG = {"CloudFormation Validate"}


#: Elastic IP addresses per account and region before a quota increase: each NAT gateway holds one.
EIP_QUOTA = 5


@dataclass
class StackSummary:
    display_name: str
    stack_name: str
    resources: Counter[str]
    environment: str = ""
    """``aws://<account>/<region>`` (``unknown-account`` when the spec names none)."""
    single_task_services: list[str] = field(default_factory=list)
    """Services that run one task (a development environment saving cost; not HA-3)."""
    capacity: list[str] = field(default_factory=list)
    """The EC2 capacity providers of the stack, one line each (ARCH-2, ARCH-3)."""
    overrides: list[str] = field(default_factory=list)
    """The spec's CloudFormation overrides in the stack, one line each (the escape hatch)."""


@dataclass
class NagSummary:
    pack: str
    findings: list[tuple[str, str]] = field(default_factory=list)
    acknowledged: list[tuple[str, str]] = field(default_factory=list)


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _stack_artifacts(outdir: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(artifact, template) of every CloudFormation stack, nested stage assemblies included."""
    found: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for artifact in _read(outdir / "manifest.json").get("artifacts", {}).values():
        props = artifact.get("properties", {})
        if artifact["type"] == "cdk:cloud-assembly":
            found += _stack_artifacts(outdir / props["directoryName"])
        elif artifact["type"] == "aws:cloudformation:stack":
            found.append((artifact, _read(outdir / props["templateFile"])))
    return found


def templates(outdir: Path) -> list[tuple[str, dict[str, Any]]]:
    """(display name, template) of every stack of the assembly."""
    return [(artifact.get("displayName", "?"), template) for artifact, template in _stack_artifacts(outdir)]


def stacks(outdir: Path) -> list[StackSummary]:
    """Every CloudFormation stack of the assembly, nested stage assemblies included."""
    return [
        StackSummary(
            display_name=artifact.get("displayName", artifact["properties"].get("stackName", "?")),
            stack_name=artifact["properties"].get("stackName", artifact.get("displayName", "?")),
            resources=Counter(r["Type"] for r in template.get("Resources", {}).values()),
            environment=artifact.get("environment", ""),
            single_task_services=sorted(
                str(r["Properties"].get("ServiceName", logical_id))
                for logical_id, r in template.get("Resources", {}).items()
                if r["Type"] == "AWS::ECS::Service" and r.get("Properties", {}).get("DesiredCount") == 1 and "QueueWorker" not in logical_id
            ),
            capacity=_capacity(template),
            overrides=[
                f"{logical_id}: {line}"
                for logical_id, r in template.get("Resources", {}).items()
                for line in r.get("Metadata", {}).get(OVERRIDES_METADATA, [])
            ],
        )
        for artifact, template in _stack_artifacts(outdir)
    ]


def _capacity(template: dict[str, Any]) -> list[str]:
    """``<provider>: asg m7i.large, m6i.large, 0..10 instances (1 On-Demand, then 50 % Spot)`` or ``managed instances``."""
    resources = template.get("Resources", {})
    lines = []
    for provider in (r["Properties"] for r in resources.values() if r["Type"] == "AWS::ECS::CapacityProvider"):
        name = provider.get("Name", "?")
        if "ManagedInstancesProvider" in provider:
            needs = provider["ManagedInstancesProvider"].get("InstanceLaunchTemplate", {}).get("InstanceRequirements", {})
            cpu, memory = needs.get("VCpuCount", {}), needs.get("MemoryMiB", {})
            lines.append(
                f"{name}: managed instances, {cpu.get('Min')}..{cpu.get('Max', '')} vCPU, {memory.get('Min')}..{memory.get('Max', '')} MiB"
            )
            continue
        group_ref = provider.get("AutoScalingGroupProvider", {}).get("AutoScalingGroupArn", {})
        group = resources.get(group_ref.get("Ref", "") if isinstance(group_ref, dict) else "", {}).get("Properties", {})
        mixed = group.get("MixedInstancesPolicy") or {}
        types = [o.get("InstanceType") for o in mixed.get("LaunchTemplate", {}).get("Overrides", [])]
        if not types:
            template_ref = (group.get("LaunchTemplate") or {}).get("LaunchTemplateId", {})
            data = resources.get(template_ref.get("Ref", "") if isinstance(template_ref, dict) else "", {}).get("Properties", {})
            types = [data.get("LaunchTemplateData", {}).get("InstanceType", "?")]
        spread = mixed.get("InstancesDistribution", {})
        spot = 100 - int(spread.get("OnDemandPercentageAboveBaseCapacity", 100))
        buying = f" ({spread.get('OnDemandBaseCapacity', 0)} On-Demand, then {spot} % Spot)" if spot else ""
        lines.append(f"{name}: asg {', '.join(map(str, types))}, {group.get('MinSize')}..{group.get('MaxSize')} instances{buying}")
    return lines


def notes(all_stacks: list[StackSummary]) -> list[str]:
    """What a reader of the summary should know: services on one task, and NAT gateways past the EIP quota."""
    lines = [f"EC2 capacity {line}" for stack in all_stacks for line in stack.capacity]
    lines += [f"override: {stack.display_name} {line}" for stack in all_stacks for line in stack.overrides]
    heard: Counter[str] = Counter()
    alarms: Counter[str] = Counter()
    for stack in all_stacks:
        environment = stack.display_name.split("/", 1)[0]
        alarms[environment] += stack.resources["AWS::CloudWatch::Alarm"]
        heard[environment] += stack.resources["AWS::SNS::Subscription"] + stack.resources["AWS::Chatbot::SlackChannelConfiguration"]
    for environment, count in alarms.items():
        if count and not heard[environment]:
            lines.append(
                f"warning: {environment}: {count} alarms notify topics nobody subscribes to: add notifications: to the spec "
                "(email, https, sqs, lambda, slack)"
            )
    for stack in all_stacks:
        if stack.single_task_services:
            names = ", ".join(stack.single_task_services)
            lines.append(f"note: {stack.display_name} runs one task of {names} (one AZ: fine outside production, not HA-3)")
    nat: Counter[str] = Counter()
    for stack in all_stacks:
        nat[stack.environment] += stack.resources["AWS::EC2::NatGateway"]
    counted = {environment: count for environment, count in sorted(nat.items()) if count}
    if counted:
        each = ", ".join(f"{environment.removeprefix('aws://')} {count}" for environment, count in counted.items())
        lines.append(f"NAT gateways (Elastic IPs, default quota {EIP_QUOTA} per account and region): {each}")
    for environment, count in counted.items():
        if count > EIP_QUOTA:
            lines.append(
                f"warning: {count} NAT gateways in {environment.removeprefix('aws://')} over all environments: each holds an "
                f"Elastic IP address and the default quota is {EIP_QUOTA} per account and region (ask for more, or set "
                "network.nat_gateways)"
            )
    return lines


def nag(outdir: Path) -> list[NagSummary]:
    report = outdir / "validation-report.json"
    if not report.exists():
        return []
    result = []
    for plugin in _read(report)["pluginReports"]:
        if plugin["pluginName"] in _NOT_NAG:
            continue
        summary = NagSummary(pack=plugin["pluginName"])
        for key, into in (("violations", summary.findings), ("suppressedViolations", summary.acknowledged)):
            for violation in plugin.get(key, []):
                for construct in violation["violatingConstructs"]:
                    into.append((violation["ruleName"], construct["constructPath"]))
        result.append(summary)
    return result


def render(outdir: Path) -> str:
    lines = [f"Synthesized {outdir}/"]
    all_stacks = stacks(outdir)
    width = max([18, *(len(s.display_name) for s in all_stacks)])
    for stack in all_stacks:
        total = sum(stack.resources.values())
        top = ", ".join(f"{kind.split('::', 1)[1]} {n}" for kind, n in stack.resources.most_common(5))
        lines.append(f"  {stack.display_name:<{width}} {stack.stack_name:<28} {total:>4} resources  ({top}, ...)")
    lines.append(f"  {len(all_stacks)} stacks, {sum(sum(s.resources.values()) for s in all_stacks)} resources (limit: 500 per stack)")
    lines += notes(all_stacks)
    packs = nag(outdir)
    if not packs:
        lines.append("cdk-nag: no validation report (synthesized without the rule packs?)")
    for pack in packs:
        rules = len({rule.split("[")[0] for rule, _ in pack.acknowledged})
        status = "PASS" if not pack.findings else f"FAIL: {len(pack.findings)} unacknowledged"
        lines.append(f"cdk-nag {pack.pack:<16} {status:<12} {len(pack.acknowledged):>3} acknowledged over {rules} rules")
        lines += [f"    {rule}  {path}" for rule, path in pack.findings]
    return "\n".join(lines)


def cost_lines(spec_path: str, environments: Iterable[str]) -> list[str]:
    """The monthly estimate of each of ``environments`` of the spec at ``spec_path``, a line each (COST-1)."""
    from ecs_platform.cost import PriceError, estimate, one_line  # the spec's models: only when asked
    from ecs_platform.spec import load_specs

    wanted = set(environments)
    lines = []
    for spec in load_specs(spec_path):
        if spec.environment.name not in wanted:
            continue
        try:
            text = one_line(estimate(spec))
        except PriceError as error:
            text = f"not estimated: {error}"
        lines.append(f"cost: {spec.environment.name}: {text} (make cost SPEC={spec_path} ENV={spec.environment.name}: each line)")
    return lines


def assembly_argument(argv: list[str] | None, usage: str, *, spec: bool = False) -> tuple[Path | None, str | None]:
    """The assembly directory named on the command line (default cdk.out), or None after saying why not
    (``--help`` prints ``usage``); with ``spec``, the ``--spec`` given too."""
    parser = argparse.ArgumentParser(description=usage)
    parser.add_argument("assembly", nargs="?", default="cdk.out", help="a cloud assembly directory (default: cdk.out)")
    if spec:
        parser.add_argument("--spec", metavar="PATH", help="the spec it was synthesized from: add each environment's monthly cost")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    outdir = Path(args.assembly)
    if not (outdir / "manifest.json").exists():
        print(f"no cloud assembly in {outdir}/ (run make synth first)", file=sys.stderr)
        return None, None
    return outdir, getattr(args, "spec", None)


def main(argv: list[str] | None = None) -> int:
    outdir, spec = assembly_argument(
        argv, "One-screen summary of a synthesized cloud assembly: stacks, resources, cdk-nag result.", spec=True
    )
    if outdir is None:
        return 1
    print(render(outdir))
    if spec:
        environments = {s.display_name.split("/")[0] for s in stacks(outdir) if "/" in s.display_name}
        print("\n".join(cost_lines(spec, environments)))
    return 1 if any(p.findings for p in nag(outdir)) else 0


if __name__ == "__main__":
    sys.exit(main())
