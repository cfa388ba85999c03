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
6. ``AWS::ElasticLoadBalancingV2::TargetGroup`` has no ``Fn::GetAtt`` at all (FakeTargetGroup lacks
   get_cfn_attribute: AttributeError, HTTP 500): a scaling policy on the ALB's RequestCountPerTarget
   reads TargetGroupFullName. Added: TargetGroupArn, TargetGroupName, TargetGroupFullName and
   LoadBalancerArns, as CloudFormation documents them.
7. A stack update or delete that removes a role and the customer-managed policy attached to it:
   moto deletes the role first, and IAM refuses (DeleteConflict, "must detach all policies
   first"). CloudFormation deletes the policy first (it names the role), so the role is
   deleted after its policies are detached: the role's CloudFormation delete now detaches them.
8. ``AWS::EFS::AccessPoint`` and ``AWS::EFS::FileSystem`` have no ``Fn::GetAtt`` (AttributeError, HTTP
   500): the task definition's EFS volume reads AccessPointId, the task role's grant the file system's
   Arn. Added: AccessPointId, FileSystemId and Arn, as CloudFormation documents them.

Extension, distinct from the bug fixes above: ``AWS::ApplicationAutoScaling::ScalableTarget``
(with its ScheduledActions) and ``AWS::ApplicationAutoScaling::ScalingPolicy``. moto's
CloudFormation does not create these resources; this adapter creates them through moto's own
Application Auto Scaling backend, which checks that the ECS service exists. A target's Ref is
real CloudFormation's ``resourceId|scalableDimension|serviceNamespace``; a policy's is its ARN.
What the backend does not model stays out: the target's Tags (moto has no tagging for
Application Auto Scaling), PredictiveScaling policies (moto rejects the type: a warning, no
policy) and the alarms a target-tracking policy on a customized metric would create (moto
makes its CPU alarms for every ECS target-tracking policy).

Extension: ``AWS::ServiceDiscovery::HttpNamespace`` (the Cloud Map namespace of ECS Service
Connect, which the cluster's ServiceConnectDefaults reads with ``Fn::GetAtt ... Arn``). moto's
CloudFormation does not create it ("Fn::GetAtt references undefined resource"); this adapter
creates it through moto's own Cloud Map backend (CreateHttpNamespace, with its Tags). Ref is the
namespace ID, as in CloudFormation; GetAtt gives Arn and Id. A new Name replaces the namespace;
a new Description updates it in place; delete removes it.
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.applicationautoscaling.models import (
    ApplicationAutoscalingBackend,
    FakeApplicationAutoscalingPolicy,
    applicationautoscaling_backends,
)
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing
from moto.core.common_models import CloudFormationModel
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.ecs.models import EC2ContainerServiceBackend
from moto.efs.models import AccessPoint, FileSystem
from moto.elbv2.models import FakeTargetGroup
from moto.iam.models import Role, iam_backends
from moto.kms.models import Key
from moto.servicediscovery.models import ServiceDiscoveryBackend, servicediscovery_backends


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


#: The EFS attributes CloudFormation documents, and where moto keeps them.
_EFS_ATTRIBUTES = {
    AccessPoint: {"AccessPointId": "access_point_id", "Arn": "access_point_arn"},
    FileSystem: {"FileSystemId": "file_system_id", "Arn": "file_system_arn"},
}


def _efs_has_cfn_attr(cls: type, attr: str) -> bool:
    return attr in _EFS_ATTRIBUTES[cls]


def _efs_cfn_attribute(self: Any, attribute_name: str) -> str:
    attributes = _EFS_ATTRIBUTES[type(self)]
    if attribute_name not in attributes:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        raise UnformattedGetAttTemplateException()
    return str(getattr(self, attributes[attribute_name]))


def _private_dns_name(self: Any) -> str:
    ip = (self.private_ip_address or "10.0.0.1").replace(".", "-")
    return f"ip-{ip}.{self.ec2_backend.region_name}.compute.internal"


_TARGET_GROUP_ATTRIBUTES = ("TargetGroupArn", "TargetGroupName", "TargetGroupFullName", "LoadBalancerArns")


def _target_group_has_cfn_attr(cls: type, attr: str) -> bool:
    return attr in _TARGET_GROUP_ATTRIBUTES


def _target_group_cfn_attribute(self: Any, attribute_name: str) -> Any:
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    if attribute_name == "TargetGroupArn":
        return self.arn
    if attribute_name == "TargetGroupName":
        return self.name
    if attribute_name == "TargetGroupFullName":  # targetgroup/<name>/<id>, the CloudWatch dimension
        return self.arn.split(":", 5)[5]
    if attribute_name == "LoadBalancerArns":
        return list(self.load_balancer_arns)
    raise UnformattedGetAttTemplateException()


logger = logging.getLogger(__name__)

# The role CloudFormation passes when a ScalableTarget has no RoleARN (the service-linked role).
_SERVICE_LINKED_ROLES = {"ecs": "ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"}


def _scaling_backend(account_id: str, region_name: str) -> ApplicationAutoscalingBackend:
    return applicationautoscaling_backends[account_id][region_name]


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


class CfnScalableTarget(CloudFormationModel):
    """``AWS::ApplicationAutoScaling::ScalableTarget``: RegisterScalableTarget, then PutScheduledAction per ScheduledActions entry."""

    def __init__(self, namespace: str, resource_id: str, dimension: str, scheduled_actions: list[str]) -> None:
        self.namespace = namespace
        self.resource_id = resource_id
        self.dimension = dimension
        self.scheduled_actions = scheduled_actions

    @property
    def physical_resource_id(self) -> str:
        return f"{self.resource_id}|{self.dimension}|{self.namespace}"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalableTarget"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name == "Id":
            return self.physical_resource_id
        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    @staticmethod
    def _key(props: dict[str, Any]) -> tuple[str, str, str]:
        return props["ServiceNamespace"], props["ResourceId"], props["ScalableDimension"]

    @classmethod
    def _register(cls, props: dict[str, Any], account_id: str, region_name: str, previous: list[str]) -> CfnScalableTarget:
        backend = _scaling_backend(account_id, region_name)
        namespace, resource_id, dimension = cls._key(props)
        role = props.get("RoleARN")
        if role is None and namespace in _SERVICE_LINKED_ROLES:
            role = f"arn:aws:iam::{account_id}:role/aws-service-role/{_SERVICE_LINKED_ROLES[namespace]}"
        # Raises a ValidationException when the namespace/resource/dimension do not fit, or the ECS service does not exist.
        backend.register_scalable_target(
            namespace,
            resource_id,
            dimension,
            min_capacity=_optional_int(props.get("MinCapacity")),
            max_capacity=_optional_int(props.get("MaxCapacity")),
            role_arn=role,
            suspended_state=props.get("SuspendedState"),
        )
        actions = props.get("ScheduledActions") or []
        names = [a["ScheduledActionName"] for a in actions]
        for gone in set(previous) - set(names):
            backend.delete_scheduled_action(namespace, gone, resource_id, dimension)
        for action in actions:
            target_action = {k: int(v) for k, v in (action.get("ScalableTargetAction") or {}).items() if v is not None}
            backend.put_scheduled_action(
                service_namespace=namespace,
                schedule=action["Schedule"],
                timezone=action.get("Timezone"),
                scheduled_action_name=action["ScheduledActionName"],
                resource_id=resource_id,
                scalable_dimension=dimension,
                start_time=action.get("StartTime"),
                end_time=action.get("EndTime"),
                scalable_target_action=target_action,  # type: ignore[arg-type]
            )
        return cls(namespace, resource_id, dimension, names)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> CfnScalableTarget:
        return cls._register(cloudformation_json["Properties"], account_id, region_name, previous=[])

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> CfnScalableTarget:
        props = cloudformation_json["Properties"]
        if cls._key(props) == (original_resource.namespace, original_resource.resource_id, original_resource.dimension):
            return cls._register(props, account_id, region_name, previous=original_resource.scheduled_actions)
        # A new namespace, resource or dimension replaces the target: create the new one, then delete the old.
        new = cls._register(props, account_id, region_name, previous=[])
        original_resource.delete(account_id, region_name)
        return new

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        resource_id, dimension, namespace = resource_name.split("|")
        backend = _scaling_backend(account_id, region_name)
        names = [a.scheduled_action_name for a in backend.describe_scheduled_actions([], namespace, resource_id, dimension)]  # type: ignore[arg-type]
        cls(namespace, resource_id, dimension, names).delete(account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """DeregisterScalableTarget; as in AWS, the target's scaling policies and scheduled actions go with it."""
        backend = _scaling_backend(account_id, region_name)
        for name in self.scheduled_actions:
            backend.delete_scheduled_action(self.namespace, name, self.resource_id, self.dimension)
        for policy in list(backend.policies.values()):
            if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (
                self.namespace,
                self.resource_id,
                self.dimension,
            ):
                backend.delete_scaling_policy(policy.policy_name, self.namespace, self.resource_id, self.dimension)
        if backend._scalable_target_exists(self.resource_id, self.dimension):
            backend.deregister_scalable_target(self.namespace, self.resource_id, self.dimension)


class CfnScalingPolicy(CloudFormationModel):
    """``AWS::ApplicationAutoScaling::ScalingPolicy``: PutScalingPolicy on the target named by ScalingTargetId
    (or by ResourceId, ScalableDimension and ServiceNamespace)."""

    _NUMBERS: ClassVar[dict[str, type]] = {
        "TargetValue": float,
        "ScaleInCooldown": int,
        "ScaleOutCooldown": int,
        "Cooldown": int,
        "MinAdjustmentMagnitude": int,
    }

    def __init__(self, name: str, namespace: str, resource_id: str, dimension: str, arn: str) -> None:
        self.name = name
        self.namespace = namespace
        self.resource_id = resource_id
        self.dimension = dimension
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return "PolicyName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalingPolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name == "Arn":
            return self.arn
        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    @staticmethod
    def _target(props: dict[str, Any]) -> tuple[str, str, str]:
        if props.get("ScalingTargetId"):
            resource_id, dimension, namespace = props["ScalingTargetId"].split("|")
            return namespace, resource_id, dimension
        return props["ServiceNamespace"], props["ResourceId"], props["ScalableDimension"]

    @classmethod
    def _put(cls, name: str, props: dict[str, Any], account_id: str, region_name: str) -> CfnScalingPolicy:
        backend = _scaling_backend(account_id, region_name)
        namespace, resource_id, dimension = cls._target(props)
        if not backend._scalable_target_exists(resource_id, dimension):
            # As AWS's ObjectNotFoundException (moto's PutScalingPolicy does not check).
            target = f"service namespace: {namespace}, resource ID: {resource_id}, scalable dimension: {dimension}"
            raise AWSValidationException(f"No scalable target registered for {target}")
        policy_type = props.get("PolicyType")
        if policy_type not in ("StepScaling", "TargetTrackingScaling"):
            logger.warning("moto does not model %s scaling policies: %s on %s not created", policy_type, name, resource_id)
            return cls(name, namespace, resource_id, dimension, arn="")
        key = "StepScalingPolicyConfiguration" if policy_type == "StepScaling" else "TargetTrackingScalingPolicyConfiguration"
        body = {k: cls._NUMBERS[k](v) if k in cls._NUMBERS and v is not None else v for k, v in (props.get(key) or {}).items()}
        policy = backend.put_scaling_policy(name, namespace, resource_id, dimension, policy_body=body, policy_type=policy_type)
        return cls(name, namespace, resource_id, dimension, arn=policy.policy_arn)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> CfnScalingPolicy:
        return cls._put(resource_name, cloudformation_json["Properties"], account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> CfnScalingPolicy:
        # Delete first: moto's PutScalingPolicy on an existing policy would leave its old alarms behind.
        original_resource.delete(account_id, region_name)
        return cls._put(new_resource_name, cloudformation_json["Properties"], account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        backend = _scaling_backend(account_id, region_name)
        for p in list(backend.policies.values()):
            if p.policy_arn == resource_name:
                cls(p.policy_name, p.service_namespace, p.resource_id, p.scalable_dimension, p.policy_arn).delete(account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """DeleteScalingPolicy; a policy already gone with its deregistered target counts as deleted."""
        backend = _scaling_backend(account_id, region_name)
        if FakeApplicationAutoscalingPolicy.formulate_key(self.namespace, self.resource_id, self.dimension, self.name) in backend.policies:
            backend.delete_scaling_policy(self.name, self.namespace, self.resource_id, self.dimension)


def _cloud_map_backend(account_id: str, region_name: str) -> ServiceDiscoveryBackend:
    return servicediscovery_backends[account_id][region_name]


class CfnHttpNamespace(CloudFormationModel):
    """``AWS::ServiceDiscovery::HttpNamespace``: CreateHttpNamespace in moto's Cloud Map backend."""

    def __init__(self, namespace_id: str, arn: str, name: str) -> None:
        self.namespace_id = namespace_id
        self.arn = arn
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.namespace_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ServiceDiscovery::HttpNamespace"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Arn", "Id")

    def get_cfn_attribute(self, attribute_name: str) -> str:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name == "Arn":
            return self.arn
        if attribute_name == "Id":
            return self.namespace_id
        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    @classmethod
    def _create(cls, props: dict[str, Any], account_id: str, region_name: str) -> CfnHttpNamespace:
        backend = _cloud_map_backend(account_id, region_name)
        operation_id = backend.create_http_namespace(
            name=props["Name"],
            creator_request_id="cloudformation",
            description=props.get("Description", ""),
            tags=props.get("Tags") or [],
        )
        namespace = backend.get_namespace(backend.get_operation(operation_id).targets["NAMESPACE"])
        return cls(namespace.id, namespace.arn, namespace.name)

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> CfnHttpNamespace:
        return cls._create(cloudformation_json["Properties"], account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> CfnHttpNamespace:
        props = cloudformation_json["Properties"]
        if props["Name"] != original_resource.name:
            # Name is create-only: a new namespace replaces the old one.
            new = cls._create(props, account_id, region_name)
            original_resource.delete(account_id, region_name)
            return new
        backend = _cloud_map_backend(account_id, region_name)
        backend.update_http_namespace(original_resource.namespace_id, {"Description": props.get("Description", "")})
        tags = props.get("Tags") or []
        stale = [
            t["Key"] for t in backend.list_tags_for_resource(original_resource.arn)["Tags"] if t["Key"] not in {n["Key"] for n in tags}
        ]
        if stale:
            backend.untag_resource(original_resource.arn, stale)
        if tags:
            backend.tag_resource(original_resource.arn, tags)
        return cls(original_resource.namespace_id, original_resource.arn, original_resource.name)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        backend = _cloud_map_backend(account_id, region_name)
        if resource_name in backend.namespaces:
            backend.delete_namespace(resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """DeleteNamespace (a namespace already gone counts as deleted)."""
        self.delete_from_cloudformation_json(self.namespace_id, {}, account_id, region_name)


_delete_role = Role.delete_from_cloudformation_json


def _delete_role_after_its_policies(cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str) -> None:
    """Fix 7: detach the role's managed policies (CloudFormation deletes them first), then delete it."""
    for backend in iam_backends[account_id].values():
        for role in list(backend.roles.values()):
            if role.name == resource_name:
                for arn in list(role.managed_policies):
                    backend.detach_role_policy(arn, resource_name)
    _delete_role.__func__(cls, resource_name, cloudformation_json, account_id, region_name)  # type: ignore[attr-defined]


def apply() -> None:
    """Install the fixes and the Application Auto Scaling and Cloud Map extensions (idempotent)."""
    # The models above register themselves as CloudFormationModel subclasses on import;
    # moto caches its model lookups, so drop whatever it cached before.
    for cached in (cfn_parsing.get_model_list, cfn_parsing.get_model_map, cfn_parsing.get_name_type_map):
        cached.cache_clear()
    assert cfn_parsing.get_model_map()["AWS::ApplicationAutoScaling::ScalableTarget"] is CfnScalableTarget
    assert cfn_parsing.get_model_map()["AWS::ServiceDiscovery::HttpNamespace"] is CfnHttpNamespace
    Key.create_from_cloudformation_json = classmethod(_create_key_fixed)  # type: ignore[assignment]
    Role.delete_from_cloudformation_json = classmethod(_delete_role_after_its_policies)  # type: ignore[assignment]
    cfn_models.CloudFormationBackend._resolve_update_parameters = _resolve_update_parameters  # type: ignore[method-assign]
    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(_requirements_fixed)  # type: ignore[method-assign]
    if "get_cfn_attribute" not in vars(FakeTargetGroup):
        FakeTargetGroup.has_cfn_attr = classmethod(_target_group_has_cfn_attr)  # type: ignore[assignment]
        FakeTargetGroup.get_cfn_attribute = _target_group_cfn_attribute  # type: ignore[attr-defined]
    for efs_model in _EFS_ATTRIBUTES:
        if "get_cfn_attribute" not in vars(efs_model):
            efs_model.has_cfn_attr = classmethod(_efs_has_cfn_attr)  # type: ignore[assignment]
            efs_model.get_cfn_attribute = _efs_cfn_attribute  # type: ignore[attr-defined]
    if not hasattr(NetworkInterface, "private_dns_name"):
        NetworkInterface.private_dns_name = property(_private_dns_name)  # type: ignore[attr-defined]
