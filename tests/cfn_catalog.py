"""Generator of ``ecs_platform/cfn_properties.json``: the property paths of the resource types a workload may override.

The overrides escape hatch (issue 15; ``ecs_platform.constructs.overrides``) refuses a property path the resource
type does not have and a value of the wrong type. It reads a compact catalog committed in the package because
cfn-lint, whose bundled CloudFormation resource provider schemas are the source, is only a dev dependency.
``python -m tests.cfn_catalog`` regenerates the file; ``tests/unit/test_overrides.py`` fails when it drifts from the
installed cfn-lint's schemas.

Each catalog entry is ``path -> {"type": ..., "enum": [...]}``: ``$ref``s to ``definitions`` are resolved, ``*``
stands for any item of a list (``type: array``) or any key of a map (``type: map``, JSON ``patternProperties`` or
``additionalProperties``), and read-only properties (attributes such as ``TaskDefinitionArn``) are left out as
CloudFormation refuses them in a template. ``open: true`` marks an object whose keys the schema does not list.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

#: The resource types workloads may override: the task definition, the service and the target group of a route.
RESOURCE_TYPES = ("AWS::ECS::Service", "AWS::ECS::TaskDefinition", "AWS::ElasticLoadBalancingV2::TargetGroup")
#: Schemas of one region; the properties of these types are the same in every commercial region.
REGION = "us-east-1"
CATALOG = Path(__file__).resolve().parent.parent / "ecs_platform" / "cfn_properties.json"

Schema = Mapping[str, Any]


def schema_dir() -> Path:
    """``cfnlint/data/schemas`` of the installed cfn-lint (ImportError when it is not installed)."""
    import cfnlint

    return Path(cfnlint.__file__).resolve().parent / "data" / "schemas"


def provider_schema(resource_type: str, region: str = REGION) -> Schema:
    """The resource provider schema cfn-lint bundles for ``resource_type`` (its bundled copy, never its download cache,
    so the drift test does not depend on what ``cfn-lint --update-specs`` fetched)."""
    root = schema_dir()
    index = root / "providers" / f"{region}.json"
    if index.exists():  # cfn-lint >= 1.4x: one index per region naming a shared, content-addressed file
        digest = json.loads(index.read_text(encoding="utf-8"))[resource_type]
        return dict(json.loads((root / "resources" / f"{digest}.json").read_text(encoding="utf-8")))
    # older cfn-lint 1.x: one directory per region, one file per type
    name = resource_type.lower().replace("::", "-") + ".json"
    return dict(json.loads((root / "providers" / region.replace("-", "_") / name).read_text(encoding="utf-8")))


def schema_date() -> str:
    version = schema_dir() / "version.json"
    return str(json.loads(version.read_text(encoding="utf-8")).get("schema_date", "")) if version.exists() else ""


def _resolve(node: Schema, definitions: Schema, seen: tuple[str, ...]) -> tuple[Schema, tuple[str, ...]]:
    """``node`` with its ``$ref`` (chain) replaced by the definition, sibling keywords kept."""
    while "$ref" in node:
        ref = str(node["$ref"])
        if not ref.startswith("#/definitions/"):
            raise ValueError(f"unsupported $ref {ref}")
        name = ref.removeprefix("#/definitions/")
        if name in seen:  # a recursive definition: stop here, the value is checked only as its type
            return {k: v for k, v in node.items() if k != "$ref"} or {"type": "object"}, seen
        seen = (*seen, name)
        node = {**definitions[name], **{k: v for k, v in node.items() if k != "$ref"}}
    return node, seen


def _types(node: Schema, definitions: Schema, seen: tuple[str, ...]) -> list[str]:
    declared = node.get("type")
    if isinstance(declared, str):
        types = [declared]
    elif isinstance(declared, list):
        types = [str(t) for t in declared]
    elif "properties" in node or "patternProperties" in node:
        types = ["object"]
    elif "items" in node:
        types = ["array"]
    else:  # anyOf/oneOf of typed branches, or no constraint at all
        types = []
        for branch in [*node.get("anyOf", []), *node.get("oneOf", [])]:
            resolved, _ = _resolve(branch, definitions, seen)
            types += [t for t in _types(resolved, definitions, seen) if t not in types]
    return sorted(set(types))


def _map_values(node: Schema) -> Schema | None:
    """The schema of a map's values: an object without named properties whose keys are free."""
    if node.get("properties"):
        return None
    patterns = node.get("patternProperties")
    if isinstance(patterns, Mapping) and patterns:
        values = list(patterns.values())
        return values[0] if len(values) == 1 else {}
    extra = node.get("additionalProperties")
    if isinstance(extra, Mapping):
        return extra
    return None


def _walk(node: Schema, path: str, definitions: Schema, seen: tuple[str, ...]) -> Iterator[tuple[str, dict[str, Any]]]:
    node, seen = _resolve(node, definitions, seen)
    types = _types(node, definitions, seen)
    values = _map_values(node) if "object" in types or not types else None
    entry: dict[str, Any] = {}
    if values is not None:
        types = sorted({*types, "map"} - {"object"})
    elif "object" in types and not node.get("properties"):
        entry["open"] = True
    if types:
        entry["type"] = types[0] if len(types) == 1 else types
    if "enum" in node:
        entry["enum"] = list(node["enum"])
    yield path, entry
    if values is not None:
        yield from _walk(values, f"{path}.*", definitions, seen)
    if "items" in node:
        yield from _walk(node["items"], f"{path}.*", definitions, seen)
    for name, child in node.get("properties", {}).items():
        yield from _walk(child, f"{path}.{name}", definitions, seen)


def properties_of(schema: Schema) -> dict[str, dict[str, Any]]:
    """Every settable property path of a resource provider schema, sorted."""
    read_only = [str(p).removeprefix("/properties/").replace("/", ".") for p in schema.get("readOnlyProperties", [])]
    definitions = schema.get("definitions", {})
    found: dict[str, dict[str, Any]] = {}
    for name, child in schema["properties"].items():
        for path, entry in _walk(child, name, definitions, ()):
            if not any(path == r or path.startswith(f"{r}.") for r in read_only):
                found[path] = entry
    return dict(sorted(found.items()))


def build() -> dict[str, Any]:
    """The catalog as the installed cfn-lint's schemas give it."""
    import cfnlint.version

    catalog: dict[str, Any] = {"_source": f"cfn-lint {cfnlint.version.__version__}, schemas of {REGION} dated {schema_date()}"}
    for resource_type in RESOURCE_TYPES:
        catalog[resource_type] = properties_of(provider_schema(resource_type))
    return catalog


def render(catalog: Mapping[str, Any]) -> str:
    """JSON with one property path a line, so a regenerated catalog diffs by path."""
    lines = ["{", f'  "_source": {json.dumps(catalog["_source"])},']
    types = [t for t in sorted(catalog) if t != "_source"]
    for i, resource_type in enumerate(types):
        paths = catalog[resource_type]
        lines.append(f"  {json.dumps(resource_type)}: {{")
        for j, (path, entry) in enumerate(sorted(paths.items())):
            comma = "," if j < len(paths) - 1 else ""
            lines.append(f"    {json.dumps(path)}: {json.dumps(entry, sort_keys=True, separators=(',', ':'))}{comma}")
        lines.append("  }" + ("," if i < len(types) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    CATALOG.write_text(render(build()), encoding="utf-8")
    print(f"wrote {CATALOG}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
