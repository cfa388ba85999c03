"""Write the spec reference (``docs/spec-reference.md``) from the models: every key, its type, default,
allowed values, description and an example.

Like the JSON Schema (:mod:`ecs_platform.spec.schema`) the reference is generated, never edited by hand, and
``tests/spec/test_reference.py`` fails when the committed file is stale::

    python -m ecs_platform.spec.reference                # writes docs/spec-reference.md (or: make docs)
    python -m ecs_platform.spec.reference --check        # exit 1 and print a diff when it is stale

Everything is read from the models, nothing is written here per model: the field order, descriptions, Literal
choices, bounds (``ge``/``le``/``max_length`` and the ``minimum``/``maximum``/``minItems`` that ``_range``,
``_rule`` and ``Field(json_schema_extra=...)`` attach) and the words of the ``_pattern``/``_check`` validators.
Those words are the part after ``allowed:`` in the message a validator gives for a value no rule accepts (the
project's "what; allowed: ..." convention), so each limit stays written once, in the model. Examples are the
field's ``examples`` when it has some, else derived (the default, a Literal choice, an "e.g."/"such as" of the
description or the rule's words, the lowest value of a range) and kept only if the field's own type accepts them.
Plain data: no CDK import.
"""

from __future__ import annotations

import argparse
import inspect
import math
import re
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, Discriminator, Field, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

from ecs_platform.spec.models import SpecFile
from ecs_platform.spec.schema import write_or_check

#: Where the committed reference lives, relative to the repository root.
DEFAULT_PATH = Path("docs/spec-reference.md")
REGENERATE = "python -m ecs_platform.spec.reference"

TITLE = "Spec reference"
INTRO = """\
<!-- Generated from ecs_platform/spec/models.py by `{command}` (make docs); do not edit by hand. -->

Every key of a spec file (`specs/*.yaml`), model by model, starting at the file's root, [{root}](#{anchor}).
Each model's table lists its keys in the order the model defines them: the type as written in YAML, the default
(**required** when there is none), the allowed values, what the key is for, and an example line.

Unknown keys are rejected and values are not coerced (the YAML string `"256"` is not the integer 256). Rules that
span several keys (Fargate CPU and memory pairs, unique names, certificates, LIM-1..3) are checked when the spec is
loaded (`ecs_platform.spec.load_spec`, run by `make synth`). Editors validate as you type with the JSON Schema,
`specs/spec.schema.json`."""

_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean", Any: "any", type(None): "null"}
_LISTS = (list, tuple, set, frozenset, Sequence)
#: Values no rule of the spec accepts, by type: a validator's message for them says what is allowed.
_PROBES: dict[Any, tuple[Any, ...]] = {str: ("\0\n",), int: (-1, 10**12), float: (-1.0, 1e12), list: ([],), dict: ({},)}
_HINT = re.compile(r"\b(?:e\.g\.|such as)\s+")
_NUMBER = re.compile(r"(?<![\w.-])-?\d+(?:\.\d+)?(?![\w.])")
_ROLE = re.compile(r":\w+:`~?([^`]+)`")
_DEFAULT_PHRASE = re.compile(r"\bDefault: (.+?)(?:\.(?=\s+[A-Z(])|\.?$)")
_MISSING: Any = object()


# --- reading the types -------------------------------------------------------------------


@dataclass
class _Rules:
    """The constraints attached to one type (one level of Annotated metadata)."""

    minimum: Any = None
    maximum: Any = None
    above: Any = None
    below: Any = None
    min_length: int | None = None
    max_length: int | None = None
    patterns: list[str] = field(default_factory=list)
    checks: list[Callable[[Any], Any]] = field(default_factory=list)
    discriminator: str | None = None
    notes: list[str] = field(default_factory=list)

    def add(self, item: Any) -> None:
        if isinstance(item, FieldInfo):
            for inner in item.metadata:
                self.add(inner)
            self.add(item.json_schema_extra)
            self.add(item.discriminator)
        elif isinstance(item, dict):
            self._add_json_schema(item)
        elif isinstance(item, str):  # Field(discriminator="type")
            self.discriminator = item
        elif isinstance(item, AfterValidator | BeforeValidator):
            self.checks.append(item.func)  # type: ignore[arg-type]
        elif isinstance(item, Discriminator):
            self.add(item.discriminator if isinstance(item.discriminator, str) else None)
            self.notes += _allowed_part(item.custom_error_message)
        elif item is not None:
            self._add_constraint(item)

    def _add_json_schema(self, extra: dict[str, Any]) -> None:
        for key, attribute in (
            ("minimum", "minimum"),
            ("maximum", "maximum"),
            ("exclusiveMinimum", "above"),
            ("exclusiveMaximum", "below"),
            ("minItems", "min_length"),
            ("maxItems", "max_length"),
            ("minLength", "min_length"),
            ("maxLength", "max_length"),
        ):
            if extra.get(key) is not None:
                setattr(self, attribute, extra[key])
        if isinstance(extra.get("pattern"), str):
            self.patterns.append(extra["pattern"])

    def _add_constraint(self, item: Any) -> None:
        """annotated_types (Ge, Le, MaxLen, ...) and pydantic's own metadata (pattern=...)."""
        for name, attribute in (
            ("ge", "minimum"),
            ("le", "maximum"),
            ("gt", "above"),
            ("lt", "below"),
            ("min_length", "min_length"),
            ("max_length", "max_length"),
        ):
            value = getattr(item, name, None)
            if isinstance(value, int | float) and not isinstance(value, bool):
                setattr(self, attribute, value)
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, re.Pattern):
            pattern = pattern.pattern
        if isinstance(pattern, str):
            self.patterns.append(pattern)


def _unwrap(tp: Any) -> tuple[Any, _Rules]:
    """A type without its Annotated layers, and the rules those layers attach."""
    rules = _Rules()
    while get_origin(tp) is Annotated:
        for item in tp.__metadata__:
            rules.add(item)
        tp = tp.__origin__
    return tp, rules


def _field_type(info: FieldInfo) -> Any:
    """A model field's whole type: pydantic moves a field's top-level Annotated metadata onto its FieldInfo."""
    metadata: list[Any] = list(info.metadata)
    if info.json_schema_extra is not None or info.discriminator is not None:
        metadata.append(Field(json_schema_extra=info.json_schema_extra, discriminator=info.discriminator))
    return Annotated[(info.annotation, *metadata)] if metadata else info.annotation


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _members(tp: Any) -> list[Any]:
    return [member for member in get_args(tp) if member is not type(None)]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _is_list(tp: Any) -> bool:
    return (get_origin(tp) or tp) in _LISTS


def _is_map(tp: Any) -> bool:
    return (get_origin(tp) or tp) is dict


def _item_types(tp: Any) -> list[Any]:
    """A container's item types: ``[item]`` of a list, ``[key, value]`` of a map."""
    args = [arg for arg in get_args(tp) if arg is not Ellipsis]
    if _is_map(tp):
        return args or [str, Any]
    return args[:1] or [Any]


def nested_models(tp: Any) -> list[type[BaseModel]]:
    """The models a type refers to, in the order it names them."""
    found: list[type[BaseModel]] = []
    base, _ = _unwrap(tp)
    if _is_model(base):
        return [base]
    for arg in get_args(base):
        for model in nested_models(arg):
            if model not in found:
                found.append(model)
    return found


def models(root: type[BaseModel] = SpecFile) -> list[type[BaseModel]]:
    """Every model of the spec, breadth first from the root, each model's fields in their order."""
    found = [root]
    for model in found:  # grows while it is walked
        for info in model.model_fields.values():
            found += [nested for nested in nested_models(_field_type(info)) if nested not in found]
    return found


# --- type, allowed values, default ---------------------------------------------------


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _link(model: type[BaseModel]) -> str:
    return f"[{model.__name__}](#{anchor(model.__name__)})"


def type_text(tp: Any) -> str:
    """A type as YAML users read it: string, list of integer, map of string to string, [Model](#model)."""
    base, rules = _unwrap(tp)
    if _is_union(base):
        members = [type_text(member) for member in _members(base)]
        if len(members) == 1:
            return members[0]
        by = f" (by `{rules.discriminator}`)" if rules.discriminator else ""
        return f"one of{by}: " + " | ".join(members)
    if get_origin(base) is Literal:
        kinds = {_SCALARS.get(type(choice), "string") for choice in get_args(base)}
        return kinds.pop() if len(kinds) == 1 else "one of: " + " | ".join(sorted(kinds))
    if _is_model(base):
        return _link(base)
    if _is_map(base):
        key, value = _item_types(base)
        return f"map of {type_text(key)} to {type_text(value)}"
    if _is_list(base):
        return f"list of {type_text(_item_types(base)[0])}"
    return _SCALARS.get(base, "any")


def _allowed_part(message: str | None) -> list[str]:
    if message and "allowed: " in message:
        return [message.split("allowed: ", 1)[1].strip()]
    return []


def _rule_words(check: Callable[[Any], Any], base: Any) -> list[str]:
    """What a validator allows, in its own words: its message for a value no rule accepts."""
    for probe in _PROBES.get(get_origin(base) or base, ()):
        try:
            check(probe)
        except Exception as error:
            return _allowed_part(str(error))
    return []


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() and not isinstance(value, bool) else str(value)


def _bounds(rules: _Rules, base: Any) -> str | None:
    """A range in words: 1..5000, at least 1, 1 to 10 items."""
    if _is_list(base) or _is_map(base) or base is str:
        one, many = ("character", "characters") if base is str else ("entry", "entries") if _is_map(base) else ("item", "items")
        low, high = rules.min_length, rules.max_length
        if low is not None and high is not None:
            return f"{low} to {high} {many}"
        if low is not None:
            return f"at least {low} {one if low == 1 else many}"
        return f"at most {high} {one if high == 1 else many}" if high is not None else None
    parts = []
    if rules.minimum is not None and rules.maximum is not None:
        return f"{_number(rules.minimum)}..{_number(rules.maximum)}"
    if rules.minimum is not None:
        parts.append(f"at least {_number(rules.minimum)}")
    if rules.above is not None:
        parts.append(f"more than {_number(rules.above)}")
    if rules.maximum is not None:
        parts.append(f"at most {_number(rules.maximum)}")
    if rules.below is not None:
        parts.append(f"less than {_number(rules.below)}")
    return ", ".join(parts) or None


def allowed(tp: Any) -> list[str]:
    """What a type allows, in words (Markdown): Literal choices, ranges, the rules' words or else their patterns."""
    base, rules = _unwrap(tp)
    words = [_text(text) for check in rules.checks for text in _rule_words(check, base)] + [_text(note) for note in rules.notes]
    parts: list[str] = []
    if get_origin(base) is Literal:
        parts.append(", ".join(_code(_flow(choice)) for choice in get_args(base)))
    bounds = _bounds(rules, base)
    numbers = re.findall(r"-?\d+(?:\.\d+)?", bounds or "")
    if bounds and not any(all(number in text for number in numbers) for text in words):  # a rule's words say more
        parts.append(bounds)
    parts += words
    if not words:
        parts += [f"matches {_code(pattern)}" for pattern in rules.patterns]
    if _is_union(base):
        members = _members(base)
        for member in members:
            inner = allowed(member)
            if inner and len(members) > 1:
                parts.append(f"{type_text(member)}: {'; '.join(inner)}")
            else:
                parts += inner
    elif _is_map(base):
        key, value = _item_types(base)
        parts += [f"{label}: {'; '.join(inner)}" for label, inner in (("keys", allowed(key)), ("values", allowed(value))) if inner]
    elif _is_list(base):
        inner = allowed(_item_types(base)[0])
        if inner:
            parts.append("each: " + "; ".join(inner))
    return parts


def _informative(value: Any) -> bool:
    """A default worth showing as a value (not none, an empty list or a model's defaults)."""
    if value is None or isinstance(value, BaseModel):
        return False
    return not (isinstance(value, str | list | dict | tuple | set) and not value)


def _default_phrase(description: str | None) -> str | None:
    match = _DEFAULT_PHRASE.search(description or "")
    return match.group(1).strip() if match else None


def default_text(info: FieldInfo) -> str:
    """The default as a YAML value, or in the description's words ("Default: ...") when the value says little."""
    if info.is_required():
        return "**required**"
    value = info.get_default(call_default_factory=True, validated_data={})
    if _informative(value):
        return _code(_flow(value))
    phrase = _default_phrase(info.description)
    if phrase:
        return _text(phrase)
    if value is None:
        return "none"
    return _code("{}" if isinstance(value, BaseModel) else _flow(value))


# --- examples -------------------------------------------------------------------------


@cache
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def _accepts(tp: Any, value: Any) -> bool:
    """The type accepts the value as a spec file would give it (strict, as the models are)."""
    try:
        hash(tp)
    except TypeError:  # unhashable metadata: no cache
        adapter = TypeAdapter(tp)
    else:
        adapter = _adapter(tp)
    try:
        adapter.validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


def _snippet(rest: str) -> str | None:
    """The value that starts a text: quoted, a YAML flow collection, or one word."""
    if not rest:
        return None
    if rest[0] in "'\"`":
        end = rest.find(rest[0], 1)
        return rest[1:end] if end > 1 else None
    if rest[0] in "[{":
        depth = 0
        for i, char in enumerate(rest):
            depth += (char in "[{") - (char in "]}")
            if depth == 0:
                return rest[: i + 1]
        return None
    word = rest.split()[0].rstrip(".,;:")
    while word.endswith(")") and word.count(")") > word.count("("):
        word = word[:-1].rstrip(".,;:")
    return word or None


def _hinted(texts: Sequence[str]) -> Iterator[Any]:
    """The values named by "e.g. X" or "such as X" in texts: as YAML reads them, then as the text itself."""
    for text in texts:
        for match in _HINT.finditer(text):
            snippet = _snippet(text[match.end() :])
            if snippet is None:
                continue
            try:
                parsed = yaml.safe_load(snippet)
            except yaml.YAMLError:
                parsed = None
            if parsed is not None:
                yield parsed
            yield snippet


def _numbers(texts: Sequence[str]) -> Iterator[float]:
    for text in texts:
        for number in _NUMBER.findall(text):
            yield float(number)


def _candidates(tp: Any, hints: Sequence[str]) -> Iterator[Any]:
    """Possible examples of a type, most telling first (each is checked against the type before use)."""
    base, rules = _unwrap(tp)
    words = [text for check in rules.checks for text in _rule_words(check, base)] + rules.notes
    texts = [*hints, *words]  # the field's own description names a likelier value than its type's rule
    if _is_union(base):
        for member in _members(base):
            yield from _candidates(member, texts)
    elif get_origin(base) is Literal:
        yield from get_args(base)
    elif base is bool:
        yield from (True, False)
    elif base in (int, float):
        for number in (rules.minimum, rules.above, *_numbers(words), *_numbers(hints), 1, 0):
            if number is not None:
                yield base(number) if base is float or float(number).is_integer() else number
    elif base is str:
        yield from (value for value in _hinted(texts) if isinstance(value, str))
        if rules.checks or rules.patterns:  # a placeholder only where a rule vouches for its shape (never an "ARN")
            yield "example"
    elif _is_model(base):
        yield from _model_candidates(base)
    elif _is_list(base):
        yield from (value for value in _hinted(texts) if isinstance(value, list))
        item = example(_item_types(base)[0], hints)
        if item is not _MISSING:
            yield [item] * max(1, rules.min_length or 1)
    elif _is_map(base):
        yield from (value for value in _hinted(texts) if isinstance(value, dict))
        key, value = (example(item, hints) for item in _item_types(base))
        if _MISSING not in (key, value):
            yield {key: value}
    else:
        yield from _hinted(texts)


def example(tp: Any, hints: Sequence[str] = (), first: Sequence[Any] = ()) -> Any:
    """The first of ``first`` and then of the derived candidates that the type accepts; ``_MISSING`` if none."""
    for candidate in (*first, *_candidates(tp, hints)):
        if _accepts(tp, candidate):
            return candidate
    return _MISSING


_VISITING: set[type[BaseModel]] = set()


def _model_candidates(model: type[BaseModel]) -> Iterator[dict[str, Any]]:
    """The model's required keys, then those and one optional key each: the smallest spec of it that is valid."""
    if model in _VISITING:  # a model that contains itself: no finite example
        return
    _VISITING.add(model)
    try:
        required: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            if info.is_required():
                value = field_example(model, name)
                if value is _MISSING:
                    return
                required[info.alias or name] = value
        if required:
            yield required
        for name, info in model.model_fields.items():
            if not info.is_required():
                value = field_example(model, name)
                if value is not _MISSING:
                    yield {**required, info.alias or name: value}
        yield required
    finally:
        _VISITING.discard(model)


@cache
def field_example(model: type[BaseModel], name: str) -> Any:
    """An example value of a model's field: its ``examples``, its default, or one derived from its type and words."""
    info = model.model_fields[name]
    first = list(info.examples or [])
    if not info.is_required():
        default = info.get_default(call_default_factory=True, validated_data={})
        if _informative(default):
            first.append(default)
    return example(_field_type(info), [info.description or ""], first)


# --- Markdown -------------------------------------------------------------------------


def _flow(value: Any) -> str:
    """A value as one line of YAML."""
    value = value.model_dump(mode="json", exclude_defaults=True) if isinstance(value, BaseModel) else to_jsonable_python(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=math.inf, allow_unicode=True, sort_keys=False)
    return text.removesuffix("\n...\n").strip()


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _rst(text: str) -> str:
    """Docstring markup as Markdown: ``x`` and :class:`~a.B` as code."""
    text = _ROLE.sub(lambda m: f"`{m.group(1).rsplit('.', 1)[-1] if m.group(0).count('~') else m.group(1)}`", text)
    return text.replace("``", "`")


def _text(text: str) -> str:
    """Prose for Markdown: emphasis and HTML characters escaped outside code spans, on one line."""
    parts = re.split(r"(`[^`]*`)", _rst(" ".join(text.split())))
    return "".join(part if part.startswith("`") else re.sub(r"([<>*\\])", r"\\\1", part) for part in parts)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _summary(model: type[BaseModel]) -> str:
    doc = inspect.cleandoc(model.__doc__ or "")
    return " ".join(doc.split("\n\n", 1)[0].split())


def _model_rules(model: type[BaseModel]) -> list[str]:
    """Which keys a model needs together, from its schema's ``oneOf``/``anyOf`` of ``required`` lists."""
    extra: Any = model.model_config.get("json_schema_extra")
    lines = []
    for keyword, words in (("oneOf", "Give exactly one of"), ("anyOf", "Give at least one of")):
        branches = extra.get(keyword) if isinstance(extra, dict) else None
        if isinstance(branches, list) and all(isinstance(b, dict) and set(b) == {"required"} for b in branches):
            choices = [" and ".join(_code(str(key)) for key in branch["required"]) for branch in branches]
            lines.append(f"{words}: {'; '.join(choices)}.")
    return lines


def _row(model: type[BaseModel], name: str, info: FieldInfo) -> str:
    tp = _field_type(info)
    kind = type_text(tp)
    nullable = _is_union(_unwrap(tp)[0]) and type(None) in get_args(_unwrap(tp)[0])
    if nullable and not info.is_required() and info.get_default(call_default_factory=True, validated_data={}) is not None:
        kind += " or null"  # null means something else than leaving the key out
    description = info.description or ""
    if not description:
        nested = nested_models(tp)
        description = _summary(nested[0]) if len(nested) == 1 else ""
    value = field_example(model, name)
    key = info.alias or name  # what the YAML says
    sample = _code(f"{key}: {_flow(value)}") if value is not _MISSING else ""
    cells = [_code(key), kind, default_text(info), "; ".join(allowed(tp)), _text(description), sample]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _section(model: type[BaseModel], used_in: list[str]) -> list[str]:
    lines = [f"## {model.__name__}", ""]
    doc = inspect.cleandoc(model.__doc__ or "")
    for paragraph in doc.split("\n\n"):
        if paragraph.strip():
            lines += [_text(paragraph), ""]
    if used_in:
        lines += ["Used in: " + ", ".join(used_in) + ".", ""]
    for rule in _model_rules(model):
        lines += [rule, ""]
    lines += [
        "| Field | Type | Default | Allowed values | Description | Example |",
        "|---|---|---|---|---|---|",
        *(_row(model, name, info) for name, info in model.model_fields.items()),
        "",
    ]
    return lines


def render(model: type[BaseModel] = SpecFile) -> str:
    """The reference of a spec whose root is ``model``, as Markdown."""
    found = models(model)
    used_in: dict[type[BaseModel], list[str]] = {nested: [] for nested in found}
    for parent in found:
        for name, info in parent.model_fields.items():
            for nested in nested_models(_field_type(info)):
                used_in[nested].append(f"{_link(parent)} `{name}`")
    lines = [f"# {TITLE}", "", INTRO.format(command=REGENERATE, root=model.__name__, anchor=anchor(model.__name__)), ""]
    lines += ["## Contents", ""]
    for each in found:
        summary = _summary(each)
        lines.append(f"- {_link(each)}" + (f": {_text(summary)}" if summary else ""))
    lines.append("")
    for each in found:
        lines += _section(each, used_in[each])
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the reference to ``PATH`` (default ``docs/spec-reference.md``), or with ``--check`` exit 1 when it is stale."""
    args = list(sys.argv if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m ecs_platform.spec.reference", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--check", action="store_true", help="only compare: exit 1 with a unified diff when the file is stale")
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH, help=f"default: {DEFAULT_PATH}")
    options = parser.parse_args(args[1:])
    return write_or_check(options.path, render(), check=options.check, regenerate=f"`{REGENERATE}` (make docs)")


if __name__ == "__main__":
    raise SystemExit(main())
