"""The package as a library user gets it: build a wheel, install it into a fresh virtual
environment, and synthesize a small consumer CDK app that imports ecs_platform.constructs.

The fresh environment sees the project's pinned dependencies through a .pth file (so the
test needs no download), but never the source tree: the consumer runs from a temporary
directory and must import ecs_platform from the installed wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from ecs_platform import __version__
from ecs_platform.app_builder import PROJECT_ROOT

pytestmark = pytest.mark.integration

CONSUMER_APP = """
import json, sys
import ecs_platform
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_ecs as ecs
from ecs_platform.constructs import (
    Cluster, ClusterProps, ContainerProps, EncryptionKey, EncryptionKeyProps, LoadBalancer, LoadBalancerProps,
    Network, NetworkProps, WebService, WebServiceProps,
)

app = App(outdir=sys.argv[1])
stack = Stack(app, "Consumer", env=Environment(account="123456789012", region="eu-west-1"))
network = Network(stack, "Network", props=NetworkProps(availability_zones=["eu-west-1a", "eu-west-1b"]))
cluster = Cluster(stack, "Cluster", props=ClusterProps(vpc=network.vpc)).cluster
alb = LoadBalancer(stack, "Alb", props=LoadBalancerProps(vpc=network.vpc, internet_facing=True))
WebService(stack, "Api", props=WebServiceProps(
    cluster=cluster,
    load_balancer=alb,
    containers=[ContainerProps(name="app", image=ecs.ContainerImage.from_registry("nginx:1.27"), port=80)],
    encryption_key=EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="consumer logs")),
    vpc_subnets=network.web_subnets,
))
app.synth()
print(json.dumps({"module": ecs_platform.__file__, "version": ecs_platform.__version__}))
"""


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result  # type: ignore[no-any-return]


def test_wheel_installs_and_a_consumer_app_synthesizes_a_web_service(tmp_path: Path) -> None:
    # Given a wheel built from a copy of the sources (the build leaves nothing in the work tree)
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_ROOT / name, source / name)
    shutil.copytree(PROJECT_ROOT / "ecs_platform", source / "ecs_platform", ignore=shutil.ignore_patterns("__pycache__"))
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(source),
        ]
    )
    (wheel,) = (tmp_path / "dist").glob("ecs_platform-*.whl")
    assert wheel.name == f"ecs_platform-{__version__}-py3-none-any.whl"

    # When it is installed into a fresh virtual environment that only borrows the pinned dependencies
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    (site / "pinned-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-index", str(wheel)])

    # Then a consumer app outside the source tree imports the constructs from the wheel and synthesizes
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "app.py").write_text(CONSUMER_APP)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    result = _run([str(python), "app.py", str(tmp_path / "cdk.out")], cwd=consumer, env=env)
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["module"].startswith(str(site))
    assert loaded["version"] == __version__
    template = json.loads((tmp_path / "cdk.out" / "Consumer.template.json").read_text())
    types = [r["Type"] for r in template["Resources"].values()]
    assert types.count("AWS::ECS::Service") == 1
    assert types.count("AWS::ElasticLoadBalancingV2::LoadBalancer") == 1
    assert "AWS::IAM::Policy" not in types  # grants land in customer-managed policies, library or not
