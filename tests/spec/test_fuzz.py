"""Property-based tests of the spec layer: random specs, valid and invalid.

Every outcome is a validated Spec or a SpecError whose every issue names a field path —
never another exception, never a traceback from deep inside pydantic or PyYAML.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_platform.app_builder import PROJECT_ROOT
from ecs_platform.spec import Spec, SpecError, load_spec, parse_spec

DEFAULT: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "specs" / "default.yaml").read_text())

# Values of every shape YAML can produce, including the awkward ones.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["256", "FARGATE", "public", "web", "batch", "cron(0 3 * * ? *)", "rate(1 day)", "Asia/Tokyo", "nginx:latest"]),
)
values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=8
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path of a nested document."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*prefix, index))
    return found


PATHS = _paths(DEFAULT)


@st.composite
def mutated_specs(draw: st.DrawFn) -> dict[str, Any]:
    """The default spec with 1-4 random edits: replace a value, delete a key, add an unknown key."""
    spec = copy.deepcopy(DEFAULT)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(PATHS))
        parent = spec
        try:
            for part in path[:-1]:
                parent = parent[part]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(values)
            elif action == "delete" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, dict):
                parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced this path's parent
    return spec


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_any_spec_is_validated_or_rejected_with_field_paths(data: dict[str, Any]) -> None:
    try:
        spec = parse_spec(data, source="fuzz.yaml")
    except SpecError as error:
        assert error.issues, "a SpecError must carry at least one issue"
        for path, message in error.issues:
            assert path, f"an issue without a field path: {message}"
            assert message and "Traceback" not in message
        assert str(error).startswith("fuzz.yaml: ")
    else:
        assert isinstance(spec, Spec)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_yaml_text_is_loaded_or_rejected_cleanly(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_spec(path)
        except SpecError as error:
            assert error.issues
            assert str(error).startswith(f"{path}: ")
