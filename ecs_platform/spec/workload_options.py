"""What a workload may add to its tasks beyond containers: volumes, a log router and a tracing collector,
its own egress rules, and the escape hatch of CloudFormation overrides. Plain data: no CDK import.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from ecs_platform.spec.base import AbsolutePath, Name, _check, _Model, _pattern, _range


class EbsVolumeSpec(_Model):
    """An EBS volume ECS creates, attaches to each task and deletes with it (KMS-encrypted with the platform's key)."""

    size_gib: Annotated[int, *_range(1, 16384)] = Field(description="Size in GiB. Required.")
    type: Literal["gp3", "gp2", "io1", "io2", "st1", "sc1", "standard"] = Field(default="gp3", description="Volume type. Default: gp3.")
    iops: Annotated[int, *_range(100, 256000)] | None = Field(default=None, description="IOPS (gp3, io1, io2). Default: the type's.")
    throughput: Annotated[int, *_range(125, 2000)] | None = Field(default=None, description="MiB/s (gp3 only). Default: 125.")
    file_system: Literal["xfs", "ext4", "ext3"] = Field(default="xfs", description="File system ECS formats it with. Default: xfs.")


class VolumeSpec(_Model):
    """A volume mounted into one container: a file system of ``storage:`` (EFS) or a per-task EBS volume."""

    name: Name = Field(description="Volume name, unique in the workload.")
    path: AbsolutePath = Field(description="Where the container sees it, e.g. /data.")
    container: Name | None = Field(default=None, description="The container that mounts it. Default: the first.")
    read_only: bool = Field(default=False, description="Mount read-only. Default: false.")
    efs: Name | None = Field(default=None, description="The name of an efs entry of storage:. Default: none.")
    ebs: EbsVolumeSpec | None = Field(default=None, description="A new EBS volume per task. Default: none.")

    @model_validator(mode="after")
    def _one_source(self) -> VolumeSpec:
        if (self.efs is None) == (self.ebs is None):
            raise ValueError(f"{'both' if self.efs else 'neither'} of efs and ebs given; allowed: exactly one")
        return self


class LogRoutingSpec(_Model):
    """FireLens: a Fluent Bit container routes the application containers' logs to one destination."""

    destination: Literal["cloudwatch", "s3", "firehose"] = Field(
        description="cloudwatch: the workload's log group; s3: bucket; firehose: delivery_stream. Required."
    )
    bucket: Name | None = Field(default=None, description="s3: the name of an s3 entry of storage:. Required there.")
    prefix: Annotated[str, _pattern(r"[A-Za-z0-9_./-]{0,200}", "a key prefix such as logs/")] = Field(
        default="logs/", description="s3: key prefix. Default: logs/."
    )
    delivery_stream: Annotated[str, _pattern(r"[a-zA-Z0-9_.-]{1,64}", "a Firehose delivery stream name")] | None = Field(
        default=None, description="firehose: the delivery stream's name in the environment's account and region. Required there."
    )

    @model_validator(mode="after")
    def _target(self) -> LogRoutingSpec:
        wanted = {"s3": "bucket", "firehose": "delivery_stream"}.get(self.destination)
        if wanted and getattr(self, wanted) is None:
            raise ValueError(f"destination {self.destination} needs {wanted}; allowed: {wanted} given, or destination cloudwatch")
        for field in ("bucket", "delivery_stream"):
            if field != wanted and getattr(self, field) is not None:
                raise ValueError(f"{field} given for destination {self.destination}; allowed: {field} only with its destination")
        return self


def _cidr(value: str) -> str | None:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        return f"{value!r} is not a CIDR block; allowed: a network such as 10.20.0.0/16 or 2001:db8::/32"
    return None


Cidr = Annotated[str, _check(_cidr)]
PrefixListId = Annotated[str, _pattern(r"pl-[0-9a-f]{8,17}", "a prefix list ID such as pl-0123456789abcdef0")]


class EgressRuleSpec(_Model):
    """One outbound rule of the workload's security group."""

    ports: list[Annotated[int, *_range(1, 65535)]] = Field(min_length=1, description="Ports, e.g. [5432]. Required.")
    protocol: Literal["tcp", "udp"] = Field(default="tcp", description="Default: tcp.")
    cidrs: list[Cidr] = Field(default_factory=list, description="Destination networks. Default: none.")
    prefix_lists: list[PrefixListId] = Field(default_factory=list, description="Destination managed prefix lists. Default: none.")
    description: Annotated[str, _pattern(r"[\w .:/()#,@\[\]+=&;{}!$*-]{0,200}", "a short description")] = Field(
        default="", description="Why the workload goes there. Default: none."
    )

    @model_validator(mode="after")
    def _destination(self) -> EgressRuleSpec:
        if not self.cidrs and not self.prefix_lists:
            raise ValueError("no destination; allowed: cidrs, prefix_lists, or both")
        return self


class OverridesSpec(_Model):
    """CloudFormation properties set on the workload's resources, by property path (``ContainerDefinitions.0.Cpu``):
    the escape hatch for what the spec does not model. A path the resource type does not have is refused; the
    synthesis summary lists every override."""

    task_definition: dict[str, Any] = Field(
        default_factory=dict, description="AWS::ECS::TaskDefinition properties by path; null deletes one. Default: none."
    )
    service: dict[str, Any] = Field(
        default_factory=dict, description="AWS::ECS::Service properties by path (services and workers). Default: none."
    )
