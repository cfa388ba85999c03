"""The spec reference (docs/spec-reference.md) stays in sync with the models and says what they say.

The models are walked here independently of the generator (through their annotations), and facts are
checked against independent sources where there are some: the JSON Schema pydantic generates (ranges), the
models' own error messages (the words of a pattern), and pydantic validation (every example is accepted).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

import ecs_platform.spec as spec_package
from ecs_platform.spec import access, models
from ecs_platform.spec.reference import DEFAULT_PATH, main, render
from ecs_platform.spec.schema import spec_json_schema

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "spec-reference.md"
REGENERATE = "regenerate it with `make docs` (python -m ecs_platform.spec.reference)"


def _walk_models(tp: Any, found: list[type[BaseModel]]) -> None:
    """Every model a type names, then the models their fields name (depth first, each once)."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if tp not in found:
            found.append(tp)
            for info in tp.model_fields.values():
                _walk_models(info.annotation, found)
        return
    for arg in get_args(tp):
        _walk_models(arg, found)


def _spec_models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    _walk_models(models.SpecFile, found)
    return found


MODELS = _spec_models()


@pytest.fixture(scope="module")
def text() -> str:
    return render()


def _sections(text: str) -> dict[str, str]:
    """Each ``## Heading`` and its text up to the next one."""
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {heading: body for heading, body in zip(parts[1::2], parts[2::2], strict=True)}


def _cells(line: str) -> list[str]:
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line)[1:-1]]


def _rows(text: str, model: type[BaseModel]) -> dict[str, dict[str, str]]:
    """The table of a model's section: field name -> column -> cell."""
    lines = [line for line in _sections(text)[model.__name__].splitlines() if line.startswith("|")]
    header = [cell.lower() for cell in _cells(lines[0])]
    rows = {}
    for line in lines[2:]:
        cells = dict(zip(header, _cells(line), strict=True))
        rows[cells["field"].strip("`")] = cells
    return rows


def _slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9_\- ]", "", heading.lower()).replace(" ", "-")


def _without_none(tp: Any) -> Any:
    members = [arg for arg in get_args(tp) if arg is not type(None)]
    return members[0] if type(None) in get_args(tp) and len(members) == 1 else tp


# --- drift -------------------------------------------------------------------------------


def test_committed_reference_equals_the_models(text: str) -> None:
    """docs/spec-reference.md is what the generator writes from today's models: a model change without
    regenerating the reference fails here."""
    assert REFERENCE.is_file(), f"{REFERENCE.relative_to(ROOT)} is missing; {REGENERATE}"
    assert REFERENCE.read_text(encoding="utf-8") == text, f"{REFERENCE.relative_to(ROOT)} is stale; {REGENERATE}"


def test_rendering_is_stable() -> None:
    """Two renderings are identical (no set or dict order, no object addresses): regenerating gives no diff."""
    assert render() == render()


# --- every model and field -----------------------------------------------------------------


def test_the_walk_finds_the_models_the_reference_needs() -> None:
    """Guards the independent walk itself: the root, nested models and the access entries are found."""
    assert MODELS[0] is models.SpecFile
    assert {models.ServiceSpec, models.ContainerSpec, models.ScheduledScalingSpec} <= set(MODELS)
    assert set(access.ENTRY_MODELS.values()) <= set(MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_of_every_model_has_a_row_in_model_order(text: str, model: type[BaseModel]) -> None:
    assert model.__name__ in _sections(text), f"no section for {model.__name__}"
    assert list(_rows(text, model)) == [info.alias or name for name, info in model.model_fields.items()]


def test_every_model_defined_in_the_spec_is_documented_or_a_base_of_one(text: str) -> None:
    """A new model (in any module of ecs_platform.spec, or a new access integration) shows up without touching the
    generator; a model that is never a field's type must at least be a base of a documented one (AlbSpec, Spec)."""
    documented = set(_sections(text))
    modules = [importlib.import_module(f"{spec_package.__name__}.{info.name}") for info in pkgutil.iter_modules(spec_package.__path__)]
    defined = [
        value
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == module.__name__ and not name.startswith("_")
    ] + list(access.ENTRY_MODELS.values())
    assert models.ServiceSpec in defined and len(defined) > len(access.ENTRY_MODELS) + 20
    missing = [
        model.__name__
        for model in defined
        if model.__name__ not in documented and not any(issubclass(other, model) for other in MODELS if other is not model)
    ]
    assert missing == []


def test_contents_list_every_section(text: str) -> None:
    contents = _sections(text)["Contents"]
    assert [heading for heading in _sections(text) if heading != "Contents"] == re.findall(r"^- \[(\w+)\]", contents, re.MULTILINE)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_required_fields_are_marked_and_only_they(text: str, model: type[BaseModel]) -> None:
    rows = _rows(text, model)
    marked = {name for name, row in rows.items() if row["default"] == "**required**"}
    assert marked == {info.alias or name for name, info in model.model_fields.items() if info.is_required()}


# --- types, allowed values, defaults -------------------------------------------------------------


def test_types_read_like_yaml(text: str) -> None:
    service = _rows(text, models.ServiceSpec)
    assert service["desired_count"]["type"] == "integer"
    assert service["tags"]["type"] == "map of string to string"
    assert service["containers"]["type"] == "list of [ContainerSpec](#containerspec)"
    assert service["access"]["type"].startswith("list of one of (by `type`): [")
    assert service["load_balancer"]["type"] == "[LoadBalancerSpec](#loadbalancerspec)"
    image = _rows(text, models.ContainerSpec)["image"]["type"]
    assert image == "one of: string | [BuildImageSpec](#buildimagespec) | [RepositoryImageSpec](#repositoryimagespec)"
    assert _rows(text, models.EnvironmentSpec)["production"]["type"] == "boolean"


def test_no_type_cell_uses_python_names(text: str) -> None:
    python_words = re.compile(r"\b(str|int|float|bool|dict|Optional|Union|Literal|Annotated|NoneType)\b|\[\w+\](?!\()")
    bad = {
        (model.__name__, name): row["type"]
        for model in MODELS
        for name, row in _rows(text, model).items()
        if python_words.search(re.sub(r"\[\w+\]\(#\w+\)", "", row["type"]))
    }
    assert bad == {}


def test_literal_choices_are_the_allowed_values(text: str) -> None:
    """Every Literal field (alone, optional or as list items) lists each of its choices."""
    checked = 0
    for model in MODELS:
        rows = _rows(text, model)
        for name, info in model.model_fields.items():
            tp = _without_none(info.annotation)
            if get_origin(tp) is list:
                tp = get_args(tp)[0]
            if get_origin(tp) is Literal:
                checked += 1
                for choice in get_args(tp):
                    assert f"`{choice}`" in rows[info.alias or name]["allowed values"], (model.__name__, name, choice)
    assert checked > 10
    assert _rows(text, models.DeploymentSpec)["strategy"]["allowed values"] == "`rolling`, `blue_green`, `linear`, `canary`"


def test_ranges_of_the_json_schema_are_the_allowed_values(text: str) -> None:
    """Every numeric bound pydantic exports (ge/le, _range, _rule) appears as low..high in the field's row."""
    definitions = {"SpecFile": spec_json_schema(), **spec_json_schema()["$defs"]}
    checked = 0
    for model in MODELS:
        rows = _rows(text, model)
        for name, prop in definitions[model.__name__]["properties"].items():
            for node in [prop, *prop.get("anyOf", [])]:
                if "minimum" in node and "maximum" in node:
                    checked += 1
                    assert f"{node['minimum']}..{node['maximum']}" in rows[name]["allowed values"], (model.__name__, name)
    assert checked > 30
    assert _rows(text, models.ServiceSpec)["desired_count"]["allowed values"].startswith("1..5000 (LIM-3")


def test_a_patterns_words_are_the_allowed_values(text: str) -> None:
    """The words a _pattern rule gives in its error message, not the regex, are what the reference shows."""
    with pytest.raises(ValidationError) as error:
        models.EnvironmentSpec.model_validate({"name": "dev", "availability_zones": ["ap-northeast-1a", "ap-northeast-1c"], "account": "x"})
    words = error.value.errors()[0]["msg"].split("allowed: ", 1)[1]
    assert words == "12 digits"
    assert _rows(text, models.EnvironmentSpec)["account"]["allowed values"] == words


def test_defaults_are_yaml_values_or_the_descriptions_words(text: str) -> None:
    service = _rows(text, models.ServiceSpec)
    assert service["desired_count"]["default"] == "`2`"
    assert service["subnets"]["default"] == "`web`"
    assert service["load_balancer"]["default"] == "none (an internal service, reachable through Service Connect only)"
    assert _rows(text, models.ContainerSpec)["writable_paths"]["default"] == "`[/tmp]`"
    assert _rows(text, models.EnvironmentSpec)["production"]["default"] == "`false`"


# --- examples --------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_example_is_accepted_by_its_field(text: str, model: type[BaseModel]) -> None:
    """Each example is one line of YAML, ``key: value``, and the field's own type accepts the value (strict)."""
    fields = {info.alias or name: info for name, info in model.model_fields.items()}
    for name, row in _rows(text, model).items():
        if not row["example"]:
            continue
        parsed = yaml.safe_load(row["example"].strip("`").strip())
        assert list(parsed) == [name]
        info = fields[name]
        tp: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        TypeAdapter(tp).validate_python(parsed[name], strict=True)


def test_examples_are_given_where_the_model_says_enough(text: str) -> None:
    """A default, a Literal choice, a range or an "e.g." of the description or of a rule's words each give one."""
    assert _rows(text, models.ServiceSpec)["desired_count"]["example"] == "`desired_count: 2`"
    assert _rows(text, models.CapacityProviderSpec)["type"]["example"] == "`type: asg`"
    assert _rows(text, models.ServiceConnectSpec)["namespace"]["example"] == "`namespace: shop.internal`"
    assert _rows(text, models.EnvironmentSpec)["region"]["example"] == "`region: ap-northeast-1`"
    assert _rows(text, models.ContainerSpec)["port"]["example"] == "`port: 1`"


class _Inner(BaseModel):
    """An inner model."""

    level: Literal["low", "high"]


class _Tiny(BaseModel):
    """A model of the test only: the generator knows nothing of it."""

    count: int = Field(default=3, ge=1, le=9, description="How many. Default: 3.")
    size: int = Field(examples=[42], ge=0, description="Given an example.")
    inner: _Inner | None = Field(default=None, description="Nested. Default: none.")
    labels: dict[str, str] = Field(default_factory=dict)


def test_any_model_renders_with_examples_links_ranges_and_required_keys() -> None:
    """The generator is generic: a model it has never seen gets its sections, links, ranges and examples."""
    text = render(_Tiny)

    rows = _rows(text, _Tiny)
    assert rows["count"] == {
        "field": "`count`",
        "type": "integer",
        "default": "`3`",
        "allowed values": "1..9",
        "description": "How many. Default: 3.",
        "example": "`count: 3`",
    }
    assert rows["size"]["default"] == "**required**"
    assert rows["size"]["example"] == "`size: 42`"
    assert rows["size"]["allowed values"] == "at least 0"
    assert rows["inner"]["type"] == "[_Inner](#_inner)"
    assert rows["inner"]["example"] == "`inner: {level: low}`"
    assert rows["labels"]["type"] == "map of string to string"
    assert _rows(text, _Inner)["level"]["allowed values"] == "`low`, `high`"


# --- Markdown hygiene --------------------------------------------------------------------------


def test_no_python_reprs_leak(text: str) -> None:
    for leak in ("<class", "typing.", "Annotated[", "Literal[", "NoneType", "FieldInfo", "<function", "PydanticUndefined", "object at 0x"):
        assert leak not in text
    assert re.findall(r".{30}\bNone\b.{30}", text) == []


def test_links_resolve_to_headings_and_headings_are_unique(text: str) -> None:
    slugs = [_slug(heading) for heading in re.findall(r"^#+ (.+)$", text, re.MULTILINE)]
    assert len(slugs) == len(set(slugs))
    targets = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert targets
    assert targets - set(slugs) == set()


def test_html_like_words_are_escaped_outside_code(text: str) -> None:
    """<app> in prose would vanish as an unknown HTML tag on GitHub: it is written \\<app\\> or in code."""
    prose = re.sub(r"`[^`]*`|<!--.*?-->", "", text)
    assert re.findall(r"(?<!\\)<\w+>", prose) == []


# --- the module's command line -----------------------------------------------------------------


def test_main_writes_the_reference_to_the_given_path(tmp_path: Path) -> None:
    target = tmp_path / "out" / "reference.md"

    assert main(["reference", str(target)]) == 0

    assert target.read_text(encoding="utf-8") == render()


def test_main_defaults_to_docs_spec_reference_md(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["reference"]) == 0

    assert (tmp_path / DEFAULT_PATH).read_text(encoding="utf-8") == render()
    assert (tmp_path / "docs" / "spec-reference.md").is_file()


def test_main_check_passes_on_the_committed_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reference", "--check", str(REFERENCE)]) == 0
    assert "up to date" in capsys.readouterr().out


def test_main_check_fails_with_a_diff_on_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "reference.md"
    stale.write_text(render().replace("| `desired_count` |", "| `desired_cont` |"), encoding="utf-8")

    assert main(["reference", "--check", str(stale)]) == 1

    out, err = capsys.readouterr()
    assert "-| `desired_cont` |" in out and "+| `desired_count` |" in out
    assert "stale" in err
    assert "desired_cont" in stale.read_text(encoding="utf-8")  # --check never writes


def test_main_check_fails_when_the_file_is_missing(tmp_path: Path) -> None:
    assert main(["reference", "--check", str(tmp_path / "missing.md")]) == 1
    assert not (tmp_path / "missing.md").exists()
