"""The CloudFormation properties a spec's ``overrides:`` may set, and the check of one override against them.

The catalog (``cfn_properties.json``, generated from the CloudFormation resource provider schemas by ``python -m
tests.cfn_catalog``) lists every property path of the resource types the escape hatch reaches, ``*`` standing for any
list index or map key, with its type and allowed values. The spec checks an override before CDK starts
(:mod:`ecs_platform.spec.references`), the construct again when it applies one
(:func:`ecs_platform.constructs.apply_overrides`). No dependencies.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any


class PropertyPathError(ValueError):
    """An override of a path the resource type does not have, or of a value its property does not take."""


#: Why a property's override deserves a reviewer's look, by catalog path (an override of the path, of a path inside
#: it, or of an object that contains it is marked). cdk-nag does not see overrides, so these are what it would miss.
SECURITY_RELEVANT_OVERRIDES: Mapping[str, Mapping[str, str]] = {
    "AWS::ECS::TaskDefinition": {
        "TaskRoleArn": "the task's permissions (IAM-1)",
        "ExecutionRoleArn": "the permissions of the ECS agent (IAM-1)",
        "NetworkMode": "network isolation of the task",
        "PidMode": "process isolation of the task",
        "IpcMode": "process isolation of the task",
        "Volumes": "storage encryption and access",
        "ContainerDefinitions.*.Privileged": "container isolation",
        "ContainerDefinitions.*.User": "container isolation (non-root user)",
        "ContainerDefinitions.*.ReadonlyRootFilesystem": "container isolation",
        "ContainerDefinitions.*.LinuxParameters": "Linux capabilities and devices of the container",
        "ContainerDefinitions.*.DockerSecurityOptions": "container isolation",
        "ContainerDefinitions.*.LogConfiguration": "logging (cdk-nag AwsSolutions-ECS7)",
        "ContainerDefinitions.*.Environment": "secrets in plain-text environment variables (cdk-nag AwsSolutions-ECS2)",
        "ContainerDefinitions.*.Secrets": "where the container's secrets come from",
        "ContainerDefinitions.*.RepositoryCredentials": "where the container's image comes from",
        "ContainerDefinitions.*.Image": "what runs",
    },
    "AWS::ECS::Service": {
        "NetworkConfiguration": "network exposure of the tasks (public IP, security groups, subnets)",
        "EnableExecuteCommand": "interactive shell access to running tasks",
        "LoadBalancers": "what reaches the tasks",
        "ServiceConnectConfiguration": "service-to-service traffic and its TLS",
        "VolumeConfigurations": "storage encryption",
        "Role": "the permissions ECS uses for the service",
        "TaskDefinition": "what runs",
    },
    "AWS::ElasticLoadBalancingV2::TargetGroup": {
        "Protocol": "encryption between the load balancer and the tasks",
        "Port": "what reaches the tasks",
        "HealthCheckProtocol": "encryption of health checks",
    },
}

_UNESCAPED_DOT = re.compile(r"(?<!\\)\.")
_TYPE_NAMES = {"array": "a list", "boolean": "a boolean", "integer": "an integer", "map": "a mapping", "number": "a number"}
_TYPE_NAMES |= {"object": "a mapping", "string": "a string"}
#: How close (difflib's ratio, case ignored) a name must be to be suggested: a letter left out or swapped, not a
#: different property of similar shape (``StartTimout`` suggests ``StartTimeout``, not ``StopTimeout``).
_CLOSE = 0.75


@cache
def property_catalog() -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
    """The overridable property paths by resource type: ``path -> {"type": ..., "enum": [...], "open": True}``,
    ``*`` standing for any list index or map key."""
    text = resources.files("ecs_platform").joinpath("cfn_properties.json").read_text(encoding="utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


def overridable_types() -> tuple[str, ...]:
    """The resource types :func:`apply_overrides` accepts."""
    return tuple(sorted(property_catalog()))


def split_path(path: str) -> list[str]:
    """The segments of a property path: split on dots, ``\\.`` kept as a dot inside a segment."""
    return [segment.replace("\\.", ".") for segment in _UNESCAPED_DOT.split(path)]


def override_security_reason(resource_type: str, pattern: str) -> str | None:
    """Why an override of catalog path ``pattern`` (``*`` for indexes) is security-relevant, or ``None``."""
    for path, reason in SECURITY_RELEVANT_OVERRIDES.get(resource_type, {}).items():
        if pattern == path or pattern.startswith(f"{path}.") or path.startswith(f"{pattern}."):
            return reason
    return None


def check_override(kind: str, path: str, value: Any, *, unknown: Callable[[Any], bool] = lambda _: False) -> str:
    """The catalog path (``*`` for indexes and keys) of property ``path`` of resource type ``kind`` after checking it and
    ``value`` (``None``: a deletion); raises :class:`PropertyPathError` on an unknown path or a wrong value. ``unknown``
    tells values known only at deployment (CDK tokens), which are not checked."""
    catalog = property_catalog().get(kind)
    if catalog is None:
        raise PropertyPathError(f"{kind} has no property catalog; allowed: {', '.join(overridable_types())}")
    if not isinstance(path, str) or not path or any(not s for s in split_path(path)):
        allowed = "dotted CloudFormation names, list items by index (Name.0.Name)"
        raise PropertyPathError(f"{path!r} is not a property path; allowed: {allowed}")
    pattern: list[str] = []
    entry: Mapping[str, Any] | None = None
    for segment in split_path(path):
        if entry is not None and entry.get("open"):
            return ".".join(pattern)  # an object whose keys the schema does not list: nothing deeper to check
        if entry is not None and _is(entry, "array"):
            if not segment.isdigit():
                raise PropertyPathError(f"{path!r}: {segment!r} indexes a list of {kind}; allowed: 0, 1, 2 ...")
            pattern.append("*")
        elif entry is not None and _is(entry, "map"):
            pattern.append("*")
        else:
            pattern.append(segment)
        entry = catalog.get(".".join(pattern))
        if entry is None:
            hint = _did_you_mean(".".join(pattern[:-1]), segment, catalog)
            raise PropertyPathError(f"'{path}' is not a property of {kind}{hint}")
    if value is not None:
        _check_value(kind, catalog, path, ".".join(pattern), value, unknown)
    return ".".join(pattern)


def _check_value(
    kind: str, catalog: Mapping[str, Mapping[str, Any]], where: str, pattern: str, value: Any, unknown: Callable[[Any], bool]
) -> None:
    entry = catalog[pattern]
    if value is None or unknown(value) or _is_intrinsic(value):
        return  # known only at deployment
    types = _types(entry)
    if types and _kind(value) not in types and not (_kind(value) == "integer" and "number" in types):
        allowed = " or ".join(_TYPE_NAMES.get(t, t) for t in types)
        got = _TYPE_NAMES.get(_kind(value), _kind(value))
        raise PropertyPathError(f"{where}: {value!r} is {got}; {kind} {pattern} takes {allowed}")
    if "enum" in entry and isinstance(value, str) and value not in entry["enum"]:
        allowed = ", ".join(entry["enum"])
        raise PropertyPathError(f"{where}: {value!r} is not allowed for {kind} {pattern}; allowed: {allowed}")
    if isinstance(value, list | tuple) and f"{pattern}.*" in catalog:
        for index, item in enumerate(value):
            _check_value(kind, catalog, f"{where}.{index}", f"{pattern}.*", item, unknown)
    elif isinstance(value, Mapping) and not entry.get("open"):
        for key, item in value.items():
            child = f"{pattern}.*" if _is(entry, "map") else f"{pattern}.{key}"
            if child not in catalog:
                problem = f"'{where}.{key}' is not a property of {kind}{_did_you_mean(pattern, str(key), catalog)}"
                raise PropertyPathError(problem)
            _check_value(kind, catalog, f"{where}.{key}", child, item, unknown)


def _types(entry: Mapping[str, Any]) -> list[str]:
    declared = entry.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _is(entry: Mapping[str, Any], type_name: str) -> bool:
    return type_name in _types(entry)


def _kind(value: Any) -> str:
    """The catalog type a Python value has (JSON's: a bool is not an integer)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _is_intrinsic(value: Any) -> bool:
    """A CloudFormation intrinsic function (``{"Ref": ...}``, ``{"Fn::Sub": ...}``) of a template written by hand."""
    return isinstance(value, Mapping) and len(value) == 1 and (next(iter(value)) == "Ref" or str(next(iter(value))).startswith("Fn::"))


def _did_you_mean(parent: str, name: str, catalog: Mapping[str, Any]) -> str:
    """The closest paths to ``name`` below catalog path ``parent`` (``""`` at the top); else the paths anywhere whose
    last name is close (a property at the wrong level). Case is ignored: the ECS API's camelCase finds its PascalCase."""
    prefix = f"{parent}." if parent else ""
    below = {k[len(prefix) :].lower(): k for k in catalog if k.startswith(prefix) and "." not in k[len(prefix) :]}
    if name.lower() in below:  # only the case is wrong
        return f"; did you mean {below[name.lower()]}?"
    close = [below[c] for c in difflib.get_close_matches(name.lower(), list(below), n=3, cutoff=_CLOSE)]
    if not close:
        anywhere: dict[str, list[str]] = {}
        for path in sorted(catalog, key=len):
            anywhere.setdefault(path.rsplit(".", 1)[-1].lower(), []).append(path)
        close = [p for c in difflib.get_close_matches(name.lower(), list(anywhere), n=3, cutoff=_CLOSE) for p in anywhere[c]][:3]
    return f"; did you mean {' or '.join(close)}?" if close else "; see ecs_platform/cfn_properties.json for the property paths"


def render_value(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True, ensure_ascii=False)
