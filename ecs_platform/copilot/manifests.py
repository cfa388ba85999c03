"""Finding and reading a Copilot workspace: its application name, workload and environment manifests.

A workspace is the folder holding ``copilot/`` (or ``copilot/`` itself): ``copilot/.workspace`` names the
application, ``copilot/<name>/manifest.yml`` are the workloads and ``copilot/environments/<env>/manifest.yml``
the environments. Anything else under ``copilot/`` that carries configuration (addons, pipelines) is listed so
the report can say it is not imported. Reading refuses what cannot be imported with :class:`CopilotImportError`
naming the file: a missing ``copilot/`` folder, malformed YAML (with its line), a manifest without ``type`` or of
a type Copilot does not have.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ecs_platform.copilot.report import CopilotImportError

WEB = "Load Balanced Web Service"
BACKEND = "Backend Service"
WORKER = "Worker Service"
JOB = "Scheduled Job"
REQUEST_DRIVEN = "Request-Driven Web Service"
STATIC_SITE = "Static Site"
ENVIRONMENT = "Environment"
#: Workload types Copilot has, in its documentation's order.
WORKLOAD_TYPES = (WEB, BACKEND, WORKER, JOB, REQUEST_DRIVEN, STATIC_SITE)
#: Workload types that are not ECS workloads: reported, not imported.
NOT_ECS = {
    REQUEST_DRIVEN: "an AWS App Runner service, not an ECS one: the platform runs ECS on Fargate; "
    "import it as a Load Balanced Web Service (change its type) or keep it on App Runner",
    STATIC_SITE: "an S3 bucket behind CloudFront, not an ECS workload: keep it where it is "
    "or serve the files from a web service's container",
}


@dataclass(frozen=True)
class Manifest:
    """One manifest: its path relative to the workspace, the folder name it was found under, its type and data."""

    path: str
    name: str
    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Workspace:
    """A Copilot workspace as read from disk."""

    root: Path
    application: str | None
    workloads: list[Manifest]
    environments: list[Manifest]
    others: list[str] = field(default_factory=list)
    """Files under copilot/ that configure something the importer does not read (addons, pipelines, ...)."""


def copilot_folder(directory: Path) -> Path:
    """The ``copilot/`` folder of ``directory`` (the workspace or the folder itself), or CopilotImportError."""
    if (directory / "copilot").is_dir():
        return directory / "copilot"
    if directory.name == "copilot" and directory.is_dir():
        return directory
    raise CopilotImportError(
        f"{directory}: no copilot/ folder there; allowed: a Copilot workspace (the folder holding copilot/) or its copilot/ folder"
    )


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2's booleans (true/false only), as Copilot (go-yaml v3) reads manifests: a Scheduled
    Job's ``on:`` is a key, not the boolean True."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def read_yaml(path: Path, root: Path) -> Any:
    """The YAML document of ``path``; CopilotImportError with the file and line when it is not YAML."""
    relative = path.relative_to(root).as_posix()
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader)  # noqa: S506  # a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise CopilotImportError(f"{relative}{where}: malformed YAML: {problem}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CopilotImportError(f"{relative}: cannot be read: {error}") from None


def _manifest(path: Path, root: Path, allowed: tuple[str, ...]) -> Manifest:
    relative = path.relative_to(root).as_posix()
    data = read_yaml(path, root)
    if not isinstance(data, Mapping):
        raise CopilotImportError(f"{relative}: the manifest is not a mapping; allowed: a mapping with name and type")
    kind = data.get("type")
    if kind is None:
        raise CopilotImportError(f"{relative}: the manifest has no type; allowed: {', '.join(allowed)}")
    if kind not in allowed:
        raise CopilotImportError(f"{relative}: type {kind!r} is not a Copilot manifest type here; allowed: {', '.join(allowed)}")
    return Manifest(relative, path.parent.name, str(kind), dict(data))


def read_workspace(directory: Path) -> Workspace:
    """Every manifest of the workspace at ``directory``, workloads and environments in name order."""
    folder = copilot_folder(directory)
    root = folder.parent
    application = None
    marker = folder / ".workspace"
    if marker.is_file():
        content = read_yaml(marker, root)
        if isinstance(content, Mapping) and content.get("application"):
            application = str(content["application"])
    workloads, environments, others = [], [], []
    for child in sorted(p for p in folder.iterdir() if p.is_dir()):
        if child.name == "environments":
            for env in sorted(p for p in child.iterdir() if p.is_dir()):
                if (env / "manifest.yml").is_file():
                    environments.append(_manifest(env / "manifest.yml", root, (ENVIRONMENT,)))
                elif env.name == "addons":
                    others += _files(env, root)
        elif (child / "manifest.yml").is_file():
            workloads.append(_manifest(child / "manifest.yml", root, WORKLOAD_TYPES))
            if (child / "addons").is_dir():
                others += _files(child / "addons", root)
            if (child / "overrides").is_dir():
                others += _files(child / "overrides", root)
        elif child.name in ("pipelines", "addons"):
            others += _files(child, root)
    others += [p.relative_to(root).as_posix() for p in sorted(folder.glob("*.yml"))]
    return Workspace(root, application, workloads, environments, others)


def _files(folder: Path, root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in sorted(folder.rglob("*")) if p.is_file()]


def with_environment(data: Mapping[str, Any], environment: str | None, application: str | None) -> dict[str, Any]:
    """A workload manifest as Copilot deploys it to ``environment``: its ``environments.<env>`` values applied over
    the rest (mappings merged key by key, anything else replaced; ``image.location`` and ``image.build`` exclude
    each other) and Copilot's ``${COPILOT_APPLICATION_NAME}`` and ``${COPILOT_ENVIRONMENT_NAME}`` filled in, without
    the ``environments`` section. ``environment`` None: the values shared by every environment."""
    base = {k: copy.deepcopy(v) for k, v in data.items() if k != "environments"}
    overrides = (data.get("environments") or {}).get(environment) if environment is not None else None
    merged = _merge(base, overrides) if isinstance(overrides, Mapping) else base
    names = {"COPILOT_APPLICATION_NAME": application, "COPILOT_ENVIRONMENT_NAME": environment}
    result: dict[str, Any] = substitute(merged, {k: v for k, v in names.items() if v is not None})
    return result


def substitute(value: Any, names: Mapping[str, str]) -> Any:
    """``value`` with each ``${NAME}`` of ``names`` replaced in its strings (Copilot interpolates its manifests)."""
    if isinstance(value, str):
        for name, text in names.items():
            value = value.replace(f"${{{name}}}", text)
        return value
    if isinstance(value, Mapping):
        return {k: substitute(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, names) for v in value]
    return value


_EXCLUSIVE = {"location": "build", "build": "location"}


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = copy.deepcopy(value)
        if key in _EXCLUSIVE and value is not None:
            merged.pop(_EXCLUSIVE[key], None)
    return merged
