"""Environment manifests -> the spec's environments: name, production, region and AZs, the VPC, and what the
load balancers take from them (certificates, which ones are public, the networks they admit)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecs_platform.copilot.manifests import Manifest
from ecs_platform.copilot.report import Recorder, ReportLine
from ecs_platform.copilot.target import EnvironmentInfo
from ecs_platform.copilot.values import spec_name

PRODUCTION_NAMES = ("prod", "production", "prd")
DEFAULT_REGION = "ap-northeast-1"


def default_zones(region: str) -> list[str]:
    """The AZs used when neither the manifest nor --availability-zones names them: a and c in ap-northeast-1 (1b is not
    offered to newer accounts), a and b elsewhere."""
    return [f"{region}a", f"{region}c"] if region == "ap-northeast-1" else [f"{region}a", f"{region}b"]


@dataclass
class EnvironmentResult:
    info: EnvironmentInfo
    entry: dict[str, Any]
    """The environment's entry (name, production, region, availability_zones, account)."""
    network: dict[str, Any] = field(default_factory=dict)
    lines: list[ReportLine] = field(default_factory=list)
    manifest: str = ""


def environment(
    manifest: Manifest | None, name: str, *, region: str, zones: Sequence[str] | None, account: str | None
) -> EnvironmentResult:
    """An environment from its manifest (None: an environment named only by the workloads' overrides)."""
    rec = Recorder(manifest.path if manifest else "copilot/environments")
    data: Mapping[str, Any] = manifest.data if manifest else {}
    spec = spec_name(name)
    production = name.lower() in PRODUCTION_NAMES or name.lower().startswith(("prod-", "production-"))
    subnet_zones = _subnet_zones(data)
    chosen = list(zones) if zones else (subnet_zones if len(subnet_zones) >= 2 else default_zones(region))
    entry: dict[str, Any] = {"name": spec, "production": production, "region": region, "availability_zones": chosen}
    if account:
        entry["account"] = account
    where = f"environments[{spec}]"
    notes = [f"{where}" + ("" if spec == name else f" (renamed from {name})")]
    exact = spec == name
    if production:
        notes.append("production: true because of its name (stateful resources kept on delete, two tasks a service at least)")
        exact = False
    else:
        notes.append("production: false (set production: true if it serves customers)")
    if zones:
        notes.append(f"region {region}, AZs {', '.join(chosen)} (--region, --availability-zones)")
    elif len(subnet_zones) >= 2:
        notes.append(f"region {region} (--region), AZs {', '.join(chosen)} from its subnets")
    else:
        notes.append(
            f"region {region}, AZs {', '.join(chosen)}: Copilot keeps them outside the manifests; check them "
            "(--region, --availability-zones)"
        )
        exact = False
    rec.add("name" if "name" in data or manifest is None else "type", "mapped" if exact else "approximated", "; ".join(notes))
    if manifest is not None:
        rec.mapped("type", "an entry of environments: (or environment: with --env)")
    result = EnvironmentResult(EnvironmentInfo(name=name, production=production, manifest=rec.manifest), entry, manifest=rec.manifest)
    _network(data, result, rec)
    _http(data, result, rec)
    _other(data, rec)
    result.lines = rec.finish(data)
    return result


def _subnet_zones(data: Mapping[str, Any]) -> list[str]:
    vpc = _get(data, "network", "vpc")
    subnets = vpc.get("subnets") if isinstance(vpc, Mapping) else None
    found: list[str] = []
    if isinstance(subnets, Mapping):
        for kind in ("public", "private"):
            for subnet in subnets.get(kind) or []:
                zone = subnet.get("az") if isinstance(subnet, Mapping) else None
                if zone and zone not in found:
                    found.append(str(zone))
    return found


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _network(data: Mapping[str, Any], result: EnvironmentResult, rec: Recorder) -> None:
    vpc = _get(data, "network", "vpc")
    if not isinstance(vpc, Mapping):
        return
    where = f"environments[{result.entry['name']}].overrides.network"
    if "id" in vpc:
        _existing(vpc, rec)
    if "cidr" in vpc:
        cidr = str(vpc["cidr"])
        try:
            prefix = ipaddress.ip_network(cidr).prefixlen
        except ValueError:
            prefix = -1
        if 16 <= prefix <= 20:
            result.network["cidr"] = cidr
            rec.mapped("network.vpc.cidr", f"{where}.cidr")
        else:
            rec.not_mapped("network.vpc.cidr", f"{cidr}: the platform's VPC is a /16 to /20; the default 10.0.0.0/16 is kept")
    if "subnets" in vpc and "id" not in vpc:
        rec.approximated(
            "network.vpc.subnets",
            "AZs taken from the subnets (environment.availability_zones); their CIDRs are not kept: "
            "the platform lays out public, web and batch subnets from network.cidr (SEC-1)",
        )
    if "security_group" in vpc:
        rec.not_mapped(
            "network.vpc.security_group",
            "no environment-wide security group here: each workload has its own; "
            "write outbound rules as egress: on the workload, callers as connect.callers",
        )
    if "flow_logs" in vpc:
        retention = vpc["flow_logs"].get("retention") if isinstance(vpc["flow_logs"], Mapping) else None
        rec.add(
            "network.vpc.flow_logs",
            "approximated" if retention else "mapped",
            "VPC flow logs are always on, kept one year" + (f" (not {retention} days)" if retention else ""),
        )


def _existing(vpc: Mapping[str, Any], rec: Recorder) -> None:
    subnets: Mapping[str, Any] = vpc["subnets"] if isinstance(vpc.get("subnets"), Mapping) else {}
    public = [str(s.get("id")) for s in subnets.get("public") or [] if isinstance(s, Mapping)]
    private = [str(s.get("id")) for s in subnets.get("private") or [] if isinstance(s, Mapping)]
    half = len(private) // 2
    if public and half >= len(public):
        hint = (
            f"if the private subnets are listed AZ by AZ twice over, web_subnet_ids: {private[: len(public)]}, "
            f"batch_subnet_ids: {private[half : half + len(public)]}"
        )
    else:
        hint = f"it has {len(private)} private subnet(s) for {max(len(public), 1)} AZ(s): add a second private subnet per AZ first"
    rec.not_mapped(
        "network.vpc",
        f"the imported VPC {vpc.get('id')}: the platform keeps web and batch tasks in separate private subnets (SEC-1), "
        "Copilot has one private class; a new VPC is built instead. To use this one, write network.existing: {vpc_id, cidr "
        f"(the VPC's), public_subnet_ids: {public}, web_subnet_ids, batch_subnet_ids}} in AZ order; {hint}",
    )


def _http(data: Mapping[str, Any], result: EnvironmentResult, rec: Recorder) -> None:
    http = data.get("http")
    if not isinstance(http, Mapping):
        return
    public, private = http.get("public"), http.get("private")
    info = result.info
    public_certs = tuple(str(c) for c in (_get(public, "certificates") or []))
    private_certs = tuple(str(c) for c in (_get(private, "certificates") or []))
    source_ips = tuple(str(c) for c in (_get(public, "ingress", "source_ips") or []))
    result.info = EnvironmentInfo(
        name=info.name,
        production=info.production,
        public_certificates=public_certs,
        private_certificates=private_certs,
        private_only=private is not None and public is None,
        source_ips=source_ips,
        manifest=info.manifest,
    )
    for kind, certs in (("public", public_certs), ("private", private_certs)):
        if certs:
            lb = "public" if kind == "public" else "internal"
            note = f"{lb} load balancers of this environment: https: true, certificate_arn {certs[0]}"
            if len(certs) > 1:
                rec.approximated(
                    f"http.{kind}.certificates",
                    f"{note}; the others ({', '.join(certs[1:])}) are not attached: one "
                    "certificate a load balancer here (or a domain, with its own certificate)",
                )
            else:
                rec.mapped(f"http.{kind}.certificates", note)
    for kind, value in (("public", public), ("private", private)):
        if not isinstance(value, Mapping):
            continue
        if "access_logs" in value:
            rec.add(
                f"http.{kind}.access_logs",
                "mapped" if value["access_logs"] is True else "approximated",
                "ALB access logs are always on, into the platform's log bucket",
            )
        if "ssl_policy" in value:
            rec.not_mapped(f"http.{kind}.ssl_policy", "the platform sets the HTTPS listeners' TLS policy (TLS 1.2 and later)")
        if "subnets" in value:
            rec.not_mapped(f"http.{kind}.subnets", "internal load balancers are in the private web subnets")
    if source_ips:
        rec.mapped(
            "http.public.ingress.source_ips", "load_balancer.allowed_cidrs of each public service (unless it sets allowed_source_ips)"
        )
    if _get(public, "ingress", "cdn") is not None:
        rec.not_mapped("http.public.ingress.cdn", "no CloudFront here: the ALB admits the internet or allowed_cidrs")
    if _get(private, "ingress", "vpc") is not None:
        rec.mapped("http.private.ingress.vpc", "internal load balancers admit the VPC")
    if public is not None and not public_certs and not isinstance(public, Mapping):
        rec.mapped("http.public", "public load balancers (HTTP only without certificates)")


def _other(data: Mapping[str, Any], rec: Recorder) -> None:
    if "cdn" in data:
        rec.not_mapped("cdn", "no CloudFront distribution here: put one in front of the ALB yourself, or serve from the ALB")
    insights = _get(data, "observability", "container_insights")
    if insights is not None:
        rec.add(
            "observability.container_insights",
            "mapped" if insights else "approximated",
            "Container Insights (enhanced) is always on for the cluster",
        )
