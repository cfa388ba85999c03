"""Read a spec from YAML (or a dict) and report every problem at once, each with its path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ecs_platform.spec.checks import check_spec
from ecs_platform.spec.models import Spec


class SpecError(ValueError):
    """The spec is invalid. ``issues`` holds ``(path, message)`` pairs; ``str()`` lists them all."""

    def __init__(self, source: str, issues: Sequence[tuple[str, str]]) -> None:
        self.source = source
        self.issues = list(issues)
        lines = [f"{source}: {len(self.issues)} problem(s) in the spec:"]
        lines += [f"  {path}: {message}" if path else f"  {message}" for path, message in self.issues]
        super().__init__("\n".join(lines))


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys instead of keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model class that holds the field at ``loc`` (to list the keys it allows)."""
    model: Any = Spec
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _format_error(error: Mapping[str, Any]) -> tuple[str, str]:
    loc = [p for p in error["loc"] if p not in ("function-after[validate(), str]",)]
    # pydantic adds the validator/union branch to loc for some errors; keep the data path only.
    loc = [p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    kind, value = error["type"], error.get("input")
    path = _path(loc)
    if kind == "extra_forbidden":
        owner = _model_at(loc[:-1])
        allowed = ", ".join(owner.model_fields) if owner else "see the spec schema"
        return path, f"unknown key; allowed keys: {allowed}"
    if kind == "missing":
        return path, "required key is missing"
    if kind == "value_error":
        return path, str(error["msg"]).removeprefix("Value error, ")
    return path, f"{error['msg']}; got {_describe(value)}"


def parse_spec(data: Any, *, source: str = "<spec>") -> Spec:
    """Validate plain data (as loaded from YAML) into a :class:`Spec`, or raise :class:`SpecError`."""
    if not isinstance(data, Mapping):
        raise SpecError(source, [("", f"the spec must be a mapping of keys; got {type(data).__name__}")])
    try:
        spec = Spec.model_validate(data)
    except ValidationError as error:
        issues = sorted({_format_error(e) for e in error.errors()}, key=lambda i: i[0])
        raise SpecError(source, issues) from None
    issues = check_spec(spec)
    if issues:
        raise SpecError(source, issues)
    return spec


def load_spec(path: str | Path) -> Spec:
    """Read and validate a YAML spec file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError(source, [("", f"cannot read the spec file: {error.strerror}")]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise SpecError(source, [("", f"not valid YAML: {error}")]) from None
    return parse_spec(data, source=source)
