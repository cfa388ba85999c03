"""Several environments in one spec: ``environments:`` and what each changes of the shared settings.

A spec names either one ``environment:`` (as before) or a list ``environments:``. Everything else in
the file is shared; each environment may change any of it in its ``overrides:``, written like the spec
itself, except that a list of named entries (services, jobs, workers, load balancers, containers,
scheduled scaling) is written as a mapping from the entry's name to the fields that change::

    environments:
      - name: dev
        availability_zones: [ap-northeast-1a, ap-northeast-1c]
        overrides:
          services:
            api: {desired_count: 1, cpu: 256}      # only api's count and size change in dev

Any other value of an override replaces the shared one (a list is replaced whole). Each environment's
spec (the shared settings with its overrides) is then validated and checked on its own, exactly as a
spec with one ``environment:``; a problem is reported at the override that caused it
(``environments[2].overrides.services.api.desired_count``), or at the shared setting with the
environments it fails in.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ecs_platform.spec.models import EnvironmentEntry

Issue = tuple[str, str]

#: Shared by every environment: an override may not change them.
SHARED_ONLY = ("app", "environment", "environments", "delivery", "images")
#: The top-level lists of named entries, as an override writes them (a mapping by name).
NAMED_LISTS = ("services", "jobs", "workers", "load_balancers", "capacity_providers")

_ENTRIES: TypeAdapter[list[EnvironmentEntry]] = TypeAdapter(list[EnvironmentEntry])


@dataclass(frozen=True)
class EnvironmentDocument:
    """One environment's spec as plain data: the shared settings with its overrides."""

    index: int
    name: str
    data: dict[str, Any]
    overrides: Mapping[str, Any]


def _named(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, Mapping) and isinstance(i.get("name"), str) for i in value)


def merge(base: Any, override: Any, path: str, issues: list[Issue]) -> Any:
    """``override`` applied to ``base``: mappings key by key, named lists entry by entry (by name), anything else replaced."""
    if isinstance(override, Mapping) and _named(base):
        merged = copy.deepcopy(base)
        names = [item["name"] for item in base]
        for name, change in override.items():
            if name not in names:
                issues.append((f"{path}.{name}", f"{name!r} is not one of the shared entries; allowed: {', '.join(names)}"))
            else:
                merged[names.index(name)] = merge(merged[names.index(name)], change, f"{path}.{name}", issues)
        return merged
    if isinstance(override, Mapping) and isinstance(base, Mapping):
        merged = dict(base)
        for key, change in override.items():
            merged[key] = merge(base[key], change, f"{path}.{key}", issues) if key in base else copy.deepcopy(change)
        return merged
    return copy.deepcopy(override)


def documents(data: Mapping[str, Any]) -> tuple[list[EnvironmentDocument], list[Issue]]:
    """Each environment of ``data`` (a spec with ``environments:``) as the spec it deploys, or the problems of the list."""
    raw = data["environments"]
    try:
        entries = _ENTRIES.validate_python(raw)
    except ValidationError as error:
        return [], [(_entry_path(e["loc"]), e["msg"]) for e in error.errors()]
    issues: list[Issue] = []
    if "environment" in data:
        issues.append(("environment", "both environment and environments are given; allowed: one of them"))
    if not entries:
        issues.append(("environments", "the list is empty; allowed: at least one environment"))
    seen: dict[str, int] = {}
    shared = {key: value for key, value in data.items() if key != "environments"}
    if entries:
        shared = _homes(shared, entries[0])
    found = []
    for i, entry in enumerate(entries):
        if entry.name in seen:
            issues.append((f"environments[{i}].name", f"{entry.name!r} is also environments[{seen[entry.name]}]; allowed: unique names"))
        seen.setdefault(entry.name, i)
        path = f"environments[{i}].overrides"
        for key in entry.overrides:
            if key in SHARED_ONLY:
                issues.append((f"{path}.{key}", f"{key} is shared by every environment; allowed: set it at the top level"))
        for key in NAMED_LISTS:
            if isinstance(entry.overrides.get(key), Mapping) and not _named(shared.get(key)):
                issues.append((f"{path}.{key}", f"the spec has no shared {key} to change; allowed: {key} at the top level first"))
        changes = {k: v for k, v in entry.overrides.items() if k not in SHARED_ONLY}
        merged = merge(shared, changes, path, issues)
        merged["environment"] = entry.model_dump(exclude={"overrides"}, exclude_unset=True)
        found.append(EnvironmentDocument(i, entry.name, merged, entry.overrides))
    return found, issues


def _homes(shared: dict[str, Any], first: EnvironmentEntry) -> dict[str, Any]:
    """The shared settings with the images' and the pipeline's account and region defaulting to the first
    environment's: every environment's spec then names the same ones."""
    result = dict(shared)
    for key in ("images", "delivery"):
        value = result.get(key)
        if key == "images" and value is None:
            value = {}
        if isinstance(value, Mapping):
            home = {"region": first.region, **({"account": first.account} if first.account else {})}
            result[key] = {**home, **{k: v for k, v in value.items() if v is not None or k not in home}}
    return result


def _entry_path(loc: Sequence[int | str]) -> str:
    out = "environments"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


_TOKEN = re.compile(r"([A-Za-z_][\w-]*)|\[(\d+)\]")


def origin(path: str, document: EnvironmentDocument) -> str | None:
    """Where in the environment's ``overrides`` the value at ``path`` (of its merged spec) comes from, or None
    when it is the shared setting's."""
    node: Any = document.data
    change: Any = document.overrides
    out = f"environments[{document.index}].overrides"
    tokens = [(m[1], m[2]) for m in _TOKEN.finditer(path)]
    for n, (name, index) in enumerate(tokens):
        if isinstance(change, list):  # the override replaced the list whole: the rest is in it
            return out + "".join(f".{t}" if t else f"[{i}]" for t, i in tokens[n:])
        if not isinstance(change, Mapping):
            return None
        if name:
            if name not in change:
                return None
            node, change, out = (node.get(name) if isinstance(node, Mapping) else None), change[name], f"{out}.{name}"
            continue
        item = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        key = item.get("name") if isinstance(item, Mapping) else None
        if key not in change:
            return None
        node, change, out = item, change[key], f"{out}.{key}"
    return out
