"""app.py, the only entry point, as the CDK CLI runs it: good specs synthesize, bad specs
end with one clear message, exit status 1, no traceback and nothing written.

The full catalog of bad specs runs in-process (tests/spec/test_bad_specs.py); these
cases prove the same messages reach a user of app.py and of the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ecs_platform.app_builder import PROJECT_ROOT, project_context

pytestmark = pytest.mark.integration

NODE_BIN = PROJECT_ROOT / "node_modules" / ".bin"


def _run_app(spec: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
    """Run app.py the way the CDK CLI does: context (cdk.json + -c spec=...) in CDK_CONTEXT_JSON."""
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps({**project_context(), "spec": str(spec)}),
    }
    return subprocess.run([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def _bad_spec(tmp_path: Path, mutate: Callable[[dict], None]) -> Path:
    data = yaml.safe_load((PROJECT_ROOT / "specs" / "default.yaml").read_text())
    mutate(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


BAD = {
    "fargate_pair": (
        lambda d: d["services"][0].update(cpu=256, memory=4096),
        r"services[0].memory: memory 4096 MiB is not a Fargate size for cpu 256; allowed for cpu 256: 512, 1024, 2048",
    ),
    "public_subnets_SEC-1": (
        lambda d: d["jobs"][0].update(subnets="public"),
        "jobs[0].subnets: 'public' is not allowed; allowed: 'batch'",
    ),
    # Checked against the resource type's schema before CDK starts.
    "override_of_an_unknown_property": (
        lambda d: d["services"][0].update(overrides={"task_definition": {"ContainerDefinitions.0.StartTimout": 30}}),
        "services[0].overrides.task_definition: 'ContainerDefinitions.0.StartTimout' is not a property of "
        "AWS::ECS::TaskDefinition; did you mean ContainerDefinitions.*.StartTimeout?",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_fails_when_the_spec_is_bad_with_a_clear_message_and_no_output(case: str, tmp_path: Path) -> None:
    mutate, expected = BAD[case]
    outdir = tmp_path / "cdk.out"
    outdir.mkdir()

    result = _run_app(_bad_spec(tmp_path, mutate), outdir)

    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert list(outdir.iterdir()) == []


def test_fails_when_the_spec_file_is_missing(tmp_path: Path) -> None:
    outdir = tmp_path / "cdk.out"
    result = _run_app(tmp_path / "nope.yaml", outdir)
    assert result.returncode == 1
    assert "nope.yaml: 1 problem(s) in the spec:\n  cannot read the spec file: No such file or directory" in result.stderr
    assert "Traceback" not in result.stderr
    assert not outdir.exists() or list(outdir.iterdir()) == []


@pytest.mark.skipif(not (NODE_BIN / "cdk").exists(), reason="the pinned CDK CLI is installed by make (npm ci)")
def test_cdk_cli_synthesizes_the_default_spec_and_refuses_a_bad_one(tmp_path: Path) -> None:
    """`cdk synth` (the pinned CLI) runs app.py: the default spec gives both stacks; a bad spec fails cleanly."""
    env = {
        **os.environ,
        "PATH": f"{NODE_BIN}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    cdk = [shutil.which("cdk", path=env["PATH"]) or "cdk", "--no-notices", "--no-version-reporting"]
    good = subprocess.run(
        [*cdk, "synth", "--quiet", "-o", str(tmp_path / "good"), "**"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert good.returncode == 0, good.stderr
    templates = sorted(p.name for p in (tmp_path / "good").rglob("*.template.json"))
    assert templates == ["devNetwork06E556FF.template.json", "devWorkloadsFBF37C86.template.json"]

    bad_spec = _bad_spec(tmp_path, lambda d: d["services"][0].update(desired_count=0))
    bad = subprocess.run(
        [*cdk, "synth", "--quiet", "-o", str(tmp_path / "bad"), "-c", f"spec={bad_spec}", "**"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bad.returncode != 0
    assert "services[0].desired_count: 0 is out of range; allowed: 1..5000 (LIM-3" in bad.stderr
    assert "Traceback" not in bad.stderr
    written = [p for p in (tmp_path / "bad").rglob("*") if p.is_file()] if (tmp_path / "bad").exists() else []
    assert [p.name for p in written if p.suffix == ".json" and "template" in p.name] == []
