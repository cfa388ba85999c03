"""Read a spec from YAML (or a dict) and report every problem at once, each with its path."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from ecs_platform.spec.access import ENTRY_MODELS
from ecs_platform.spec.checks import check_environments, check_spec
from ecs_platform.spec.environments import EnvironmentDocument, documents, origin
from ecs_platform.spec.images import build_issues, with_absolute_builds, with_tags
from ecs_platform.spec.models import BuildImageSpec, RepositoryImageSpec, Spec


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
        key = loader.construct_object(key_node, deep=deep)
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


#: An image's forms, as pydantic names them in an error's path (after ``image``).
_IMAGE_FORMS: Mapping[str, type[BaseModel] | None] = {"reference": None, "build": BuildImageSpec, "repository": RepositoryImageSpec}


def _is_form(loc: Sequence[int | str], i: int) -> bool:
    return i > 0 and loc[i - 1] == "image" and loc[i] in _IMAGE_FORMS


def _model_at(loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model class that holds the field at ``loc`` (to list the keys it allows)."""
    model: type[BaseModel] = Spec
    for i, part in enumerate(loc):
        if isinstance(part, str) and part in ENTRY_MODELS and part not in model.model_fields:
            model = ENTRY_MODELS[part]  # pydantic puts an access entry's type in the path
            continue
        if _is_form(loc, i):
            form = _IMAGE_FORMS[str(part)]
            if form is None:
                return None
            model = form
            continue
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            continue  # a list index or a key of a user mapping (tags, environment, secrets)
        inner = _inner_model(field.annotation)
        if inner is None:
            return None
        model = inner
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def describe(value: Any) -> str:
    """A value as it appears in a message: repr, shortened to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_EXPECTED = {
    "int_type": "an integer (without quotes)",
    "int_parsing": "an integer (without quotes)",
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping of keys",
    "model_type": "a mapping of keys",
    "model_attributes_type": "a mapping of keys",
}


def _format_error(error: Mapping[str, Any]) -> tuple[str, str]:
    # pydantic adds a '[key]' part for errors in a mapping's keys, and an access entry's type
    # after its index: the model lookup uses them, the printed path leaves them out.
    loc = [part for part in error["loc"] if part != "[key]"]
    kind, value = error["type"], error.get("input")
    path = _path([p for i, p in enumerate(loc) if not (p in ENTRY_MODELS and i and isinstance(loc[i - 1], int)) and not _is_form(loc, i)])
    if kind == "extra_forbidden":
        owner = _model_at(loc[:-1])
        allowed = ", ".join(owner.model_fields) if owner else "see specs/spec.schema.json"
        return path, f"unknown key; allowed keys: {allowed}"
    if kind == "missing":
        owner = _model_at(loc[:-1])
        field = owner.model_fields.get(str(loc[-1])) if owner else None
        what = f" ({field.description})" if field is not None and field.description else ""
        return path, f"required key is missing{what}"
    if kind == "value_error":
        return path, str(error["msg"]).removeprefix("Value error, ")
    if kind == "image_form":
        return path, f"{describe(value)} is not an image; {error['msg']}"
    if kind == "union_tag_invalid":
        return path, f"{describe(error['ctx']['tag'])} is not an integration; allowed: {error['ctx']['expected_tags']}"
    if kind == "union_tag_not_found":
        return path, f"the entry has no {error['ctx']['discriminator']}; allowed: a 'type' naming the integration"
    if kind == "literal_error":
        return path, f"{describe(value)} is not allowed; allowed: {error['ctx']['expected']}"
    if kind == "string_pattern_mismatch":
        return path, f"{describe(value)} is not valid; allowed: text matching {error['ctx']['pattern']}"
    if kind in _EXPECTED:
        return path, f"{describe(value)} is a {type(value).__name__}; allowed: {_EXPECTED[kind]}"
    return path, f"{error['msg']}; got {describe(value)}"


def parse_spec(data: Any, *, source: str = "<spec>") -> Spec:
    """Validate plain data (as loaded from YAML) into a :class:`Spec`, or raise :class:`SpecError`."""
    if data is None:
        raise SpecError(source, [("", "the spec is empty; allowed: a mapping with app, environment, services, jobs, ...")])
    if not isinstance(data, Mapping):
        raise SpecError(source, [("", f"the spec is a {type(data).__name__}; allowed: a mapping with app, environment, ...")])
    try:
        spec = Spec.model_validate(data)
    except ValidationError as error:
        structural = {_format_error(e) for e in error.errors()} | set(_cross_field_issues_of_the_valid_parts(data))
        raise SpecError(source, sorted(structural, key=lambda i: i[0])) from None
    issues = check_spec(spec)
    if issues:
        raise SpecError(source, issues)
    return spec


def parse_specs(
    data: Any,
    *,
    source: str = "<spec>",
    environment: str | None = None,
    image_tags: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
) -> list[Spec]:
    """Validate a spec of one ``environment:`` or several ``environments:`` into one :class:`Spec` per environment,
    in the spec's order (only ``environment``'s when given), or raise :class:`SpecError` with every problem of
    every environment. ``image_tags`` come from the CDK context (:func:`ecs_platform.spec.images.image_tags`);
    ``build`` directories are relative to ``base_dir`` (default: the working directory)."""
    prepared = _Prepared(source, base_dir or Path.cwd(), image_tags or {})
    several = isinstance(data, Mapping) and "environments" in data
    specs = _parse_environments(data, prepared) if several else [prepared.parse(data)]
    issues = check_environments(specs)
    if issues:
        raise SpecError(source, issues)
    return select_environment(specs, environment, source=source)


def select_environment(specs: Sequence[Spec], environment: str | None, *, source: str = "<spec>") -> list[Spec]:
    """The spec of ``environment`` (every one when None), or :class:`SpecError` naming the environments there are."""
    if environment is None:
        return list(specs)
    chosen = [spec for spec in specs if spec.environment.name == environment]
    if not chosen:
        names = ", ".join(spec.environment.name for spec in specs)
        raise SpecError(source, [("", f"environment {environment!r} is not in the spec; allowed: {names}")])
    return chosen


class _Prepared:
    """Parses one environment's data with the context's image tags set and ``build`` contexts checked on disk."""

    def __init__(self, source: str, base: Path, tags: Mapping[str, str]) -> None:
        self.source, self.base, self.tags = source, base, tags

    def parse(self, data: Any) -> Spec:
        if not isinstance(data, Mapping):
            return parse_spec(data, source=self.source)
        tagged = with_tags(data, self.tags)
        issues = build_issues(tagged, self.base)
        try:
            spec = parse_spec(with_absolute_builds(tagged, self.base), source=self.source)
        except SpecError as error:
            raise SpecError(self.source, sorted({*issues, *error.issues}, key=lambda i: i[0])) from None
        if issues:
            raise SpecError(self.source, issues)
        return spec


def _parse_environments(data: Mapping[str, Any], prepared: _Prepared) -> list[Spec]:
    source = prepared.source
    found, issues = documents(data)
    specs: list[Spec] = []
    by_issue: dict[tuple[str, str], list[EnvironmentDocument]] = {}
    for document in found:
        try:
            specs.append(prepared.parse(document.data))
        except SpecError as error:
            for path, message in error.issues:
                where = origin(path, document)
                if where is not None:
                    issues.append((where, message))
                else:
                    by_issue.setdefault((path, message), []).append(document)
    for (path, message), failing in by_issue.items():
        # A shared setting that fails in every environment is one problem; else it names where it fails.
        names = ", ".join(d.name for d in failing)
        issues.append((path, message if len(failing) == len(found) else f"{message} (in environment {names})"))
    if issues:
        raise SpecError(source, issues)
    return specs


#: The lists of entries that are checked one by one when the spec as a whole has structural errors.
_ENTRY_LISTS = ("services", "jobs", "workers", "load_balancers")
_ENTRY_PATH = re.compile(rf"^({'|'.join(_ENTRY_LISTS)})\[(\d+)\]")


def _cross_field_issues_of_the_valid_parts(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The cross-field problems the structural errors do not hide, with their paths in the spec as
    written: every problem in one run wherever the structure allows.

    An entry (service, job, worker, shared load balancer) with structural errors is checked without
    its broken fields (they take their defaults), and a problem that names one of those fields is
    left out: it could be one the broken value would not have.
    """
    kept: dict[str, list[int]] = {}
    broken: dict[tuple[str, int], set[str]] = {}
    trimmed = dict(data)
    for name in _ENTRY_LISTS:
        items = data.get(name)
        if not isinstance(items, list):
            continue
        kept[name], trimmed[name] = [], []
        for i, item in enumerate(items):
            repaired = _without_broken_fields(_ENTRY_ADAPTERS[name], item)
            if repaired is not None:
                kept[name].append(i)
                trimmed[name].append(repaired[0])
                broken[(name, i)] = repaired[1]
    try:
        partial = Spec.model_validate(trimmed)
    except ValidationError:
        return []  # the environment or another shared part is broken: the checks would have nothing to stand on

    found = []
    for path, message in check_spec(partial, partial=True):
        match = _ENTRY_PATH.match(path)
        if match:
            key = (match[1], kept[match[1]][int(match[2])])
            rest = path[match.end() :].lstrip(".")
            if any(rest.startswith(field) or re.search(rf"\b{re.escape(field)}\b", message) for field in broken[key]):
                continue
            path = f"{key[0]}[{key[1]}]{path[match.end() :]}"
        found.append((path, message))
    return found


def _without_broken_fields(adapter: TypeAdapter[Any], item: Any) -> tuple[Any, set[str]] | None:
    """``item`` without its fields that fail validation, and their names; None if it is still invalid."""
    try:
        adapter.validate_python(item)
        return item, set()
    except ValidationError as error:
        if not isinstance(item, Mapping):
            return None
        fields = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
    trimmed = {key: value for key, value in item.items() if key not in fields}
    try:
        adapter.validate_python(trimmed)
    except ValidationError:
        return None
    return trimmed, fields


def _entry_model(name: str) -> type[BaseModel]:
    model = _inner_model(Spec.model_fields[name].annotation)
    assert model is not None, name
    return model


#: One adapter per entry model (ServiceSpec, JobSpec, ...), built once.
_ENTRY_ADAPTERS: dict[str, TypeAdapter[Any]] = {name: TypeAdapter(_entry_model(name)) for name in _ENTRY_LISTS}


#: A spec's size once YAML aliases are expanded, in nodes (scalars, lists, mappings): a spec of 100
#: services is about 10,000. Aliases that multiply ("billion laughs") are refused, not expanded.
MAX_EXPANDED_NODES = 100_000
#: A spec file's size.
MAX_SPEC_BYTES = 1024 * 1024


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many nodes ``node`` becomes when every alias is expanded (aliases share node objects)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(key, sizes) + _expanded_size(value, sizes) for key, value in node.value)
    sizes[id(node)] = size
    return size


def _read_yaml(path: Path) -> Any:
    """The YAML document of ``path`` as plain data; SpecError when it cannot be read, is not YAML,
    has duplicate keys, or is too large once its aliases are expanded."""
    source = str(path)
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError(source, [("", f"the file has {path.stat().st_size:,} bytes; allowed: at most {MAX_SPEC_BYTES:,}")])
        with path.open(encoding="utf-8") as stream:  # a named stream: YAML errors cite the file
            loader = _UniqueKeyLoader(stream)
            try:
                node = loader.get_single_node()
                if node is None:
                    return None
                size = _expanded_size(node, {})
                if size > MAX_EXPANDED_NODES:
                    raise SpecError(
                        source,
                        [("", f"the spec expands to {size:,} values through YAML aliases; allowed: at most {MAX_EXPANDED_NODES:,}")],
                    )
                return loader.construct_document(node)
            finally:
                loader.dispose()
    except OSError as error:
        raise SpecError(source, [("", f"cannot read the spec file: {error.strerror}")]) from None
    except yaml.YAMLError as error:
        raise SpecError(source, [("", f"not valid YAML: {error}")]) from None
    except RecursionError:
        raise SpecError(source, [("", "the YAML is nested too deeply; allowed: a spec of ordinary depth")]) from None


def load_specs(path: str | Path, *, environment: str | None = None, image_tags: Mapping[str, str] | None = None) -> list[Spec]:
    """Read and validate a YAML spec file: one :class:`Spec` per environment, in its order (only ``environment``'s
    when given), its ``build`` directories relative to the file."""
    path = Path(path)
    return parse_specs(_read_yaml(path), source=str(path), environment=environment, image_tags=image_tags, base_dir=path.parent)


def load_spec(path: str | Path, *, environment: str | None = None, image_tags: Mapping[str, str] | None = None) -> Spec:
    """Read and validate a YAML spec file of one environment (or choose one with ``environment``)."""
    specs = load_specs(path, environment=environment, image_tags=image_tags)
    if len(specs) > 1:
        names = ", ".join(spec.environment.name for spec in specs)
        raise SpecError(str(path), [("", f"the spec has {len(specs)} environments ({names}); allowed: choose one (environment=...)")])
    return specs[0]
