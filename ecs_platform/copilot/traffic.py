"""Traffic and scale families of services and workers: ``http`` (the load balancer, its health check and rules),
``nlb``, ``network.connect``, ``count`` (fixed, Spot, ranges and their targets) and ``deployment``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ecs_platform.copilot.report import Recorder, Status
from ecs_platform.copilot.target import Target
from ecs_platform.copilot.values import duration_seconds, spec_name, whole_seconds

STICKINESS_SECONDS = 86400
HA_MIN_TASKS = 2


def load_balancer(m: Mapping[str, Any], t: Target, rec: Recorder, *, public: bool, sidecars: Mapping[str, str]) -> bool:
    """``http``: an ALB of the service's own (public for a web service, internal for a backend one), HTTPS with the
    environment's certificate. Returns whether the service got a load balancer."""
    http = m.get("http")
    if http is False:
        rec.not_mapped("http", "the ALB is off in Copilot: the service gets no load balancer and is reached through Service Connect")
        return False
    if http is None and not public:
        return False  # a backend service without http: Service Connect only
    http = http if isinstance(http, Mapping) else {}
    env = t.ctx.env
    if public and env is not None and env.private_only:
        public = False
    certificates = (env.public_certificates if public else env.private_certificates) if env else ()
    lb: dict[str, Any] = {"public": public, "https": bool(certificates)}
    if certificates:
        lb["certificate_arn"] = certificates[0]
    t.entry["load_balancer"] = lb
    _path(http, lb, t, rec)
    _health(http, t, rec)
    _rules(http, lb, t, rec, sidecars)
    if public and env is not None and env.source_ips and "allowed_source_ips" not in http:
        lb["allowed_cidrs"] = list(env.source_ips)
    return True


def exposure_note(t: Target) -> tuple[str, bool]:
    """How the service is exposed, for the report of its type; and whether that is exactly Copilot's."""
    lb = t.entry.get("load_balancer")
    if lb is None:
        return "no load balancer: reached through Service Connect", True
    kind = "a public" if lb["public"] else "an internal"
    if lb["https"]:
        env = t.ctx.env.manifest if t.ctx.env else ""
        return f"{kind} ALB of its own, HTTPS with the certificate of {env}", True
    section = "public" if lb["public"] else "private"
    return (
        f"{kind} ALB of its own, HTTP only: no certificate in this environment's manifest (http.{section}.certificates); "
        "give load_balancer.certificate_arn or domain for HTTPS",
        False,
    )


def _path(http: Mapping[str, Any], lb: dict[str, Any], t: Target, rec: Recorder) -> None:
    if "path" not in http:
        return
    path = str(http["path"]).strip()
    if path in ("", "/"):
        rec.mapped("http.path", f"{t.at('load_balancer')}: every path (the ALB is the service's own)")
        return
    path = "/" + path.strip("/")
    lb["paths"] = [path, f"{path}/*"]
    rec.mapped("http.path", f"{t.at('load_balancer.paths')}: {lb['paths']}")


_HEALTH = {
    "path": ("path", None),
    "success_codes": ("healthy_http_codes", None),
    "healthy_threshold": ("healthy_threshold", (2, 10)),
    "unhealthy_threshold": ("unhealthy_threshold", (2, 10)),
    "interval": ("interval_seconds", (5, 300)),
    "timeout": ("timeout_seconds", (2, 120)),
    "grace_period": ("grace_period_seconds", (0, 7200)),
}


def _health(http: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    value = http.get("healthcheck")
    if value is None:
        return
    check = t.entry.setdefault("health_check", {})
    if not isinstance(value, Mapping):
        check["path"] = str(value)
        rec.mapped("http.healthcheck", t.at("health_check.path"))
        return
    for key, raw in value.items():
        path = f"http.healthcheck.{key}"
        if key == "port":
            rec.not_mapped(path, "health checks go to the traffic port of the container the load balancer sends to")
            continue
        if key not in _HEALTH:
            continue
        spec_key, bounds = _HEALTH[key]
        where = t.at(f"health_check.{spec_key}")
        if bounds is None:
            check[spec_key] = str(raw).replace(" ", "")
            rec.mapped(path, where)
            continue
        number = raw if isinstance(raw, int) and key.endswith("threshold") else whole_seconds(raw)
        if number is None:
            rec.not_mapped(path, f"{raw!r} is not a number or duration")
            continue
        clamped = min(max(number, bounds[0]), bounds[1])
        check[spec_key] = clamped
        if clamped == number:
            rec.mapped(path, where)
        else:
            rec.approximated(path, f"{where}: {clamped} ({number} is outside {bounds[0]}..{bounds[1]})")


def _rules(http: Mapping[str, Any], lb: dict[str, Any], t: Target, rec: Recorder, sidecars: Mapping[str, str]) -> None:
    where = t.at("load_balancer")
    if "deregistration_delay" in http:
        field = "deregistration_delay_seconds"
        if field in lb_fields():
            lb[field] = whole_seconds(http["deregistration_delay"])
            rec.mapped("http.deregistration_delay", f"{where}.{field}")
        else:
            rec.not_mapped(
                "http.deregistration_delay",
                "the spec has no field for it: the platform drains targets for 30 s "
                "(Copilot's default was 60 s); a task stopping sooner than that is unaffected",
            )
    if "target_container" in http:
        name = sidecars.get(str(http["target_container"]), spec_name(str(http["target_container"])))
        lb["container"] = name
        rec.mapped("http.target_container", f"{where}.container: {name}")
    if "target_port" in http:
        container = next((c for c in t.containers if c["name"] == lb.get("container", t.main["name"])), t.main)
        port = http["target_port"]
        if str(container.get("port")) == str(port):
            rec.mapped("http.target_port", f"the port of {container['name']} ({port})")
        else:
            rec.not_mapped(
                "http.target_port",
                f"the load balancer sends to the port of its container ({container.get('port')}); "
                f"give the port {port} to that container (port:)",
            )
    if "stickiness" in http:
        if http["stickiness"]:
            lb["stickiness_seconds"] = STICKINESS_SECONDS
            rec.approximated("http.stickiness", f"{where}.stickiness_seconds: {STICKINESS_SECONDS} (Copilot's cookie duration, one day)")
        else:
            rec.mapped("http.stickiness", "off (no stickiness_seconds)")
    if "allowed_source_ips" in http:
        if lb["public"]:
            lb["allowed_cidrs"] = [str(c) for c in http["allowed_source_ips"]]
            rec.mapped("http.allowed_source_ips", f"{where}.allowed_cidrs")
        else:
            rec.not_mapped("http.allowed_source_ips", "an internal load balancer admits the VPC only; allowed_cidrs applies to public ones")
    _alias(http, lb, t, rec)
    if "redirect_to_https" in http:
        status: Status = "mapped" if http["redirect_to_https"] else "approximated"
        rec.add("http.redirect_to_https", status, "with https, the platform's HTTP listener only redirects to HTTPS")
    if "version" in http:
        _version(str(http["version"]).lower(), lb, t, rec)
    for key, why in (
        (
            "additional_rules",
            "one listener rule a service here: route other paths to another service, or share an ALB "
            "(load_balancers: and load_balancer.shared with paths and priority)",
        ),
        (
            "alb",
            "an imported ALB: the platform creates the load balancer; several services share one through load_balancers: "
            "and load_balancer.shared",
        ),
    ):
        if key in http:
            rec.not_mapped(f"http.{key}", why)


def lb_fields() -> set[str]:
    from ecs_platform.spec.models import LoadBalancerSpec

    return set(LoadBalancerSpec.model_fields)


def _alias(http: Mapping[str, Any], lb: dict[str, Any], t: Target, rec: Recorder) -> None:
    if "alias" not in http:
        if "hosted_zone" in http:
            rec.not_mapped("http.hosted_zone", "without alias it names nothing")
        return
    raw = http["alias"]
    entries = raw if isinstance(raw, list) else [raw]
    names = [str(e.get("name")) if isinstance(e, Mapping) else str(e) for e in entries]
    zones = [str(e["hosted_zone"]) for e in entries if isinstance(e, Mapping) and e.get("hosted_zone")]
    if "hosted_zone" in http:
        zones.append(str(http["hosted_zone"]))
    lb["hosts"] = names[:5]
    dns = (
        f"the DNS record is not created: point {', '.join(names)} at the new ALB, or give load_balancer.domain "
        f"{{name: {names[0]}, hosted_zone_id: {zones[0] if zones else '<zone id>'}, hosted_zone_name: <the zone's name>}}"
        " (a certificate and the record are then made)"
    )
    rec.approximated("http.alias", f"{t.at('load_balancer.hosts')}: {lb['hosts']} (routed by host name); {dns}")
    if "hosted_zone" in http:
        rec.not_mapped("http.hosted_zone", "the spec needs the zone's name with its ID: write load_balancer.domain (see http.alias)")


def _version(version: str, lb: dict[str, Any], t: Target, rec: Recorder) -> None:
    if version in ("http1", "http1.1"):
        rec.mapped("http.version", "HTTP/1.1, the target groups' default")
        return
    if version not in ("grpc", "http2"):
        rec.not_mapped("http.version", f"{version!r}; allowed: http1, http2, grpc")
        return
    container = next((c for c in t.containers if c["name"] == lb.get("container", t.main["name"])), t.main)
    if lb["https"]:
        container["app_protocol"] = version
        rec.mapped("http.version", t.at(f"containers[{container['name']}].app_protocol") + f": {version}")
    else:
        rec.not_mapped(
            "http.version",
            f"{version} needs an HTTPS listener, and this environment has no certificate: "
            f"give the load balancer a certificate, then app_protocol: {version} on {container['name']}",
        )


def nlb(m: Mapping[str, Any], rec: Recorder) -> None:
    if "nlb" in m:
        rec.not_mapped(
            "nlb",
            "a Network Load Balancer: the platform builds ALBs only; TCP/UDP callers inside the VPC reach the "
            "service through Service Connect, HTTP ones through load_balancer:",
        )


def connect(m: Mapping[str, Any], t: Target, rec: Recorder, *, has_lb: bool) -> bool:
    """``network.connect``: the service in the spec's Service Connect namespace (its alias as the name). A service
    without a load balancer always joins it. Returns whether it does."""
    value = (m.get("network") or {}).get("connect") if isinstance(m.get("network"), Mapping) else None
    joins = not has_lb or bool(value)
    if "network" in m and isinstance(m["network"], Mapping) and "connect" in m["network"]:
        if isinstance(value, Mapping) and value.get("alias"):
            name = spec_name(str(value["alias"]))
            t.entry.setdefault("connect", {})["name"] = name
            rec.mapped("network.connect.alias", f"{t.at('connect.name')}: {name}")
        elif value is False and not has_lb:
            rec.approximated(
                "network.connect",
                "Service Connect all the same: without a load balancer it is the only way in here "
                "(Copilot's service discovery names, <svc>.<env>.<app>.local, are gone: call http://<name>:<port>)",
            )
        else:
            rec.mapped("network.connect", f"the spec's Service Connect namespace ({t.at('connect')})" if joins else "off")
    if joins:
        t.ctx.shared.service_connect = True
    return joins


def _range(value: Any) -> tuple[int, int, int | None] | None:
    if isinstance(value, Mapping):
        low, high = value.get("min"), value.get("max")
        if isinstance(low, int) and isinstance(high, int):
            spot = value.get("spot_from")
            return low, high, spot if isinstance(spot, int) else None
        return None
    parts = str(value).split("-")
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
        return int(parts[0]), int(parts[1]), None
    return None


def _target_value(value: Any) -> tuple[Any, bool]:
    """An autoscaling target: a number, or {value, cooldown}; and whether a cooldown was given."""
    if isinstance(value, Mapping):
        return value.get("value"), "cooldown" in value
    return value, False


def _ha(count: int, t: Target) -> int:
    env = t.ctx.env
    return max(count, HA_MIN_TASKS) if env is not None and env.production else count


def _ha_note(before: int, after: int, t: Target) -> str:
    if before == after:
        return ""
    env = t.ctx.env.name if t.ctx.env else ""
    return f"; raised from {before} to {after} in {env} (production: at least two tasks across AZs, HA-3)"


def service_count(m: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    """A service's ``count``: desired_count, Spot capacity, or Service Auto Scaling between a range."""
    if "count" not in m:
        if t.ctx.env is not None and t.ctx.env.production:
            t.entry["desired_count"] = HA_MIN_TASKS  # Copilot's default is 1 task
        return
    value = m["count"]
    if isinstance(value, int) and not isinstance(value, bool):
        wanted = max(value, 1)
        t.entry["desired_count"] = _ha(wanted, t)
        note = f"{t.at('desired_count')}" + _ha_note(wanted, t.entry["desired_count"], t)
        if value < 1:
            rec.approximated("count", f"{note}: 1 (a service runs at least one task here; stop it by deleting it from the spec)")
        else:
            rec.add("count", "mapped" if wanted == t.entry["desired_count"] else "approximated", note)
        return
    if not isinstance(value, Mapping):
        rec.not_mapped("count", "not a number or a mapping; allowed: count: 2, or {range: 1-10, cpu_percentage: 70}")
        return
    if "spot" in value:
        spot = value["spot"]
        t.entry["desired_count"] = _ha(max(int(spot), 1), t)
        t.entry["capacity"] = [{"provider": "FARGATE_SPOT"}]
        rec.add(
            "count.spot",
            "mapped" if t.entry["desired_count"] == spot else "approximated",
            f"{t.at('desired_count')} with {t.at('capacity')}: [FARGATE_SPOT]" + _ha_note(int(spot), t.entry["desired_count"], t),
        )
    if "range" in value:
        _service_range(value, t, rec)
    for key in ("cooldown",):
        if key in value:
            rec.not_mapped(f"count.{key}", "Service Auto Scaling's target tracking uses the platform's cooldowns")


def _service_range(value: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    bounds = _range(value["range"])
    if bounds is None:
        rec.not_mapped("count.range", f"{value['range']!r}; allowed: 'min-max' or {{min: n, max: m}}")
        return
    low, high, spot_from = bounds
    low_ha = _ha(max(low, 1), t)
    scaling: dict[str, Any] = {"min_count": low_ha, "max_count": max(high, low_ha)}
    t.entry["scaling"] = scaling
    t.entry["desired_count"] = low_ha
    note = f"{t.at('scaling')} min_count/max_count {low_ha}..{scaling['max_count']}, desired_count {low_ha}" + _ha_note(
        max(low, 1), low_ha, t
    )
    rec.add(
        "count.range" if not isinstance(value["range"], Mapping) else "count.range.min", "mapped" if low == low_ha else "approximated", note
    )
    if isinstance(value["range"], Mapping):
        rec.mapped("count.range.max", t.at("scaling.max_count"))
    if spot_from is not None:
        base = max(spot_from - 1, 0)
        t.entry["capacity"] = [{"provider": "FARGATE", "base": base, "weight": 0}, {"provider": "FARGATE_SPOT", "weight": 1}]
        rec.approximated(
            "count.range.spot_from",
            f"{t.at('capacity')}: FARGATE base {base} weight 0, FARGATE_SPOT weight 1: the first "
            f"{base} tasks on Fargate, the rest on Spot (ECS places by base and weight: scaling in may leave a different mix)",
        )
    targets = {"cpu_percentage": "cpu_percent", "memory_percentage": "memory_percent", "requests": "requests_per_task"}
    found = False
    for key, spec_key in targets.items():
        if key not in value:
            continue
        number, cooldown = _target_value(value[key])
        if not isinstance(number, int) or (key == "requests" and "load_balancer" not in t.entry):
            why = "request-count scaling needs a load balancer" if key == "requests" else f"{number!r} is not a number"
            rec.not_mapped(f"count.{key}", why)
            continue
        found = True
        scaling[spec_key] = number if key == "requests" else min(max(number, 10), 95)
        extra = "; its cooldown: the platform's" if cooldown else ""
        if key != "requests" and scaling[spec_key] != number:
            rec.approximated(f"count.{key}", f"{t.at('scaling.' + spec_key)}: {scaling[spec_key]} (allowed 10..95){extra}")
        else:
            rec.add(f"count.{key}", "approximated" if cooldown else "mapped", t.at(f"scaling.{spec_key}") + extra)
    if "cpu_percentage" not in value and found:
        scaling["cpu_percent"] = None  # Copilot tracks only the targets given
    if "response_time" in value:
        rec.approximated(
            "count.response_time",
            "not a target here: the service scales on CPU, memory and requests per task; "
            "use requests (scaling.requests_per_task) for load that response time followed",
        )
    if not found:
        rec.add(
            "count.range" if not isinstance(value["range"], Mapping) else "count.range.max",
            "approximated",
            f"{t.at('scaling')}: no target given: tracks CPU at 60 % (the platform's default)",
        )


def worker_count(m: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    """A worker's ``count``: its task range, scaled on the queue's backlog per task (queue_delay)."""
    if "count" not in m:
        return
    value = m["count"]
    if isinstance(value, int) and not isinstance(value, bool):
        _worker_range(value, value, t)
        rec.mapped("count", f"{t.at('min_count')} and max_count {t.entry['min_count']}..{t.entry['max_count']}")
        return
    if not isinstance(value, Mapping):
        rec.not_mapped("count", "not a number or a mapping; allowed: count: 2, or {range: 1-10, queue_delay: ...}")
        return
    if "spot" in value:
        _worker_range(int(value["spot"]), int(value["spot"]), t)
        t.entry["capacity"] = [{"provider": "FARGATE_SPOT"}]
        rec.mapped("count.spot", f"{t.at('min_count')}/max_count {value['spot']} on {t.at('capacity')}: [FARGATE_SPOT]")
    if "range" in value:
        bounds = _range(value["range"])
        if bounds is None:
            rec.not_mapped("count.range", f"{value['range']!r}; allowed: 'min-max' or {{min: n, max: m}}")
        else:
            low, high, spot_from = bounds
            _worker_range(low, high, t)
            field = "count.range" if not isinstance(value["range"], Mapping) else "count.range.min"
            rec.mapped(
                field,
                f"{t.at('min_count')}..max_count {t.entry['min_count']}..{t.entry['max_count']}"
                + (" (scale_to_zero: true)" if t.entry.get("scale_to_zero") else ""),
            )
            if isinstance(value["range"], Mapping):
                rec.mapped("count.range.max", t.at("max_count"))
            if spot_from is not None:
                base = max(spot_from - 1, 0)
                t.entry["capacity"] = [{"provider": "FARGATE", "base": base, "weight": 0}, {"provider": "FARGATE_SPOT", "weight": 1}]
                rec.approximated("count.range.spot_from", f"{t.at('capacity')}: FARGATE base {base} weight 0, FARGATE_SPOT weight 1")
    if "queue_delay" in value:
        _queue_delay(value["queue_delay"], t, rec)
    for key in ("cpu_percentage", "memory_percentage"):
        if key in value:
            rec.approximated(
                f"count.{key}", f"a worker scales on its queue's backlog per task here (backlog_per_task), not on {key.split('_')[0]}"
            )
    if "cooldown" in value:
        rec.not_mapped("count.cooldown", "the backlog scaling uses the platform's cooldowns")


def _worker_range(low: int, high: int, t: Target) -> None:
    t.entry["min_count"], t.entry["max_count"] = max(low, 0), max(high, 1)
    if low <= 0:
        t.entry["scale_to_zero"] = True


def _queue_delay(value: Any, t: Target, rec: Recorder) -> None:
    if not isinstance(value, Mapping):
        rec.not_mapped("count.queue_delay", "not a mapping; allowed: {acceptable_latency: 10m, msg_processing_time: 250ms}")
        return
    latency, processing = duration_seconds(value.get("acceptable_latency")), duration_seconds(value.get("msg_processing_time"))
    if not latency or not processing:
        rec.not_mapped("count.queue_delay", "needs acceptable_latency and msg_processing_time as durations")
        return
    backlog = max(1, math.floor(latency / processing))
    t.entry["backlog_per_task"] = backlog
    note = f"{t.at('backlog_per_task')}: {backlog} (acceptable_latency / msg_processing_time, as Copilot computes it)"
    for key in ("acceptable_latency", "msg_processing_time"):
        if key in value:
            rec.mapped(f"count.queue_delay.{key}", note)
    if "cooldown" in value:
        rec.not_mapped("count.queue_delay.cooldown", "the backlog scaling uses the platform's cooldowns")


def deployment(m: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    """``deployment``: rolling (default: 100/200 %; recreate: 0/100 %); rollback alarms are ECS's circuit breaker here."""
    value = m.get("deployment")
    if not isinstance(value, Mapping):
        return
    if "rolling" in value:
        rolling = str(value["rolling"])
        if rolling == "recreate" and t.has("deployment"):
            t.entry["deployment"] = {"strategy": "rolling", "min_healthy_percent": 0, "max_healthy_percent": 100}
            rec.mapped("deployment.rolling", f"{t.at('deployment')}: rolling with min_healthy_percent 0, max_healthy_percent 100")
        elif rolling == "recreate":
            rec.not_mapped("deployment.rolling", f"{t.kind} deploy rolling with 100/200 % here: new tasks start before old ones stop")
        elif rolling == "default":
            rec.mapped("deployment.rolling", "rolling, 100/200 % (the platform's default)")
        else:
            rec.not_mapped("deployment.rolling", f"{rolling!r}; allowed: default, recreate")
    if "rollback_alarms" in value:
        rec.not_mapped(
            "deployment.rollback_alarms",
            "no alarm-based rollback here: ECS's deployment circuit breaker (on for every "
            "service) rolls back a deployment whose tasks fail to start or stay healthy; the platform's alarms notify",
        )
