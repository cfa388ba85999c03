"""Turn expected failures into one clear message and exit status 1, without a traceback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ecs_platform.spec.loader import SpecError


def clean_message(error: BaseException) -> str:
    """The user-facing part of an error, without jsii's JavaScript stack."""
    text = str(error)
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("at ")]
    return "\n".join(lines).strip() or type(error).__name__


@contextmanager
def report_and_exit(source: str) -> Iterator[None]:
    try:
        yield
    except SpecError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except (ValueError, RuntimeError) as error:  # construct validation; jsii raises RuntimeError
        print(f"error: {source}: {clean_message(error)}", file=sys.stderr)
        sys.exit(1)
