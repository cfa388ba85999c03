"""Turn expected failures into one clear message and exit status 1, without a traceback,
and leave no half-synthesized output behind."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ecs_platform.spec.loader import SpecError

#: Kept on failure: cdk-nag's findings, which say what to fix.
VALIDATION_REPORT = "validation-report.json"


def clean_message(error: BaseException) -> str:
    """The user-facing part of an error, without jsii's JavaScript stack frames."""
    lines = [line for line in str(error).splitlines() if not line.lstrip().startswith("at ")]
    return "\n".join(lines).strip() or type(error).__name__


def _remove_new_entries(outdir: Path, before: set[str]) -> None:
    if not outdir.is_dir():
        return
    for entry in outdir.iterdir():
        if entry.name in before or entry.name == VALIDATION_REPORT:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


@contextmanager
def report_and_exit(source: str, outdir: str | Path) -> Iterator[None]:
    """Run the body; on a spec, construct or validation error print it and exit 1, removing
    whatever the failed synthesis added to ``outdir``."""
    out = Path(outdir)
    before = {entry.name for entry in out.iterdir()} if out.is_dir() else set()
    try:
        yield
    except SpecError as error:
        _remove_new_entries(out, before)
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except (ValueError, RuntimeError) as error:  # construct checks raise ValueError; jsii raises RuntimeError
        _remove_new_entries(out, before)
        print(f"error: {source}: {clean_message(error)}", file=sys.stderr)
        if (out / VALIDATION_REPORT).exists():
            print(f"cdk-nag and validation findings: {out / VALIDATION_REPORT}", file=sys.stderr)
        sys.exit(1)
