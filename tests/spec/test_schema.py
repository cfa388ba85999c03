"""The exported JSON Schema (specs/spec.schema.json) stays in sync with the models.

No JSON Schema validator is installed, so besides the drift check these tests assert the
structural facts an editor relies on (closed objects, the same keys and required keys as
the models) and walk the default spec through the schema with a small subset validator.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from ecs_platform.spec import access, models, storage, workload_options
from ecs_platform.spec.schema import SCHEMA_DIALECT, main, render, spec_json_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "specs" / "spec.schema.json"
DEFAULT_SPEC = ROOT / "specs" / "default.yaml"
REGENERATE = "regenerate it with `make schema` (python -m ecs_platform.spec.schema specs/spec.schema.json)"

#: Every model of the spec, by the name pydantic gives its schema definition.
MODELS: dict[str, type[BaseModel]] = {
    **{
        name: value
        for module in (models, storage, workload_options)
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
        and not name.startswith("_")
        and name != "AlbSpec"  # a base of LoadBalancerSpec and SharedLoadBalancerSpec, never a field's type
        and name != "Spec"  # one environment's spec: the file's root is SpecFile (environment or environments)
    },
    **{model.__name__: model for model in access.ENTRY_MODELS.values()},
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return spec_json_schema()


def _object_definitions(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The root object and every ``$defs`` entry, by model name."""
    return {"SpecFile": schema, **schema["$defs"]}


# --- drift ---------------------------------------------------------------------------


def test_committed_schema_equals_the_models(schema: dict[str, Any]) -> None:
    assert SCHEMA_FILE.is_file(), f"{SCHEMA_FILE.relative_to(ROOT)} is missing; {REGENERATE}"
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == schema, f"{SCHEMA_FILE.relative_to(ROOT)} is stale; {REGENERATE}"


def test_committed_schema_text_is_the_stable_rendering(schema: dict[str, Any]) -> None:
    """Sorted keys, fixed indent and a trailing newline: regenerating gives no diff."""
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    assert text == render(schema), f"{SCHEMA_FILE.relative_to(ROOT)} is not formatted as generated; {REGENERATE}"
    assert text.endswith("}\n")


def test_default_spec_points_editors_at_the_schema() -> None:
    first_line = DEFAULT_SPEC.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first_line)
    assert match, first_line
    assert (DEFAULT_SPEC.parent / match.group(1)).resolve() == SCHEMA_FILE


# --- the module's command line ---------------------------------------------------------


def test_main_writes_the_schema_to_the_given_path(tmp_path: Path) -> None:
    target = tmp_path / "out" / "spec.schema.json"

    assert main(["schema", str(target)]) == 0

    assert target.read_text(encoding="utf-8") == render(spec_json_schema())


def test_main_defaults_to_specs_spec_schema_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["schema"]) == 0

    assert json.loads((tmp_path / "specs" / "spec.schema.json").read_text(encoding="utf-8")) == spec_json_schema()


# --- structural facts ------------------------------------------------------------------


def test_schema_declares_draft_2020_12_with_title_and_description(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == SCHEMA_DIALECT == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "ecs-platform spec"
    assert "make schema" in schema["description"]
    assert schema["type"] == "object"


def test_schema_defines_every_model(schema: dict[str, Any]) -> None:
    assert set(_object_definitions(schema)) == set(MODELS)


def test_every_object_definition_is_closed(schema: dict[str, Any]) -> None:
    """Unknown keys are rejected by the models, so the schema says so too (editors flag typos)."""
    open_objects = [name for name, definition in _object_definitions(schema).items() if definition.get("additionalProperties") is not False]
    assert open_objects == []


def test_every_object_with_properties_is_closed_wherever_it_appears(schema: dict[str, Any]) -> None:
    """Also inline objects: any node that lists ``properties`` forbids other keys."""
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if "properties" in node and node.get("additionalProperties") is not False:
                found.append(where)
            for key, child in node.items():
                walk(child, f"{where}/{key}")
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(child, f"{where}/{i}")

    walk(schema, "#")
    assert found == []


@pytest.mark.parametrize("name", sorted(MODELS))
def test_properties_and_required_keys_match_the_model(schema: dict[str, Any], name: str) -> None:
    model = MODELS[name]
    definition = _object_definitions(schema)[name]

    assert set(definition["properties"]) == set(model.model_fields)
    required = {field for field, info in model.model_fields.items() if info.is_required()}
    assert set(definition.get("required", [])) == required


def test_spec_requires_app_and_environment_and_zones(schema: dict[str, Any]) -> None:
    """The keys a spec can never omit: app, and one environment (its name and AZs, HA-2) or several."""
    assert sorted(schema["required"]) == ["app"]
    assert schema["oneOf"] == [{"required": ["environment"]}, {"required": ["environments"]}]
    assert sorted(schema["$defs"]["EnvironmentSpec"]["required"]) == ["availability_zones", "name"]
    # Exposure is explicit: an ALB of the service's own needs public and https; a shared one has them.
    assert schema["$defs"]["LoadBalancerSpec"]["anyOf"] == [{"required": ["shared"]}, {"required": ["public", "https"]}]


def test_limits_are_visible_to_editors(schema: dict[str, Any]) -> None:
    """LIM-2 (10 containers), LIM-3 (5,000 tasks per service, 10 tasks per RunTask); HA-3's two tasks are a check of
    production environments (a development one may run one), not a bound of the field."""
    defs = schema["$defs"]
    assert defs["ServiceSpec"]["properties"]["containers"]["maxItems"] == 10
    assert defs["JobSpec"]["properties"]["containers"]["maxItems"] == 10
    desired = defs["ServiceSpec"]["properties"]["desired_count"]
    assert (desired["minimum"], desired["maximum"]) == (1, 5000)
    (count, _none) = defs["JobSpec"]["properties"]["count"]["anyOf"]
    assert (count["minimum"], count["maximum"]) == (1, 10)


# --- the default spec against the schema ---------------------------------------------


def _validate(value: Any, node: dict[str, Any], root: dict[str, Any], path: str = "") -> list[str]:
    """A subset of JSON Schema 2020-12 (what pydantic emits for this spec): enough to walk a spec."""
    if "$ref" in node:
        node = root["$defs"][node["$ref"].removeprefix("#/$defs/")]
    if "anyOf" in node:
        branches = [_validate(value, branch, root, path) for branch in node["anyOf"]]
        return [] if any(not errors for errors in branches) else [f"{path}: matches no anyOf branch"]
    errors: list[str] = []
    if "oneOf" in node:
        matched = sum(not _validate(value, {"type": node.get("type"), **branch}, root, path) for branch in node["oneOf"])
        if matched != 1:
            errors.append(f"{path}: matches {matched} oneOf branches")
        if "properties" not in node:
            return errors
    kind = node.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{path}: {value!r} is not an integer"]
    elif kind in types and not isinstance(value, types[kind]):
        return [f"{path}: {value!r} is not {kind}"]
    if "const" in node and value != node["const"]:
        errors.append(f"{path}: {value!r} is not {node['const']!r}")
    if "enum" in node and value not in node["enum"]:
        errors.append(f"{path}: {value!r} not in {node['enum']}")
    if "pattern" in node and not re.search(node["pattern"], value):
        errors.append(f"{path}: {value!r} does not match {node['pattern']}")
    if "minimum" in node and value < node["minimum"]:
        errors.append(f"{path}: {value!r} < {node['minimum']}")
    if "maximum" in node and value > node["maximum"]:
        errors.append(f"{path}: {value!r} > {node['maximum']}")
    if kind == "array":
        if not node.get("minItems", 0) <= len(value) <= node.get("maxItems", len(value)):
            errors.append(f"{path}: {len(value)} items")
        for i, item in enumerate(value):
            errors += _validate(item, node.get("items", {}), root, f"{path}[{i}]")
    if kind == "object":
        properties = node.get("properties", {})
        errors += [f"{path}.{key}: required" for key in node.get("required", []) if key not in value]
        for key, item in value.items():
            if key in properties:
                errors += _validate(item, properties[key], root, f"{path}.{key}")
            elif node.get("additionalProperties") is False:
                errors.append(f"{path}.{key}: not allowed")
            elif isinstance(node.get("additionalProperties"), dict):
                errors += _validate(item, node["additionalProperties"], root, f"{path}.{key}")
    return errors


@pytest.mark.parametrize("spec_file", sorted((ROOT / "specs").glob("*.yaml")), ids=lambda p: p.name)
def test_example_specs_validate_against_the_committed_schema(spec_file: Path) -> None:
    """specs/default.yaml and every other example spec: what the editor checks, the schema accepts."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    data = yaml.safe_load(spec_file.read_text(encoding="utf-8"))

    assert _validate(data, schema, schema) == []


def test_schema_walk_rejects_an_unknown_key_and_a_missing_one() -> None:
    """Proves the walk above can fail: a typo and a missing required key are both caught."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    data = yaml.safe_load(DEFAULT_SPEC.read_text(encoding="utf-8"))
    data["services"][0]["cpuu"] = 256
    del data["environment"]["availability_zones"]

    assert _validate(data, schema, schema) == [
        ".environment: matches no anyOf branch",  # an EnvironmentSpec without availability_zones, and not null
        ".services[0].cpuu: not allowed",
    ]
