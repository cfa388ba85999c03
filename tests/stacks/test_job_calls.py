"""A job calls an internal service (issue 15): RunTask tasks do not join Service Connect, so the job reaches the
service's internal load balancer. Its group, which lets out HTTPS only, may also reach that load balancer's listener,
and its containers find the service's URL in <SERVICE>_URL."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Template

from ecs_platform.app_builder import build_app
from ecs_platform.spec import parse_spec
from tests.conftest import CLI_CONTEXT, SPECS


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = copy.deepcopy(yaml.safe_load((SPECS / "default.yaml").read_text(encoding="utf-8")))
    data["services"][0]["load_balancer"] = {"public": False, "https": False}
    data["jobs"][0]["calls"] = ["my-service"]
    app, stage = build_app(parse_spec(data), outdir=str(tmp_path_factory.mktemp("job-calls")), context=CLI_CONTEXT)
    app.synth()  # with the nag packs
    return Template.from_stack(stage.workload_stack).to_json()


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_sec2_the_jobs_group_may_reach_the_internal_load_balancers_listener_only(template: dict[str, Any]) -> None:
    (alb_group,) = [k for k, v in _resources(template, "AWS::EC2::SecurityGroup").items() if "LoadBalancer" in k]
    egress = [
        r["Properties"]
        for r in _resources(template, "AWS::EC2::SecurityGroupEgress").values()
        if r["Properties"].get("DestinationSecurityGroupId") == {"Fn::GetAtt": [alb_group, "GroupId"]}
    ]
    assert len(egress) == 1 and (egress[0]["FromPort"], egress[0]["ToPort"]) == (80, 80)
    assert "Job" in json.dumps(egress[0]["GroupId"])


def test_the_job_finds_the_service_url_in_its_environment(template: dict[str, Any]) -> None:
    (job,) = [v for v in _resources(template, "AWS::ECS::TaskDefinition").values() if v["Properties"]["Family"] == "nightly-report"]
    environment = {e["Name"]: e["Value"] for e in job["Properties"]["ContainerDefinitions"][0]["Environment"]}
    url = json.dumps(environment["MY_SERVICE_URL"])
    assert url.startswith('{"Fn::Join"') and "http://" in url and "DNSName" in url
