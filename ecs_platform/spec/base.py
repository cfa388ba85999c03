"""What every model of the spec shares: the strict base model and the validators of its field types.

Plain data (pydantic only): the models of :mod:`ecs_platform.spec.models` and of the modules beside it build on these.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ecs_platform import limits


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _check(check: Any) -> AfterValidator:
    """Wrap a ``check_*`` function (value -> message | None) as a pydantic validator."""

    def validate(value: Any) -> Any:
        message = check(value)
        if message:
            raise ValueError(message)
        return value

    return AfterValidator(validate)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _pattern(regex: str, allowed: str) -> AfterValidator:
    compiled = re.compile(regex)
    return _check(lambda v: None if compiled.fullmatch(v) else f"{_short(v)} is not valid; allowed: {allowed}")


def _range(low: int, high: int, why: str = "") -> Any:
    return _rule(limits.Range(low, high, why))


def _rule(rule: limits.Range) -> Any:
    """A range rule of :mod:`ecs_platform.limits` as a validator (and the schema's bounds)."""
    return [_check(rule.check), Field(json_schema_extra={"minimum": rule.low, "maximum": rule.high})]


Name = Annotated[
    str,
    _pattern(r"[a-z][a-z0-9-]{0,30}[a-z0-9]|[a-z]", "lowercase letters, digits and '-', starting with a letter, 1-32 characters"),
    Field(json_schema_extra={"pattern": "^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$"}),
]
Family = Annotated[
    str,
    _pattern(r"[A-Za-z0-9_-]{1,255}", "letters, digits, '-' and '_', 1-255 characters"),
]
Port = Annotated[int, *_range(1, 65535)]
Tags = dict[
    Annotated[
        str,
        _pattern(r"[\w .:/=+@-]{1,128}", "1-128 letters, digits, spaces and _.:/=+-@"),
        _check(
            lambda key: (
                f"{key!r} starts with 'aws:', which AWS reserves; allowed: any other key" if key.lower().startswith("aws:") else None
            )
        ),
    ],
    Annotated[str, _pattern(r"[\w .:/=+@-]{0,256}", "0-256 letters, digits, spaces and _.:/=+-@")],
]
EnvName = Annotated[str, _pattern(r"[A-Za-z_][A-Za-z0-9_]{0,254}", "a letter or '_' followed by letters, digits and '_'")]
AbsolutePath = Annotated[str, _pattern(r"/[A-Za-z0-9_.\-/]{0,254}", "an absolute path such as /tmp")]
