"""Logical IDs survive refactorings: the rule that makes them, and the resources that keep theirs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aws_cdk import CfnElement
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecs_platform.stacks.identity import make_unique_id, path_below_stack
from tests.conftest import Synthesized
from tests.unit.support import new_stack


@pytest.mark.parametrize(
    "path",
    [
        ("Queue",),
        ("Service-my-service", "WebService", "Queue"),
        ("Default", "Key"),
        ("Job-a", "Default", "Resource", "Queue"),
        ("LoadBalancer-edge", "LoadBalancer", "LoadBalancer"),
        ("x" * 300,),
    ],
)
def test_make_unique_id_is_cdks_rule(path: tuple[str, ...]) -> None:
    """Given a resource at a path, the ID computed here equals the one CDK allocates."""
    stack = new_stack()
    scope: Construct = stack
    for part in path[:-1]:
        scope = Construct(scope, part)
    queue = sqs.CfnQueue(scope, path[-1])
    assert make_unique_id(path_below_stack(queue)) == stack.get_logical_id(queue)


def test_fails_when_there_is_no_path() -> None:
    with pytest.raises(ValueError, match="no path components"):
        make_unique_id(["Default"])


def test_a_load_balancers_certificate_and_alias_keep_the_ids_they_had_beside_it(synth: Callable[[str], Synthesized]) -> None:
    """0.1 built them beside the load balancer; now it owns them, and a new ID would create a
    second DNS record of the same name, which Route 53 refuses."""
    web = synth("web")
    resources = web.workloads_json["Resources"]
    assert resources["ServicestorefrontCertificateD7F9FCE1"]["Type"] == "AWS::CertificateManager::Certificate"
    assert resources["ServicestorefrontAlias49541392"]["Type"] == "AWS::Route53::RecordSet"
    assert not [k for k in resources if k.startswith(("ServicestorefrontLoadBalancerCertificate", "ServicestorefrontLoadBalancerAlias"))]
    certificate = (
        web.stage.workload_stack.node.find_child("Service-storefront").node.find_child("LoadBalancer").node.find_child("Certificate")
    )
    element = certificate.node.default_child
    assert isinstance(element, CfnElement)
