"""A local AWS emulator (moto, on 127.0.0.1) and the pinned CDK CLI deploying into it.

Nothing leaves the machine: the server listens on loopback on a free port, every AWS
endpoint of the CLI and of boto3 points at it, credentials are dummies, and the
developer's AWS config and profiles are hidden from the subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from ecs_platform.app_builder import PROJECT_ROOT

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
CDK_BIN = PROJECT_ROOT / "node_modules" / ".bin" / "cdk"
CDK = [str(CDK_BIN), "--no-notices", "--no-version-reporting"]


@dataclass
class Emulator:
    endpoint: str
    workdir: Path
    account: str = ACCOUNT
    """The account the CLI and boto3 act in: moto's default, or another (see :meth:`in_account`)."""
    credentials: dict[str, str] | None = None
    """Temporary credentials in ``account`` (None: moto's default account's dummy keys)."""

    def in_account(self, account: str) -> Emulator:
        """The same emulator, acting in ``account``: moto's STS gives credentials in any account."""
        role = f"arn:aws:iam::{account}:role/integration-tests"
        credentials = self.client("sts").assume_role(RoleArn=role, RoleSessionName="integration-tests")["Credentials"]
        other = Emulator(self.endpoint, self.workdir, account=account, credentials=credentials)
        assert other.client("sts").get_caller_identity()["Account"] == account
        return other

    def _keys(self) -> dict[str, str]:
        if self.credentials is None:
            return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        return {
            "aws_access_key_id": self.credentials["AccessKeyId"],
            "aws_secret_access_key": self.credentials["SecretAccessKey"],
            "aws_session_token": self.credentials["SessionToken"],
        }

    @property
    def env(self) -> dict[str, str]:
        port = self.endpoint.rsplit(":", 1)[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
        env.update(
            PATH=f"{PROJECT_ROOT / '.venv' / 'bin'}{os.pathsep}{CDK_BIN.parent}{os.pathsep}{env.get('PATH', '')}",
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
            AWS_ENDPOINT_URL=self.endpoint,
            # The CLI builds the TemplateURL CloudFormation reads from this; moto resolves a
            # "localhost" URL against its own S3 store (no request is made to it).
            AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION=f"http://localhost:{port}",
            AWS_CONFIG_FILE=str(self.workdir / "no-aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(self.workdir / "no-aws-credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            CDK_DEFAULT_ACCOUNT=self.account,
            CDK_DEFAULT_REGION=REGION,
            CDK_DISABLE_CLI_TELEMETRY="true",
        )
        env.update({key.upper(): value for key, value in self._keys().items()})
        return env

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            **self._keys(),
        )

    def reset(self) -> None:
        """Forget every resource (moto's reset API), so each scenario starts from an empty account."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200

    def cdk(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*CDK, *args], cwd=cwd or self.workdir, env=self.env, capture_output=True, text=True, timeout=600, check=False
        )
        assert result.returncode == 0, f"cdk {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        return result

    def bootstrap(self) -> None:
        # From a directory without cdk.json, so the CLI does not synthesize the app first.
        self.cdk("bootstrap", f"aws://{ACCOUNT}/{REGION}")

    def deploy(self, assembly: Path, stacks: str = "**") -> dict[str, dict[str, str]]:
        """``cdk deploy`` the ``stacks`` (a pattern; default every stack) of a synthesized assembly; returns the outputs by stack name.

        ``--method=direct``: moto gives a stack created from a change set no outputs (so no
        exports for the workload stack's imports)."""
        outputs = self.workdir / f"outputs-{assembly.name}.json"
        self.cdk("deploy", "-a", str(assembly), stacks, "--require-approval", "never", "--method=direct", "--outputs-file", str(outputs))
        result: dict[str, dict[str, str]] = json.loads(outputs.read_text())
        return result
