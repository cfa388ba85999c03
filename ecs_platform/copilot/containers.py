"""Container families: the image (location or build, port, labels, dependencies, health check), the command,
``variables``, ``secrets`` and ``sidecars``. Each function maps one family of a manifest into a container of the
spec and records every field it reads."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from ecs_platform.copilot.report import Recorder
from ecs_platform.copilot.target import Target
from ecs_platform.copilot.values import port_and_protocol, spec_name, whole_seconds, words
from ecs_platform.integrations import parse_secret_value_from
from ecs_platform.spec.models import SECRET_LOOKING

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
CONDITIONS = {"start": "START", "healthy": "HEALTHY", "complete": "COMPLETE", "success": "SUCCESS"}
FROM_CFN = (
    "a CloudFormation export (from_cfn): the platform reads no exports; write the value itself, or for a resource of a "
    "Copilot addon, the resource the platform owns (storage:) or its ARN"
)


def _relative(path: Path, start: Path) -> str:
    text = PurePosixPath(os.path.relpath(path, start).replace(os.sep, "/")).as_posix()
    return text if text.startswith(".") else f"./{text}"


def build_image(value: Any, t: Target, rec: Recorder, field_path: str) -> dict[str, Any]:
    """``image.build`` (a Dockerfile path, or {context, dockerfile, args, target, cache_from}, relative to the
    workspace root) as the spec's {build, dockerfile, ...}, relative to the spec file."""
    root, spec_dir = t.ctx.root, t.ctx.spec_dir
    if isinstance(value, Mapping):
        dockerfile = value.get("dockerfile")
        context = value.get("context") or (str(PurePosixPath(str(dockerfile)).parent) if dockerfile else ".")
        image: dict[str, Any] = {"build": _relative(root / context, spec_dir)}
        if dockerfile:
            inside = os.path.relpath(root / str(dockerfile), root / str(context)).replace(os.sep, "/")
            if inside != "Dockerfile":
                image["dockerfile"] = inside
        if value.get("target"):
            image["target"] = str(value["target"])
        if value.get("args"):
            image["build_args"] = {str(k): str(v) for k, v in value["args"].items()}
        if "cache_from" in value:
            rec.not_mapped(f"{field_path}.cache_from", "the CDK CLI builds without --cache-from; the build still works, uncached")
        for key in ("context", "dockerfile", "target", "args"):
            if key in value:
                rec.mapped(f"{field_path}.{key}", t.at(f"containers[{t.main['name']}].image") + f" {image}")
        return image
    dockerfile = PurePosixPath(str(value))
    image = {"build": _relative(root / str(dockerfile.parent), spec_dir)}
    if dockerfile.name != "Dockerfile":
        image["dockerfile"] = dockerfile.name
    rec.mapped(field_path, f"{t.at('containers[' + t.main['name'] + '].image')} {image} (relative to the spec file)")
    return image


def image(m: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    """``image``: location or build, port, credentials, labels, depends_on and healthcheck of the main container."""
    spec = m.get("image")
    if not isinstance(spec, Mapping):
        if spec is not None:
            rec.not_mapped("image", "not a mapping; allowed: image: {location: ...} or image: {build: ...}")
        return
    container(spec, t.main, t, rec, "image")


def _port(value: Any, target: dict[str, Any], rec: Recorder, field: str, at: str) -> None:
    """A Copilot port (``8080`` or ``8080/udp``) as the container's port and protocol."""
    port, protocol = port_and_protocol(value)
    if port is None:
        rec.not_mapped(field, f"{value!r} is not a port; allowed: 8080 or 8080/udp")
        return
    target["port"] = port
    if protocol != "tcp":
        target["protocol"] = protocol
    rec.mapped(field, at)


def container(spec: Mapping[str, Any], target: dict[str, Any], t: Target, rec: Recorder, prefix: str) -> None:
    """The image-config fields shared by the main container (``image.*``) and a sidecar (``sidecars.<name>.image.*``)."""
    where = f"containers[{target['name']}]"
    if "location" in spec:
        target["image"] = str(spec["location"])
        rec.mapped(f"{prefix}.location", t.at(f"{where}.image"))
    if "build" in spec:
        target["image"] = build_image(spec["build"], t, rec, f"{prefix}.build")
    if "port" in spec:
        _port(spec["port"], target, rec, f"{prefix}.port", t.at(f"{where}.port"))
    if "credentials" in spec:
        rec.not_mapped(
            f"{prefix}.credentials",
            "private registry credentials: the platform pulls from ECR; copy the image to an ECR repository "
            "(images: repositories) or use a pull-through cache (images.pull_through_cache)",
        )
    if "labels" in spec:
        target["docker_labels"] = {str(k): str(v) for k, v in (spec["labels"] or {}).items()}
        rec.mapped(f"{prefix}.labels", t.at(f"{where}.docker_labels"))
    if "depends_on" in spec:
        depends_on(spec["depends_on"], target, t, rec, f"{prefix}.depends_on")
    if "healthcheck" in spec:
        health_check(spec["healthcheck"], target, t, rec, f"{prefix}.healthcheck")


def depends_on(value: Any, target: dict[str, Any], t: Target, rec: Recorder, field_path: str) -> None:
    if not isinstance(value, Mapping):
        rec.not_mapped(field_path, "not a mapping; allowed: {container: start|healthy|complete|success}")
        return
    result, bad = {}, []
    for name, condition in value.items():
        wanted = CONDITIONS.get(str(condition).lower())
        if wanted is None:
            bad.append(f"{name}: {condition}")
        else:
            result[spec_name(str(name))] = wanted
    target["depends_on"] = result
    if bad:
        rec.approximated(
            field_path,
            f"{t.at('containers[' + target['name'] + '].depends_on')}; dropped {', '.join(bad)} "
            "(allowed conditions: start, healthy, complete, success)",
        )
    else:
        rec.mapped(field_path, t.at(f"containers[{target['name']}].depends_on") + " (conditions upper-cased)")


#: Copilot's container health check defaults, written out: ECS's own (30 s, 3 retries) differ.
HEALTH_DEFAULTS = {"interval": 10, "retries": 2, "timeout": 5, "start_period": 0}
_HEALTH_FIELDS = {
    "interval": ("interval_seconds", 5, 300),
    "retries": ("retries", 1, 10),
    "timeout": ("timeout_seconds", 2, 60),
    "start_period": ("start_period_seconds", 0, 300),
}


def health_check(value: Any, target: dict[str, Any], t: Target, rec: Recorder, field_path: str) -> None:
    """A container health check; the intervals Copilot defaults to are written out so they do not change."""
    where = t.at(f"containers[{target['name']}].health_check")
    if not isinstance(value, Mapping) or not value.get("command"):
        rec.not_mapped(field_path, "no command; allowed: {command: [CMD-SHELL, ...], interval, retries, timeout, start_period}")
        return
    check: dict[str, Any] = {"command": words(value["command"])}
    rec.mapped(f"{field_path}.command", f"{where}.command")
    for key, (spec_key, low, high) in _HEALTH_FIELDS.items():
        raw = value.get(key, HEALTH_DEFAULTS[key])
        number = raw if key == "retries" and isinstance(raw, int) else whole_seconds(raw)
        if number is None:
            if key in value:
                rec.not_mapped(f"{field_path}.{key}", f"{raw!r} is not a duration; allowed: e.g. 10s")
            continue
        clamped = min(max(number, low), high)
        check[spec_key] = clamped
        if key not in value:
            continue
        if clamped != number:
            rec.approximated(f"{field_path}.{key}", f"{where}.{spec_key}: {clamped} ({number} is outside ECS's {low}..{high})")
        else:
            rec.mapped(f"{field_path}.{key}", f"{where}.{spec_key}")
    target["health_check"] = check


def command(m: Mapping[str, Any], target: dict[str, Any], t: Target, rec: Recorder, prefix: str = "") -> None:
    """``entrypoint`` and ``command`` (a string split as a shell would, or a list)."""
    for key in ("entrypoint", "command"):
        if key in m and m[key] is not None:
            target[key] = words(m[key])
            rec.mapped(f"{prefix}{key}", t.at(f"containers[{target['name']}].{key}"))


def variables(value: Any, target: dict[str, Any], t: Target, rec: Recorder, field_path: str) -> None:
    """``variables``: plain environment variables; secret-looking names and exports are not mapped, with why."""
    if not isinstance(value, Mapping):
        rec.not_mapped(field_path, "not a mapping; allowed: NAME: value")
        return
    env = target.setdefault("environment", {})
    where = t.at(f"containers[{target['name']}].environment")
    for name, raw in value.items():
        path = f"{field_path}.{name}"
        if isinstance(raw, Mapping):
            rec.not_mapped(path, FROM_CFN if "from_cfn" in raw else "not a plain value; allowed: NAME: value")
        elif not ENV_NAME.fullmatch(str(name)):
            rec.not_mapped(path, f"{name!r} is not a name ECS accepts; allowed: a letter or '_' followed by letters, digits and '_'")
        elif SECRET_LOOKING.search(str(name)):
            rec.not_mapped(
                path,
                f"{name} looks like a secret, and the spec refuses it among plain variables (SEC-4): store the value in SSM "
                f"Parameter Store or Secrets Manager and list it under secrets: ({name}: {{ssm_parameter: /path/{name}}})",
            )
        else:
            env[str(name)] = "" if raw is None else (str(raw).lower() if isinstance(raw, bool) else str(raw))
            rec.mapped(path, f"{where}.{name}")
    if not env:
        target.pop("environment")


def secrets(value: Any, target: dict[str, Any], t: Target, rec: Recorder, field_path: str) -> None:
    """``secrets``: SSM parameter names and ARNs, Secrets Manager ARNs; names of Secrets Manager secrets and exports
    are not mapped (the spec needs the secret's full ARN)."""
    if not isinstance(value, Mapping):
        rec.not_mapped(field_path, "not a mapping; allowed: NAME: parameter-name")
        return
    found = target.setdefault("secrets", {})
    where = t.at(f"containers[{target['name']}].secrets")
    for name, raw in value.items():
        path = f"{field_path}.{name}"
        if not ENV_NAME.fullmatch(str(name)):
            rec.not_mapped(path, f"{name!r} is not a name ECS accepts; allowed: a letter or '_' followed by letters, digits and '_'")
            continue
        source, problem = _secret_source(raw)
        if source is None:
            rec.not_mapped(path, problem)
        else:
            found[str(name)] = source
            rec.mapped(path, f"{where}.{name}: {source}" + (f" ({problem})" if problem else ""))
    if not found:
        target.pop("secrets")


def _secret_source(raw: Any) -> tuple[dict[str, str] | None, str]:
    if isinstance(raw, Mapping) and "from_cfn" in raw:
        return None, FROM_CFN
    if isinstance(raw, Mapping) and "secretsmanager" in raw:
        value = str(raw["secretsmanager"])
        if value.startswith("arn:"):
            parsed = parse_secret_value_from(value)
            if isinstance(parsed, str):
                return None, parsed
            return {"secrets_manager": value}, ""
        name, _, rest = value.partition(":")
        return None, (
            f"Secrets Manager secret {name!r} is named, and the spec takes the secret's full ARN (with its 6-character "
            f"suffix, which Copilot looked up at deploy): write {{secrets_manager: arn:aws:secretsmanager:<region>:<account>:"
            f"secret:{name}-AbCdEf{':' + rest if rest else ''}}} (aws secretsmanager describe-secret --secret-id {name} prints it)"
        )
    if isinstance(raw, str) and raw:
        if raw.startswith("arn:") and ":secretsmanager:" in raw:
            parsed = parse_secret_value_from(raw)
            return (None, parsed) if isinstance(parsed, str) else ({"secrets_manager": raw}, "")
        if raw.startswith("arn:") and ":ssm:" in raw:
            return {"ssm_parameter": raw}, ""
        return {"ssm_parameter": raw}, "an SSM parameter name"
    return None, "not a parameter name, an ARN or {secretsmanager: ...}; allowed: one of them"


def sidecars(m: Mapping[str, Any], t: Target, rec: Recorder) -> dict[str, str]:
    """``sidecars``: each one more container of the task (essential unless it says otherwise, as in Copilot).
    Returns Copilot's sidecar names -> the containers' names, for the families that refer to them."""
    names: dict[str, str] = {}
    value = m.get("sidecars")
    if not isinstance(value, Mapping):
        if value is not None:
            rec.not_mapped("sidecars", "not a mapping; allowed: {name: {image: ..., port: ...}}")
        return names
    taken = {c["name"] for c in t.containers}
    for original, spec in value.items():
        prefix = f"sidecars.{original}"
        name = spec_name(str(original))
        while name in taken:
            name = spec_name(f"{name}-sidecar")
        taken.add(name)
        names[str(original)] = name
        if not isinstance(spec, Mapping):
            rec.not_mapped(prefix, "not a mapping; allowed: {image: ..., port: ...}")
            continue
        sidecar: dict[str, Any] = {"name": name}
        t.containers.append(sidecar)
        _sidecar(spec, sidecar, t, rec, prefix, renamed=name != original)
    return names


def _sidecar(spec: Mapping[str, Any], sidecar: dict[str, Any], t: Target, rec: Recorder, prefix: str, *, renamed: bool) -> None:
    where = t.at(f"containers[{sidecar['name']}]")
    image_value = spec.get("image")
    if isinstance(image_value, Mapping):
        container(image_value, sidecar, t, rec, f"{prefix}.image")
    elif image_value is not None:
        sidecar["image"] = str(image_value)
        rec.add(
            f"{prefix}.image",
            "approximated" if renamed else "mapped",
            f"{where}.image" + (f" (the container is named {sidecar['name']}: names are lowercase here)" if renamed else ""),
        )
    if "port" in spec:
        _port(spec["port"], sidecar, rec, f"{prefix}.port", f"{where}.port")
    if "essential" in spec:
        sidecar["essential"] = bool(spec["essential"])
        rec.mapped(f"{prefix}.essential", f"{where}.essential")
    if "credentialsParameter" in spec:
        rec.not_mapped(
            f"{prefix}.credentialsParameter", "private registry credentials: copy the image to ECR or use images.pull_through_cache"
        )
    if "variables" in spec:
        variables(spec["variables"], sidecar, t, rec, f"{prefix}.variables")
    if "secrets" in spec:
        secrets(spec["secrets"], sidecar, t, rec, f"{prefix}.secrets")
    if "env_file" in spec:
        rec.not_mapped(f"{prefix}.env_file", ENV_FILE)
    if "labels" in spec:
        sidecar["docker_labels"] = {str(k): str(v) for k, v in (spec["labels"] or {}).items()}
        rec.mapped(f"{prefix}.labels", f"{where}.docker_labels")
    if "depends_on" in spec:
        depends_on(spec["depends_on"], sidecar, t, rec, f"{prefix}.depends_on")
    if "healthcheck" in spec:
        health_check(spec["healthcheck"], sidecar, t, rec, f"{prefix}.healthcheck")
    command(spec, sidecar, t, rec, f"{prefix}.")


ENV_FILE = "an environment file (env_file): the spec has none; write its variables under variables: (secrets under secrets:)"
