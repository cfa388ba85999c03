"""The package's layers depend downwards only: app -> stacks -> constructs -> (limits, integrations, ...).

The import graph is read from the source (every ``import``, also inside functions), so a
test fails as soon as a module reaches up a layer, directly or through another module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ecs_platform"
#: Modules with no dependency outside the standard library: every layer may import them.
FOUNDATION = (
    "ecs_platform.limits",
    "ecs_platform.integrations",
    "ecs_platform.outputs",
    "ecs_platform.intrinsics",
    "ecs_platform.context",
    "ecs_platform.governance_catalog",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


@cache
def imports(module: str) -> frozenset[str]:
    """Every module ``module`` imports (absolute names, as written)."""
    path = _modules()[module]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names if f"{node.module}.{alias.name}" in _modules())
    return frozenset(found)


def reachable(module: str) -> set[str]:
    """The package's modules ``module`` loads, directly or through others (package __init__s included)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for name in imports(current):
            parts = name.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__
                prefix = ".".join(parts[:i])
                if prefix in _modules() and prefix not in seen:
                    seen.add(prefix)
                    todo.append(prefix)
    return seen


def _in(package: str) -> list[str]:
    return sorted(m for m in _modules() if m == package or m.startswith(package + "."))


@pytest.mark.parametrize("module", _in("ecs_platform.constructs"))
def test_constructs_never_reach_the_spec_layer(module: str) -> None:
    up = sorted(m for m in reachable(module) if m.startswith(("ecs_platform.spec", "ecs_platform.stacks", "ecs_platform.app_builder")))
    assert not up, f"{module} loads {up}"


@pytest.mark.parametrize("module", _in("ecs_platform.spec"))
def test_the_spec_layer_is_plain_data(module: str) -> None:
    """No CDK, no constructs, no stacks: the spec can be loaded and checked before CDK starts."""
    cdk = sorted(name for name in imports(module) if name.split(".")[0] in ("aws_cdk", "constructs", "jsii", "cdk_nag"))
    up = sorted(m for m in reachable(module) if m.startswith(("ecs_platform.constructs", "ecs_platform.stacks")))
    assert not cdk and not up, f"{module} imports {cdk + up}"


@pytest.mark.parametrize("module", FOUNDATION)
def test_foundation_modules_import_only_the_standard_library(module: str) -> None:
    outside = sorted(name for name in imports(module) if name.split(".")[0] not in sys.stdlib_module_names and name != "__future__")
    assert not outside, f"{module} imports {outside}"


def test_only_the_translation_reads_both_the_spec_and_the_constructs() -> None:
    both = [
        module
        for module in _modules()
        if any(name.startswith("ecs_platform.spec") for name in imports(module))
        and any(name.startswith("ecs_platform.constructs") for name in imports(module))
    ]
    assert both == ["ecs_platform.stacks.translate"]


@pytest.mark.integration
def test_importing_the_constructs_loads_neither_pydantic_nor_yaml() -> None:
    """A library user pays only for CDK: the construct package does not load the spec's dependencies."""
    script = (
        "import sys, ecs_platform.constructs\n"
        "print(sorted(m for m in ('pydantic', 'yaml', 'ecs_platform.spec', 'ecs_platform.stacks') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
