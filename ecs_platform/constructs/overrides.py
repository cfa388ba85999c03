"""Overrides: the escape hatch for a CloudFormation property the spec does not model (issue 15, item 7).

A workload's ``overrides:`` sets properties of its task definition, service or target group by property path, in
CloudFormation's casing, with list items by index (``ContainerDefinitions.0.StartTimeout``, ``EnableExecuteCommand``);
``\\.`` escapes a dot inside a map key (``ContainerDefinitions.0.DockerLabels.com\\.example\\.team``). A ``None``
value deletes the property. :func:`apply_overrides` checks each path against the catalog of the resource type's
properties (``ecs_platform/cfn_properties.json``, generated from the CloudFormation resource provider schemas by
``python -m tests.cfn_catalog``) and each value against the property's type and allowed values, so a typo fails at
synthesis with the closest valid paths instead of at deployment, then hands it to CDK's
``add_property_override``. Values that are tokens or CloudFormation intrinsics (``{"Ref": ...}``, ``{"Fn::...": ...}``)
are not checked, as aws-cdk-lib does.

Every schema path is allowed, including those the platform's security rests on: refusing them would push users to
raw CDK code, where nothing reports them. Instead nothing is applied silently: the function returns one line per
override for the synthesis summary, and marks the lines of security-relevant properties (:data:`SECURITY_RELEVANT_OVERRIDES`)
with the reason. cdk-nag reads the L1 properties, not the overrides, so it does not check an overridden value;
CDK's own CloudFormation validation at synthesis does (a missing required property, an index past the end of a list).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnResource

from ecs_platform.cfn_catalog import (
    SECURITY_RELEVANT_OVERRIDES,
    PropertyPathError,
    check_override,
    overridable_types,
    override_security_reason,
    property_catalog,
    render_value,
    split_path,
)
from ecs_platform.constructs.errors import ConstructError, unresolved

__all__ = [
    "SECURITY_RELEVANT_OVERRIDES",
    "apply_overrides",
    "overridable_types",
    "override_security_reason",
    "property_catalog",
    "split_path",
]


def apply_overrides(resource: CfnResource, overrides: Mapping[str, Any], *, resource_type: str | None = None) -> list[str]:
    """Check each ``path -> value`` of ``overrides`` against ``resource``'s type, then set it on ``resource`` as a
    property override (a ``None`` value deletes the property). Returns one summary line per override, in order
    (``AWS::ECS::TaskDefinition ContainerDefinitions.0.StartTimeout = 30``). ``resource_type`` names the type to check
    against. Default: ``resource.cfn_resource_type``; a different type is refused. Raises :class:`ConstructError`,
    naming the path, before anything is applied, on an unknown path or a value of the wrong type."""
    kind = resource.cfn_resource_type
    if resource_type is not None and resource_type != kind:
        raise ConstructError(resource, f"overrides: resource_type {resource_type} is not the resource's type {kind}")
    try:
        checked = [(path, value, check_override(kind, path, value, unknown=unresolved)) for path, value in overrides.items()]
    except PropertyPathError as error:
        raise ConstructError(resource, f"overrides: {error}") from None
    lines = []
    for path, value, pattern in checked:
        if value is None:
            resource.add_property_deletion_override(path)
            line = f"{kind} {path} deleted"
        else:
            resource.add_property_override(path, value)
            line = f"{kind} {path} = {render_value(value)}"
        reason = override_security_reason(kind, pattern)
        lines.append(f"{line}  [security-relevant: {reason}; not checked by cdk-nag]" if reason else line)
    return lines
