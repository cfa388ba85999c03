"""Copilot's value formats in the spec's: names, durations, Fargate sizes, ports, commands and schedules."""

from __future__ import annotations

import re
import shlex
from typing import Any

from ecs_platform import limits

NAME_LIMIT = 32
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")


def spec_name(name: str, limit: int = NAME_LIMIT) -> str:
    """A Copilot name as a spec name: lowercase, camelCase and '_' as '-', starting with a letter, at most ``limit``."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", str(name)).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if not text or not text[0].isalpha():
        text = f"x-{text}".rstrip("-")
    return text[:limit].rstrip("-")


def duration_seconds(value: Any) -> float | None:
    """A Go duration (``15s``, ``2m``, ``1h30m``, ``250ms``) or a number of seconds, in seconds; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if not text or _DURATION.sub("", text):
        return None
    return sum(float(amount) * _UNITS[unit] for amount, unit in _DURATION.findall(text))


def whole_seconds(value: Any) -> int | None:
    seconds = duration_seconds(value)
    return None if seconds is None else round(seconds)


def nearest_fargate_size(cpu: int, memory: int) -> tuple[int, int]:
    """The Fargate size closest to ``cpu``/``memory`` that is at least as large where one is (never less memory)."""
    sizes = [(c, m) for c, memories in limits.FARGATE_SIZES.items() for m in memories]
    bigger = [(c, m) for c, m in sizes if c >= cpu and m >= memory]
    candidates = bigger or sizes
    return min(candidates, key=lambda s: (abs(s[0] - cpu) / 1024 + abs(s[1] - memory) / 2048, s))


def port_and_protocol(value: Any) -> tuple[int | None, str]:
    """``8080``, ``"8080"`` or ``"8080/udp"`` as (port, protocol); (None, tcp) when it is not a port."""
    match = re.fullmatch(r"(\d{1,5})(?:/(tcp|udp|TCP|UDP))?", str(value).strip())
    if not match or isinstance(value, bool):
        return None, "tcp"
    return int(match[1]), (match[2] or "tcp").lower()


def words(value: Any) -> list[str]:
    """A command or entrypoint, given as a string (split as a shell would) or a list."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return shlex.split(str(value))


# --- schedules -------------------------------------------------------------------------------------------------

#: Copilot's preset schedules as EventBridge cron expressions (what Copilot itself deploys).
PRESETS = {
    "@hourly": "cron(0 * * * ? *)",
    "@daily": "cron(0 0 * * ? *)",
    "@midnight": "cron(0 0 * * ? *)",
    "@weekly": "cron(0 0 ? * 1 *)",
    "@monthly": "cron(0 0 1 * ? *)",
    "@yearly": "cron(0 0 1 1 ? *)",
    "@annually": "cron(0 0 1 1 ? *)",
}


def rate(seconds: float) -> str | None:
    """A whole number of minutes as ``rate(...)`` in the largest whole unit; None below a minute or not whole."""
    if seconds < 60 or seconds % 60:
        return None
    minutes = int(seconds // 60)
    for unit, size in (("day", 1440), ("hour", 60), ("minute", 1)):
        if minutes % size == 0:
            amount = minutes // size
            return f"rate({amount} {unit}{'' if amount == 1 else 's'})"
    return None  # unreachable: every whole minute count divides by 1


def _day_of_week(field: str) -> str:
    """Standard cron's days (0-7, Sunday 0 or 7) as EventBridge's (1-7, Sunday 1); names stay."""
    return re.sub(r"(?<![/\d])\d+", lambda m: str(int(m[0]) % 7 + 1), field)


def cron(expression: str) -> tuple[str | None, str]:
    """A 5-field cron (``m h dom mon dow``) as EventBridge's 6 fields with '?' where it needs one; (None, why) if it cannot be."""
    fields = expression.split()
    if len(fields) != 5:
        return None, f"{expression!r} has {len(fields)} fields; allowed: 5 (minute hour day-of-month month day-of-week)"
    minute, hour, dom, month, dow = fields
    dom_set, dow_set = dom not in ("*", "?"), dow not in ("*", "?")
    if dom_set and dow_set:
        return None, f"{expression!r} sets both day-of-month and day-of-week; EventBridge allows one of them (the other '?')"
    if dow_set:
        dom = "?"
    else:
        dom, dow = ("*" if not dom_set else dom), "?"
    return f"cron({minute} {hour} {dom} {month} {_day_of_week(dow)} *)", ""


def schedule(value: str) -> tuple[str | None, str]:
    """Copilot's ``on.schedule`` as the spec's schedule: (expression, how) or (None, why not).

    An expression of None with an empty reason means ``none``: the job runs on demand only."""
    text = value.strip()
    expression: str | None
    if text == "none":
        return None, ""
    if text.startswith(("rate(", "cron(")):
        expression, how = text, "the same EventBridge expression"
    elif text.startswith("@every "):
        seconds = duration_seconds(text[len("@every ") :])
        expression = rate(seconds) if seconds is not None else None
        if expression is None:
            return None, f"{text!r} is not a whole number of minutes; allowed: @every with minutes or hours, e.g. @every 30m"
        how = f"{text} as {expression}"
    elif text in PRESETS:
        expression, how = PRESETS[text], f"{text} as {PRESETS[text]} (UTC, as Copilot ran it)"
    else:
        expression, why = cron(text)
        if expression is None:
            return None, why
        shifted = any(c.isdigit() for c in text.split()[4])
        how = f"{text!r} as {expression} (UTC" + ("; day-of-week numbers as EventBridge's, Sunday 1)" if shifted else ")")
    problem = limits.check_schedule(expression)
    if problem:
        return None, problem
    return expression, how
