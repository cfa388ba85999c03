"""The package as a library user gets it: build a wheel, install it into a fresh virtual
environment, run the README's library example through the pinned CDK CLI with the cdk-nag
packs, and run the ``ecs-platform`` command the wheel installs.

The fresh environment borrows the project's pinned packages through a .pth file (no
download), but a guard a .pth file loads at start-up lets it import only the standard library and what the
wheel declares, transitively: a module the package uses without declaring it fails here as
it would after ``pip install ecs-platform``. It never sees the source tree: everything runs
from a temporary directory without AWS credentials.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from ecs_platform import __version__
from ecs_platform.app_builder import PROJECT_ROOT
from tests.integration.emulator import CDK

pytestmark = pytest.mark.integration

README = PROJECT_ROOT / "README.md"

#: Installed in the venv as a module a .pth file imports at start-up (not as ``sitecustomize``: a system Python,
#: Debian's for one, has a sitecustomize of its own that comes first): only the stdlib and the declared dependency
#: closure import.
DECLARED_ONLY = r'''
import importlib.machinery
import importlib.metadata as metadata
import os
import re
import sys


def _key(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(root):
    seen, todo = set(), [root]
    while todo:
        name = todo.pop()
        if _key(name) in seen:
            continue
        seen.add(_key(name))
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # a dependency only for other Python versions or platforms
            continue
        for requirement in requirements:
            if "extra ==" in requirement:
                continue
            todo.append(re.match(r"[A-Za-z0-9_.-]+", requirement).group(0))
    return seen


_ALLOWED = _closure("ecs-platform")
_MODULES = {m for m, dists in metadata.packages_distributions().items() if any(_key(d) in _ALLOWED for d in dists)}


_STDLIB = os.path.dirname(os.__file__)


def _in_stdlib(root):
    """The standard library's private modules too (``_sysconfigdata_*``), wherever the interpreter keeps them."""
    spec = importlib.machinery.PathFinder.find_spec(root)
    return spec is not None and (spec.origin or "").startswith(_STDLIB)


class _DeclaredOnly:
    def find_spec(self, name, path=None, target=None):
        root = name.split(".")[0]
        if root in sys.stdlib_module_names or root in _MODULES or root in _OURS or _in_stdlib(root):
            return None
        raise ModuleNotFoundError(f"No module named {root!r} (ecs-platform does not declare it)", name=root)


_OURS = ("sitecustomize", "usercustomize", "__main__", "declared_only")
sys.meta_path.insert(0, _DeclaredOnly())
'''


def readme_library_example() -> str:
    """The Python code block of the README's "Using the constructs in your own CDK app" section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Using the constructs in your own CDK app") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the README's library section has no python example"
    return match.group(1)


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed (and only its declared dependencies importable); its bin/."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (PROJECT_ROOT / name).exists():
            shutil.copy(PROJECT_ROOT / name, source / name)
    shutil.copytree(PROJECT_ROOT / "ecs_platform", source / "ecs_platform", ignore=shutil.ignore_patterns("__pycache__"))
    wheel_dir = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(wheel_dir), str(source)])
    (wheel,) = wheel_dir.glob("ecs_platform-*.whl")
    assert wheel.name == f"ecs_platform-{__version__}-py3-none-any.whl"

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    (site / "pinned-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-index", str(wheel)])
    (site / "declared_only.py").write_text(DECLARED_ONLY)
    (site / "zz-declared-only.pth").write_text("import declared_only\n")  # after every other .pth (sorted by name)
    return venv / "bin"


def _isolated_env(tmp_path: Path, bin_dir: Path) -> dict[str, str]:
    """No AWS credentials or configuration, no instance metadata, Node 24 and the venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_")) and k != "PYTHONPATH"}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    node_bin = PROJECT_ROOT / ".venv" / "bin"
    return {
        **env,
        "HOME": str(home),
        "AWS_EC2_METADATA_DISABLED": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "PATH": f"{bin_dir}{os.pathsep}{node_bin}{os.pathsep}{env['PATH']}",
    }


def test_the_readmes_library_example_synthesizes_through_the_cdk_cli_with_the_nag_packs(installed: Path, tmp_path: Path) -> None:
    # Given the README's example as a consumer's app, outside the source tree, without credentials
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "app.py").write_text(
        readme_library_example()
        + "\nimport ecs_platform, json\nprint(json.dumps({'module': ecs_platform.__file__}), file=open('loaded.json', 'w'))\n"
    )
    (consumer / "cdk.json").write_text(json.dumps({"app": f"{installed / 'python'} app.py"}))

    # When the pinned CDK CLI synthesizes it
    _run([*CDK, "synth", "--quiet"], cwd=consumer, env=_isolated_env(tmp_path, installed))

    # Then the constructs came from the wheel, and every cdk-nag pack passed
    loaded = json.loads((consumer / "loaded.json").read_text())
    assert loaded["module"].startswith(str(installed.parent))
    report = json.loads((consumer / "cdk.out" / "validation-report.json").read_text())
    packs = {p["pluginName"]: p for p in report["pluginReports"] if p["pluginName"] != "CloudFormation Validate"}
    assert set(packs) == {"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"}
    assert {name: p.get("violations", []) for name, p in packs.items()} == {key: [] for key in packs}
    (template_file,) = (consumer / "cdk.out").glob("*.template.json")
    types = [r["Type"] for r in json.loads(template_file.read_text())["Resources"].values()]
    assert types.count("AWS::ECS::Service") == 1
    assert types.count("AWS::ElasticLoadBalancingV2::LoadBalancer") == 1
    assert "AWS::IAM::Policy" not in types  # grants land in customer-managed policies, library or not


def test_the_ecs_platform_command_of_the_wheel_runs(installed: Path, tmp_path: Path) -> None:
    """The command's runtime dependencies (boto3) are declared: it starts with only those."""
    env = _isolated_env(tmp_path, installed)
    assert "commands:" in _run([str(installed / "ecs-platform"), "--help"], env=env).stdout
    assert _run([str(installed / "ecs-platform"), "run-task", "--help"], env=env).stdout.startswith("usage: ecs-platform run-task ")
    assert "--help" in _run([str(installed / "ecs-platform-summary"), "--help"], env=env).stdout


def test_the_cost_estimate_of_the_wheel_reads_its_price_files(installed: Path, tmp_path: Path) -> None:
    """COST-1 for a library user: the price files ship in the wheel (package data), not only in the source tree."""
    spec = tmp_path / "default.yaml"
    shutil.copy(PROJECT_ROOT / "specs" / "default.yaml", spec)
    out = _run([str(installed / "ecs-platform"), "cost", "--spec", str(spec)], env=_isolated_env(tmp_path, installed), cwd=tmp_path).stdout
    assert "ecs_platform/prices/ap-northeast-1.json" in out
    assert "Total" in out


def test_an_undeclared_import_fails_in_the_installed_environment(installed: Path, tmp_path: Path) -> None:
    """The guard itself: a module the wheel does not declare (pytest, moto) cannot be imported."""
    result = subprocess.run(
        [str(installed / "python"), "-c", "import moto"],
        capture_output=True,
        text=True,
        env=_isolated_env(tmp_path, installed),
        check=False,
    )
    assert result.returncode == 1
    assert "ecs-platform does not declare it" in result.stderr
