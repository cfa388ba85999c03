"""Task families: size and platform, ``exec``, ``storage``, ``logging``, ``observability``, ``taskdef_overrides``,
``network.vpc`` and ``publish``. Each function maps one family of a manifest and records every field it reads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ecs_platform import limits
from ecs_platform.copilot.containers import ENV_FILE
from ecs_platform.copilot.report import Recorder
from ecs_platform.copilot.target import Target
from ecs_platform.copilot.values import nearest_fargate_size, spec_name

COPILOT_CPU, COPILOT_MEMORY = 256, 512


def size(m: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    """``cpu`` and ``memory``: a Fargate size; a pair Fargate does not run becomes the nearest one that does."""
    cpu, memory = m.get("cpu", COPILOT_CPU), m.get("memory", COPILOT_MEMORY)
    if not isinstance(cpu, int) or not isinstance(memory, int) or isinstance(cpu, bool) or isinstance(memory, bool):
        for key in ("cpu", "memory"):
            if key in m:
                rec.not_mapped(key, f"{m[key]!r} is not a number; allowed: a Fargate size such as cpu: 256, memory: 512")
        return
    fixed = nearest_fargate_size(cpu, memory) if limits.check_fargate_size(cpu, memory) else (cpu, memory)
    t.entry["cpu"], t.entry["memory"] = fixed
    for key, wanted, got in (("cpu", cpu, fixed[0]), ("memory", memory, fixed[1])):
        if key not in m:
            continue
        if fixed == (cpu, memory):
            rec.mapped(key, t.at(key))
        else:
            rec.approximated(
                key,
                f"{t.at(key)}: {got} (cpu {cpu} with memory {memory} is not a Fargate size; the nearest is "
                f"cpu {fixed[0]}, memory {fixed[1]})"
                if got != wanted
                else f"{t.at(key)} (kept; cpu set to {fixed[0]} to pair with it)",
            )


def platform(m: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    """``platform``: linux/x86_64 or linux/arm64 as the architecture; Windows is not run here."""
    if "platform" not in m:
        return
    value = m["platform"]
    if isinstance(value, Mapping):
        osfamily = str(value.get("osfamily", "linux")).lower()
        arch = str(value.get("architecture", "x86_64")).lower()
    else:
        osfamily, _, arch = str(value).lower().partition("/")
    if not osfamily.startswith("linux"):
        rec.not_mapped("platform", f"{value!r}: the platform runs Linux tasks only; rebuild the image for linux/x86_64 or linux/arm64")
        return
    arch = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "arm": "arm64", "": "x86_64"}.get(arch, arch)
    if arch not in ("x86_64", "arm64"):
        rec.not_mapped("platform", f"architecture {arch!r}; allowed: x86_64 or arm64")
        return
    if arch == "arm64":
        t.entry["architecture"] = "arm64"
    rec.mapped("platform", f"{t.at('architecture')}: {arch}")


def exec_access(m: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    """``exec``: ECS Exec, granted by an access entry (sessions KMS-encrypted and logged)."""
    if "exec" not in m:
        return
    if m["exec"] and t.kind != "services":
        rec.not_mapped(
            "exec",
            f"ECS Exec is granted to services here, not to {t.kind}: debug a copy of the task as a service, "
            "or log what you would have looked at",
        )
    elif m["exec"]:
        t.access({"type": "ecs_exec"})
        rec.mapped("exec", t.at("access") + ": {type: ecs_exec} (sessions encrypted and logged)")
    else:
        rec.mapped("exec", "off (no ecs_exec access entry)")


def env_file(m: Mapping[str, Any], rec: Recorder) -> None:
    if "env_file" in m:
        rec.not_mapped("env_file", ENV_FILE)


def observability(m: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    tracing = (m.get("observability") or {}).get("tracing") if isinstance(m.get("observability"), Mapping) else None
    if tracing is None:
        return
    if str(tracing).lower() == "awsxray":
        t.entry["tracing"] = "xray"
        rec.mapped("observability.tracing", f"{t.at('tracing')}: xray (an ADOT collector sidecar; OTEL_EXPORTER_OTLP_ENDPOINT is set)")
    else:
        rec.not_mapped("observability.tracing", f"{tracing!r}; allowed: awsxray")


_INDEX = re.compile(r"\[(\d+)\]")


def taskdef_overrides(m: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    """``taskdef_overrides``: each rule's path in the spec's form (``ContainerDefinitions[0].Cpu`` ->
    ``ContainerDefinitions.0.Cpu``); appending to a list (``[-]``) has no equivalent."""
    rules = m.get("taskdef_overrides")
    if rules is None:
        return
    if not isinstance(rules, list):
        rec.not_mapped("taskdef_overrides", "not a list; allowed: [{path: ..., value: ...}]")
        return
    done, dropped = {}, []
    for rule in rules:
        path = str(rule.get("path", "")) if isinstance(rule, Mapping) else ""
        if not path or "[-]" in path or not isinstance(rule, Mapping) or "value" not in rule:
            dropped.append(path or repr(rule))
            continue
        done[_INDEX.sub(r".\1", path)] = rule["value"]
    if done:
        t.entry.setdefault("overrides", {}).setdefault("task_definition", {}).update(done)
    where = f"{t.at('overrides.task_definition')}: {', '.join(done)}"
    why = "appending to a list ('[-]') has no equivalent: write the item into the spec (e.g. a container's ulimits:)"
    if dropped and done:
        rec.approximated("taskdef_overrides", f"{where}; not mapped: {', '.join(dropped)} ({why})")
    elif dropped:
        rec.not_mapped("taskdef_overrides", f"{', '.join(dropped)}: {why}")
    else:
        rec.mapped("taskdef_overrides", where + " (checked against the CloudFormation schema at synthesis)")


def network(m: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    """``network.vpc``: tasks always run in the platform's private subnets for their kind (SEC-1), in a security
    group of their own; ``network.connect`` is mapped with the services' traffic."""
    vpc = (m.get("network") or {}).get("vpc") if isinstance(m.get("network"), Mapping) else None
    if not isinstance(vpc, Mapping):
        return
    subnets = "web" if t.kind == "services" else "batch"
    if "placement" in vpc:
        placement = vpc["placement"]
        if placement == "private":
            rec.mapped("network.vpc.placement", f"the private {subnets} subnets ({t.at('subnets')}, SEC-1)")
        elif placement == "public":
            rec.approximated(
                "network.vpc.placement",
                f"the private {subnets} subnets: tasks never get public IPs here (SEC-1); they reach the internet through NAT",
            )
        else:
            rec.not_mapped(
                "network.vpc.placement",
                f"chosen subnets: the platform places {t.kind} in its own private {subnets} subnets (SEC-1); "
                "an existing VPC's subnets are given once, in network.existing",
            )
    if "security_groups" in vpc:
        rec.not_mapped(
            "network.vpc.security_groups",
            "the platform gives each workload a security group of its own: write outbound rules as egress: "
            "[{ports: [...], cidrs: [...]}] and who may call a service as connect.callers",
        )


def publish(m: Mapping[str, Any], t: Target, rec: Recorder, copilot_name: str) -> None:
    """``publish.topics``: each a topic of the spec, ``<service>-<topic>``, this workload its publisher."""
    topics = (m.get("publish") or {}).get("topics") if isinstance(m.get("publish"), Mapping) else None
    if not isinstance(topics, list):
        if "publish" in m:
            rec.not_mapped("publish", "no topics; allowed: publish: {topics: [{name: ...}]}")
        return
    made: list[str] = []
    fifo: list[str] = []
    for topic in topics:
        if not isinstance(topic, Mapping) or not topic.get("name"):
            continue
        name = t.ctx.topic_names.get((copilot_name, str(topic["name"]))) or topic_name(copilot_name, str(topic["name"]))
        entry = t.ctx.shared.topics.setdefault(name, {"name": name, "publishers": [], "subscribers": []})
        if t.name not in entry["publishers"]:
            entry["publishers"].append(t.name)
        made.append(name)
        if topic.get("fifo"):
            fifo.append(name)
    note = (
        f"topics[{'], topics['.join(made)}] with {t.name} as publisher; the containers get <TOPIC>_TOPIC_ARN "
        f"(e.g. {made[0].upper().replace('-', '_')}_TOPIC_ARN) instead of COPILOT_SNS_TOPIC_ARNS"
        if made
        else "no named topic"
    )
    if fifo:
        rec.approximated(
            "publish.topics",
            f"{note}; {', '.join(fifo)}: a standard topic (the platform's topics are not FIFO: ordering and deduplication are not kept)",
        )
    else:
        rec.mapped("publish.topics", note)


def topic_name(service: str, topic: str) -> str:
    """Copilot's topic ``topic`` of ``service`` as a spec topic name when another service has a topic of the same
    name: ``<service>-<topic>``, at most 32 characters."""
    return spec_name(f"{spec_name(service)}-{spec_name(topic)}")
