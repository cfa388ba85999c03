"""``ecs-platform preflight``: compare a synthesized assembly with what is deployed, before ``cdk deploy``.

Some edits of a spec are fine as templates but would fail, or harm a running platform, when
CloudFormation applies them to what is deployed. ``make deploy`` runs this first; it reads the
assembly (``cdk.out``) and, per environment, the deployed stacks of the same app and
environment (their ``App`` and ``Environment`` tags), and refuses when:

- a deployed stack is no longer in the assembly (its services would keep running, and it keeps
  importing from the others): it names the stack and how to retire it;
- a stack would drop an export that another deployed stack still imports, and no order of deploys
  helps (CloudFormation deploys the exporter first and fails). Where deploying the importers first
  helps (the new importer no longer imports it and needs nothing the exporter does not export
  yet), that is no problem: ``--order-file`` lists them and ``make deploy`` deploys them first;
- a fixed name (a service's, a log group's, ...) would pass to another resource (another stack or
  logical ID): CloudFormation creates the new one before it deletes the old one, and the create
  fails on the name (a service moving stacks, for one);
- a listener rule would take the priority another rule of its listener holds until the end of
  the deploy (a renamed service that keeps its priority): the create fails;
- a traffic-shifting service's listener rule would change while ECS has moved its traffic to the
  alternate target group: CloudFormation would put the template's 100/0 back and send the
  traffic to tasks that no longer run;
- a target group would move to another load balancer (a target group serves one): it names
  ``load_balancer.target_groups``;
- a log group the assembly names already exists outside these stacks (a retained one of an
  earlier workload): the create would fail.

Nothing is changed. Exit status: 0 nothing in the way (deploy the ``--order-file`` stacks first,
then everything), 1 something is (each listed), 2 the assembly or AWS could not be read. The
clients are arguments, so the tests use stubs and the local emulator.
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


def imports(node: Any) -> Iterator[str]:
    """The export names a template (or any part of one) imports with ``Fn::ImportValue``."""
    if isinstance(node, Mapping):
        if isinstance(node.get("Fn::ImportValue"), str):
            yield node["Fn::ImportValue"]
        for value in node.values():
            yield from imports(value)
    elif isinstance(node, list):
        for value in node:
            yield from imports(value)


def check_missing_stacks(new: Sequence[AssemblyStack], deployed: Mapping[str, Any], findings: Findings) -> None:
    names = {s.name for s in new}
    for stack in sorted(set(deployed) - names):
        findings.add(
            f"{stack} is deployed for this app and environment but is not in the assembly (its services left the spec or "
            "moved to another stack): deploying now would leave it running and importing from the others. Retire it first: "
            f"make sure nothing imports from it, then `aws cloudformation delete-stack --stack-name {stack}`; "
            "a service that moved to another stack must leave this one before it can be created there"
        )


def _imports_of(template: Mapping[str, Any]) -> set[str]:
    return set(imports(template))


def deploy_order(new: Sequence[AssemblyStack], old: Mapping[str, dict[str, Any]], findings: Findings) -> list[AssemblyStack]:
    """The stacks to deploy, one at a time, before the others, so that no stack drops an export a deployed
    stack still imports: an importer that stops importing goes before its exporter. A drop that no order
    resolves is a finding."""
    new_by_name = {s.name: s for s in new}
    exported_now = {name for template in old.values() for name in _exports(template)}
    first: dict[str, AssemblyStack] = {}
    for exporter, template in old.items():
        if exporter not in new_by_name:
            continue
        dropped = _exports(template) - _exports(new_by_name[exporter].template)
        for importer, importer_template in old.items():
            still = sorted(dropped & _imports_of(importer_template))
            replacement = new_by_name.get(importer)
            if not still or replacement is None:
                continue  # a stack that leaves the assembly is check_missing_stacks'
            wanted = _imports_of(replacement.template)
            missing = sorted(wanted - exported_now)
            if set(still) & wanted:
                findings.add(f"{exporter} would drop export {still[0]}, which {importer} still imports in the assembly")
            elif missing:
                findings.add(
                    f"{exporter} would drop {len(still)} export(s) that the deployed {importer} imports ({still[0]}, ...), and "
                    f"{importer} cannot go first: it needs {missing[0]}, which no deployed stack exports yet. Split the change "
                    "in two deploys: first the part that adds, then the part that removes"
                )
            else:
                first[importer] = replacement
    # An importer that itself drops what another of them imports goes after that one.
    ordered: list[AssemblyStack] = []
    pending = dict(first)
    while pending:
        ready = [
            name
            for name in sorted(pending)
            if not any(
                other != name and (_exports(old[name]) - _exports(pending[name].template)) & _imports_of(old[other]) for other in pending
            )
        ] or sorted(pending)
        ordered += [pending.pop(name) for name in ready]
    return ordered


#: The property that fixes a resource's physical name, by type.
NAME_PROPERTIES: Mapping[str, str] = {
    "AWS::ECS::Service": "ServiceName",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Name",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::SSM::Parameter": "Name",
}


def fixed_names(templates: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str], tuple[str, str]]:
    """(type, name as JSON) -> (stack, logical ID) of every resource whose template fixes its physical name."""
    found = {}
    for stack, template in templates.items():
        for logical_id, resource in template.get("Resources", {}).items():
            prop = NAME_PROPERTIES.get(resource.get("Type", ""))
            name = resource.get("Properties", {}).get(prop) if prop else None
            if name is not None:
                found[(resource["Type"], json.dumps(name, sort_keys=True))] = (stack, logical_id)
    return found


def check_fixed_names(new: Sequence[AssemblyStack], old: Mapping[str, dict[str, Any]], findings: Findings) -> None:
    """A fixed name that passes to another resource: the new one is created first, and fails on the name."""
    before = fixed_names(old)
    for (kind, name), (stack, logical_id) in sorted(fixed_names({s.name: s.template for s in new}).items()):
        holder = before.get((kind, name))
        if holder is None or holder == (stack, logical_id):
            continue
        shown = json.loads(name)
        if kind == "AWS::ECS::Service" and holder[0] != stack:
            findings.add(
                f"service {shown} moves from {holder[0]} to {stack}: the new stack would create a service whose name exists. "
                "Move it in two deploys: remove it from the spec (deploy), then add it with its new stack (deploy); or keep its stack"
            )
        else:
            findings.add(
                f"{kind} {shown} passes from {holder[0]}/{holder[1]} to {stack}/{logical_id}: CloudFormation creates the new one "
                "before it deletes the old one, and the create fails on the name. Deploy the removal first, then the addition"
            )


def _rules(templates: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, int], tuple[str, str]]:
    """(listener, priority) -> (stack, logical ID) of every listener rule with a literal priority. A listener of
    the same stack is named by its logical ID (a ``Ref``), one of another stack by its import."""
    found = {}
    for stack, template in templates.items():
        for logical_id, rule in _resources(template, "AWS::ElasticLoadBalancingV2::ListenerRule").items():
            props = rule.get("Properties", {})
            listener = props.get("ListenerArn")
            if isinstance(props.get("Priority"), int):
                where = f"{stack}/{listener['Ref']}" if isinstance(listener, Mapping) and "Ref" in listener else json.dumps(listener)
                found[(where, props["Priority"])] = (stack, logical_id)
    return found


def check_rule_priorities(new: Sequence[AssemblyStack], old: Mapping[str, dict[str, Any]], findings: Findings) -> None:
    """A rule that takes the priority another rule of its listener holds until the deploy removes it."""
    before = _rules(old)
    for (listener, priority), holder in sorted(_rules({s.name: s.template for s in new}).items()):
        was = before.get((listener, priority))
        if was is not None and was != holder:
            findings.add(
                f"listener rule {holder[1]} of {holder[0]} takes priority {priority}, which {was[1]} holds until the deploy "
                "removes it: the create fails. Give it another priority (load_balancer.priority), or deploy the removal first"
            )


def _without_metadata(resource: Mapping[str, Any]) -> dict[str, Any]:
    """What CloudFormation acts on: a change of Metadata alone updates nothing."""
    return {k: v for k, v in resource.items() if k != "Metadata"}


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
            if after is None or _without_metadata(after) == _without_metadata(rule):
                continue  # CloudFormation leaves an unchanged rule alone; a removed one takes its service's traffic with it
            (resource,) = cloudformation.describe_stack_resources(StackName=stack, LogicalResourceId=logical_id)["StackResources"]
            arn = resource["PhysicalResourceId"]
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


def preflight(stacks: Sequence[AssemblyStack], clients: Clients, out: TextIO, order_file: Path | None = None) -> int:
    """Run every check per environment of the assembly; print what is in the way, and write the stacks to deploy
    first to ``order_file`` (display names, one a line). Returns the exit status."""
    findings = Findings()
    first: list[AssemblyStack] = []
    environments: dict[tuple[str, str, str | None], list[AssemblyStack]] = {}
    for stack in stacks:
        environments.setdefault((stack.app, stack.environment, stack.region), []).append(stack)
    for (app, environment, region), new in sorted(environments.items(), key=lambda item: (item[0][0], item[0][1])):
        cloudformation = clients("cloudformation", region)
        deployed = deployed_stacks(cloudformation, app, environment)
        old = {name: deployed_template(cloudformation, name) for name in deployed}
        check_missing_stacks(new, deployed, findings)
        first += deploy_order(new, old, findings)
        check_fixed_names(new, old, findings)
        check_rule_priorities(new, old, findings)
        check_traffic_shifting_rules(new, old, cloudformation, clients("elbv2", region), findings)
        check_target_groups(new, old, findings)
        check_log_groups(new, old, clients("logs", region), findings)
        print(f"preflight: {app} {environment}: {len(new)} stack(s) to deploy, {len(deployed)} deployed", file=out)
    for problem in findings.problems:
        print(f"  in the way: {problem}", file=out)
    if findings.problems:
        print(f"preflight: {len(findings.problems)} thing(s) in the way; nothing was deployed", file=out)
        return EXIT_BLOCKED
    if first:
        shown = ", then ".join(s.display for s in first)
        print(f"preflight: deploy {shown} first (they stop importing what their exporters drop), then everything", file=out)
    if order_file is not None:
        order_file.write_text("".join(f"{s.display}\n" for s in first), encoding="utf-8")
    print("preflight: nothing in the way", file=out)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecs-platform preflight", description=__doc__.split("\n\n")[0])
    parser.add_argument("assembly", nargs="?", default="cdk.out", help="the synthesized cloud assembly (default: cdk.out)")
    parser.add_argument("--region", help="the region of stacks whose environment names none (default: the AWS configuration's)")
    parser.add_argument(
        "--order-file", type=Path, help="write the stacks to deploy first, one a line (display names, for `cdk deploy --exclusively`)"
    )
    args = parser.parse_args(argv)
    outdir = Path(args.assembly)
    if not (outdir / "manifest.json").exists():
        print(f"ecs-platform preflight: error: no cloud assembly in {outdir}/ (run make synth first)", file=sys.stderr)
        return EXIT_ERROR
    import boto3  # type: ignore[import-untyped]  # here: the module loads fast for --help

    def clients(service: str, region: str | None) -> Any:
        return boto3.client(service, region_name=region or args.region)

    try:
        return preflight(read_assembly(outdir), clients, sys.stdout, args.order_file)
    except (ClientError, BotoCoreError, NoCredentialsError, NoRegionError) as error:
        print(f"ecs-platform preflight: error: {error}", file=sys.stderr)
        return EXIT_ERROR
