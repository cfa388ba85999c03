"""``ecs-platform preflight``: compare a synthesized assembly with what is deployed, before ``cdk deploy``.

Some edits of a spec are fine as templates but would fail, or harm a running platform, when
CloudFormation applies them to what is deployed. ``make deploy`` runs this first; it reads the
assembly (``cdk.out``) and, per environment, the deployed stacks of the same app and
environment (their ``App`` and ``Environment`` tags), and refuses when:

- a deployed stack is no longer in the assembly (its services would keep running, and it keeps
  importing from the others): it names the stack and how to retire it;
- a stack would drop an export that another deployed stack still imports: CloudFormation deploys
  the exporter first and fails; it names the importer to deploy first (``--exclusively``);
- a service would move to another stack: the new stack would create a service whose name exists;
- a traffic-shifting service's listener rule would change while ECS has moved its traffic to the
  alternate target group: CloudFormation would put the template's 100/0 back and send the
  traffic to tasks that no longer run;
- a target group would move to another load balancer (a target group serves one): it names
  ``load_balancer.target_groups``;
- a log group the assembly names already exists outside these stacks (a retained one of an
  earlier workload): the create would fail.

Nothing is changed. Exit status: 0 nothing in the way, 1 something is (each listed), 2 the
assembly or AWS could not be read. The clients are arguments, so the tests use stubs and the
local emulator.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError  # type: ignore[import-untyped]

EXIT_OK, EXIT_BLOCKED, EXIT_ERROR = 0, 1, 2


@dataclass(frozen=True)
class AssemblyStack:
    """One stack of the assembly: its name, display name, environment tags, region and template."""

    name: str
    display: str
    app: str
    environment: str
    region: str | None
    template: dict[str, Any]


@dataclass
class Findings:
    """What is in the way, one message each."""

    problems: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.problems.append(message)


def read_assembly(outdir: Path) -> list[AssemblyStack]:
    """Every stack of a cloud assembly (nested stage assemblies included) with its App/Environment tags."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    found: list[AssemblyStack] = []
    for artifact in manifest.get("artifacts", {}).values():
        props = artifact.get("properties", {})
        if artifact["type"] == "cdk:cloud-assembly":
            found += read_assembly(outdir / props["directoryName"])
        elif artifact["type"] == "aws:cloudformation:stack":
            tags = props.get("tags", {})
            region = artifact.get("environment", "").rsplit("/", 1)[-1]
            found.append(
                AssemblyStack(
                    name=props.get("stackName", artifact.get("displayName", "?")),
                    display=artifact.get("displayName", props.get("stackName", "?")),
                    app=tags.get("App", ""),
                    environment=tags.get("Environment", ""),
                    region=None if region in ("", "unknown-region") else region,
                    template=json.loads((outdir / props["templateFile"]).read_text(encoding="utf-8")),
                )
            )
    return found


Clients = Callable[[str, str | None], Any]
"""``clients(service, region)``: a boto3 client."""


def deployed_stacks(cloudformation: Any, app: str, environment: str) -> dict[str, dict[str, Any]]:
    """The stacks of ``app``/``environment`` that exist (by their App and Environment tags), by name."""
    found = {}
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
            if tags.get("App") == app and tags.get("Environment") == environment and stack["StackStatus"] != "DELETE_COMPLETE":
                found[stack["StackName"]] = stack
    return found


def deployed_template(cloudformation: Any, stack: str) -> dict[str, Any]:
    body = cloudformation.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    return body if isinstance(body, dict) else json.loads(body)


def _resources(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.get("Resources", {}).items() if v.get("Type") == kind}


def _exports(template: Mapping[str, Any]) -> set[str]:
    return {o["Export"]["Name"] for o in template.get("Outputs", {}).values() if isinstance(o.get("Export", {}).get("Name"), str)}


def _imports(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        if isinstance(node.get("Fn::ImportValue"), str):
            yield node["Fn::ImportValue"]
        for value in node.values():
            yield from _imports(value)
    elif isinstance(node, list):
        for value in node:
            yield from _imports(value)


def check_missing_stacks(new: Sequence[AssemblyStack], deployed: Mapping[str, Any], findings: Findings) -> None:
    names = {s.name for s in new}
    for stack in sorted(set(deployed) - names):
        findings.add(
            f"{stack} is deployed for this app and environment but is not in the assembly (its services left the spec or "
            "moved to another stack): deploying now would leave it running and importing from the others. Retire it first: "
            f"make sure nothing imports from it, then `aws cloudformation delete-stack --stack-name {stack}`; "
            "a service that moved to another stack must leave this one before it can be created there"
        )


def check_exports(new: Sequence[AssemblyStack], old: Mapping[str, dict[str, Any]], findings: Findings) -> None:
    """An export a stack drops while another deployed stack imports it: deploy the importer first."""
    new_by_name = {s.name: s for s in new}
    for exporter, template in old.items():
        if exporter not in new_by_name:
            continue
        dropped = _exports(template) - _exports(new_by_name[exporter].template)
        for importer, importer_template in old.items():
            still = sorted(dropped & set(_imports(importer_template)))
            if not still:
                continue
            replacement = new_by_name.get(importer)
            if replacement is not None and not (set(still) & set(_imports(replacement.template))):
                findings.add(
                    f"{exporter} would drop {len(still)} export(s) that the deployed {importer} still imports ({still[0]}, ...): "
                    f"CloudFormation updates {exporter} first and fails. Deploy {importer} first: "
                    f"`cdk deploy --app cdk.out {replacement.display} --exclusively`, then everything"
                )


def check_moved_services(new: Sequence[AssemblyStack], old: Mapping[str, dict[str, Any]], findings: Findings) -> None:
    """A service (its fixed name) in another stack than the deployed one: the create would fail."""
    where: dict[str, str] = {}
    for deployed, template in old.items():
        for resource in _resources(template, "AWS::ECS::Service").values():
            name = resource.get("Properties", {}).get("ServiceName")
            if isinstance(name, str):
                where[name] = deployed
    for stack in new:
        for resource in _resources(stack.template, "AWS::ECS::Service").values():
            name = resource.get("Properties", {}).get("ServiceName")
            if isinstance(name, str) and where.get(name, stack.name) != stack.name:
                findings.add(
                    f"service {name} moves from {where[name]} to {stack.name}: the new stack would create a service whose name "
                    f"exists. Move it in two deploys: remove it from the spec (deploy), then add it with its new stack (deploy); "
                    "or keep its stack"
                )


def _forward(rule: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The weighted target groups of a listener rule's forward action (empty without two of them)."""
    for action in rule.get("Properties", {}).get("Actions", []):
        groups = action.get("ForwardConfig", {}).get("TargetGroups", [])
        if len(groups) == 2:
            return list(groups)
    return []


def check_traffic_shifting_rules(
    new: Sequence[AssemblyStack], old: Mapping[str, dict[str, Any]], cloudformation: Any, elbv2: Any, findings: Findings
) -> None:
    """A weighted rule whose ECS-owned weights differ from the template's, about to be rewritten."""
    new_by_name = {s.name: s for s in new}
    for stack, template in old.items():
        replacement = new_by_name.get(stack)
        for logical_id, rule in _resources(template, "AWS::ElasticLoadBalancingV2::ListenerRule").items():
            groups = _forward(rule)
            if not groups:
                continue
            after = replacement.template.get("Resources", {}).get(logical_id) if replacement else None
            if after == rule:
                continue  # CloudFormation leaves an unchanged rule alone
            arn = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)["StackResourceDetail"][
                "PhysicalResourceId"
            ]
            (live,) = elbv2.describe_rules(RuleArns=[arn])["Rules"]
            live_groups: list[dict[str, Any]] = next(
                (a.get("ForwardConfig", {}).get("TargetGroups", []) for a in live["Actions"] if a.get("ForwardConfig")), []
            )
            weights = [g.get("Weight") for g in live_groups]
            if weights != [g.get("Weight") for g in groups]:
                findings.add(
                    f"listener rule {logical_id} of {stack} would change, and ECS has moved its traffic (weights {weights}, the "
                    f"template's {[g.get('Weight') for g in groups]}): CloudFormation would put the template's weights back and "
                    "send the traffic to tasks that no longer run. Start a new deployment of the service first (`aws ecs "
                    "update-service --force-new-deployment`; ECS moves the traffic back), then deploy"
                )


def check_target_groups(new: Sequence[AssemblyStack], old: Mapping[str, dict[str, Any]], findings: Findings) -> None:
    """A target group (same logical ID) forwarded to only from other listeners than before: it would serve two load balancers."""

    def listeners(template: Mapping[str, Any]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for rule in _resources(template, "AWS::ElasticLoadBalancingV2::ListenerRule").values():
            listener = json.dumps(rule.get("Properties", {}).get("ListenerArn"), sort_keys=True)
            for action in rule.get("Properties", {}).get("Actions", []):
                targets = action.get("ForwardConfig", {}).get("TargetGroups", [])
                for ref in [action.get("TargetGroupArn"), *(g.get("TargetGroupArn") for g in targets)]:
                    if isinstance(ref, Mapping) and "Ref" in ref:
                        found.setdefault(ref["Ref"], set()).add(listener)
        return found

    new_by_name = {s.name: s for s in new}
    for stack, template in old.items():
        if stack not in new_by_name:
            continue
        before, after = listeners(template), listeners(new_by_name[stack].template)
        for group in sorted(set(before) & set(after)):
            if before[group].isdisjoint(after[group]):
                findings.add(
                    f"target group {group} of {stack} would be forwarded to by another load balancer's listener: a target group "
                    "serves one load balancer. Give the service new target groups: set load_balancer.target_groups to a new label"
                )


def check_log_groups(new: Sequence[AssemblyStack], old: Mapping[str, dict[str, Any]], logs: Any, findings: Findings) -> None:
    """A fixed log group name that exists but belongs to none of these stacks (a retained group): the create would fail."""
    owned = {
        r.get("Properties", {}).get("LogGroupName")
        for template in old.values()
        for r in _resources(template, "AWS::Logs::LogGroup").values()
    }
    for stack in new:
        for resource in _resources(stack.template, "AWS::Logs::LogGroup").values():
            name = resource.get("Properties", {}).get("LogGroupName")
            if not isinstance(name, str) or name in owned:
                continue
            existing = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
            if any(g["logGroupName"] == name for g in existing):
                findings.add(
                    f"log group {name} of {stack.name} exists already, outside these stacks (retained from an earlier workload "
                    "of that name?): the create would fail. Export what you need of it, then `aws logs delete-log-group "
                    f"--log-group-name {name}`"
                )


def preflight(stacks: Sequence[AssemblyStack], clients: Clients, out: TextIO) -> int:
    """Run every check per environment of the assembly; print what is in the way. Returns the exit status."""
    findings = Findings()
    environments: dict[tuple[str, str, str | None], list[AssemblyStack]] = {}
    for stack in stacks:
        environments.setdefault((stack.app, stack.environment, stack.region), []).append(stack)
    for (app, environment, region), new in sorted(environments.items(), key=lambda item: (item[0][0], item[0][1])):
        cloudformation = clients("cloudformation", region)
        deployed = deployed_stacks(cloudformation, app, environment)
        old = {name: deployed_template(cloudformation, name) for name in deployed}
        check_missing_stacks(new, deployed, findings)
        check_exports(new, old, findings)
        check_moved_services(new, old, findings)
        check_traffic_shifting_rules(new, old, cloudformation, clients("elbv2", region), findings)
        check_target_groups(new, old, findings)
        check_log_groups(new, old, clients("logs", region), findings)
        print(f"preflight: {app} {environment}: {len(new)} stack(s) to deploy, {len(deployed)} deployed", file=out)
    for problem in findings.problems:
        print(f"  in the way: {problem}", file=out)
    if findings.problems:
        print(f"preflight: {len(findings.problems)} thing(s) in the way; nothing was deployed", file=out)
        return EXIT_BLOCKED
    print("preflight: nothing in the way", file=out)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecs-platform preflight", description=__doc__.split("\n\n")[0])
    parser.add_argument("assembly", nargs="?", default="cdk.out", help="the synthesized cloud assembly (default: cdk.out)")
    parser.add_argument("--region", help="the region of stacks whose environment names none (default: the AWS configuration's)")
    args = parser.parse_args(argv)
    outdir = Path(args.assembly)
    if not (outdir / "manifest.json").exists():
        print(f"ecs-platform preflight: error: no cloud assembly in {outdir}/ (run make synth first)", file=sys.stderr)
        return EXIT_ERROR
    import boto3  # type: ignore[import-untyped]  # here: the module loads fast for --help

    def clients(service: str, region: str | None) -> Any:
        return boto3.client(service, region_name=region or args.region)

    try:
        return preflight(read_assembly(outdir), clients, sys.stdout)
    except (ClientError, BotoCoreError, NoCredentialsError, NoRegionError) as error:
        print(f"ecs-platform preflight: error: {error}", file=sys.stderr)
        return EXIT_ERROR
