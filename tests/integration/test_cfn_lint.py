"""cfn-lint over every template of every example spec (every environment's, what they share, the pipeline's),
in one run: its start-up is most of the cost. A file of its own, so the test runners can run it beside others."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import SPECS

pytestmark = pytest.mark.integration


def test_cfn_lint_finds_no_error_in_any_template(assembled: Callable[[str], Path]) -> None:
    """Every example spec's templates, every environment's, in one cfn-lint run (its start-up is most of the cost)."""
    examples = sorted(p.stem for p in SPECS.glob("*.yaml"))
    templates = sorted(str(p) for name in examples for p in assembled(name).rglob("*.template.json"))
    assert len(templates) >= 2 * len(examples)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--non-zero-exit-code",
            "error",
            "--format",
            "parseable",
            "--",
            *templates,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
