"""Fixes for moto 5.2.5 bugs that stop `cdk deploy` of this app, or an API call, in the emulator.

Imported by the emulator fixture before the server starts. Each fix names the moto bug;
none of them makes moto model more than it does: where moto ignores a property, the
tests mark the gap ``xfail(strict=True)`` instead.

1. ``AWS::KMS::Key`` tags: CloudFormation uses Key/Value, moto's KMS backend indexes TagKey
   (KeyError, surfacing as "Fn::GetAtt references undefined resource <Key>").
2. ``AWS::KMS::Key`` KeyPolicy is stored as a dict; DescribeKey json-loads it (HTTP 500).
3. UpdateStack with UsePreviousValue for a parameter left at its default on create (the CDK
   CLI does this for BootstrapVersion): KeyError (HTTP 500, "XML parse error" in the CLI).
4. RunTask of a task definition without container-level memory (Fargate): int += None.
5. RunTask of an awsvpc task: moto's ENI has no ``private_dns_name`` (HTTP 500).
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.ecs.models import EC2ContainerServiceBackend
from moto.kms.models import Key


def _kms_key_json(cfn_json: dict[str, Any]) -> dict[str, Any]:
    props = cfn_json.setdefault("Properties", {})
    if props.get("Tags"):
        props["Tags"] = [{"TagKey": t.get("TagKey", t.get("Key")), "TagValue": t.get("TagValue", t.get("Value"))} for t in props["Tags"]]
    if isinstance(props.get("KeyPolicy"), dict):
        props["KeyPolicy"] = json.dumps(props["KeyPolicy"])
    return cfn_json


_create_key = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_key_fixed(cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any) -> Any:
    return _create_key(cls, resource_name, _kms_key_json(cloudformation_json), account_id, region_name, **kwargs)


def _resolve_update_parameters(self: Any, instance: Any, incoming_params: list[dict[str, Any]]) -> dict[str, Any]:
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in incoming_params if "ParameterValue" in p}
    for p in incoming_params:
        # A parameter created from its default has no stored value: leave it out, the default applies again.
        if p.get("UsePreviousValue", False) and p["ParameterKey"] in instance.parameters:
            parameters[p["ParameterKey"]] = instance.parameters[p["ParameterKey"]]
    return parameters


_requirements = EC2ContainerServiceBackend._calculate_task_resource_requirements


class _ContainersOnly:
    def __init__(self, container_definitions: list[dict[str, Any]]) -> None:
        self.container_definitions = container_definitions


def _requirements_fixed(task_definition: Any) -> Any:
    keys = ("Memory", "MemoryReservation", "memory", "memoryReservation")
    containers = [c if any(c.get(k) is not None for k in keys) else {**c, "memory": 0} for c in task_definition.container_definitions]
    return _requirements(_ContainersOnly(containers))


def _private_dns_name(self: Any) -> str:
    ip = (self.private_ip_address or "10.0.0.1").replace(".", "-")
    return f"ip-{ip}.{self.ec2_backend.region_name}.compute.internal"


def apply() -> None:
    """Install the fixes (idempotent)."""
    Key.create_from_cloudformation_json = classmethod(_create_key_fixed)  # type: ignore[assignment]
    cfn_models.CloudFormationBackend._resolve_update_parameters = _resolve_update_parameters  # type: ignore[method-assign]
    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(_requirements_fixed)  # type: ignore[method-assign]
    if not hasattr(NetworkInterface, "private_dns_name"):
        NetworkInterface.private_dns_name = property(_private_dns_name)  # type: ignore[attr-defined]
