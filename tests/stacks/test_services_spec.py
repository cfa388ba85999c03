"""The multi-service example (specs/services.yaml, USE-2): a shared HTTPS ALB with path rules,
each deployment strategy, internal services, and Service Connect between them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Synthesized
from tests.helpers import one

Resources = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def services(synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth("services")


def _service(services: Synthesized, name: str) -> dict[str, Any]:
    (found,) = [r["Properties"] for r in services.resources("AWS::ECS::Service").values() if r["Properties"]["ServiceName"] == name]
    return found


def _ref_of(value: dict[str, Any]) -> str:
    return str(value.get("Ref") or value["Fn::GetAtt"][0])


def test_use2_five_services_each_with_its_own_task_definition_roles_and_scaling(services: Synthesized) -> None:
    """USE-2: every service has its own task definition, task and execution roles, and scaling target."""
    names = ["storefront", "api", "search", "orders", "inventory"]
    definitions = {_ref_of(_service(services, n)["TaskDefinition"]) for n in names}
    assert len(definitions) == 5
    roles = {
        (_ref_of(td["Properties"]["TaskRoleArn"]), _ref_of(td["Properties"]["ExecutionRoleArn"]))
        for td in services.resources("AWS::ECS::TaskDefinition").values()
    }
    assert len(roles) == 5 and len({r for pair in roles for r in pair}) == 10
    assert len(services.resources("AWS::ApplicationAutoScaling::ScalableTarget")) == 5


def test_arch4_one_shared_alb_routes_by_path_and_answers_404_otherwise(services: Synthesized) -> None:
    """ARCH-4: one ALB for the three public services; HTTPS 443 with a 404 default, the 80 redirect,
    and one rule per service: specific paths first, the catch-all (storefront) last."""
    one(services.resources("AWS::ElasticLoadBalancingV2::LoadBalancer"))
    listeners = {
        r["Properties"]["Port"]: (k, r["Properties"]) for k, r in services.resources("AWS::ElasticLoadBalancingV2::Listener").items()
    }
    assert sorted(listeners) == [80, 443, 8443]
    https_id, https = listeners[443]
    assert https["Protocol"] == "HTTPS" and https["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "404"
    assert listeners[80][1]["DefaultActions"][0]["Type"] == "redirect"
    production_rules = {
        tuple(r["Properties"]["Conditions"][0]["PathPatternConfig"]["Values"]): r["Properties"]["Priority"]
        for r in services.resources("AWS::ElasticLoadBalancingV2::ListenerRule").values()
        if r["Properties"]["ListenerArn"] == {"Ref": https_id}
    }
    assert production_rules == {("/api/*",): 10, ("/search", "/search/*"): 20, ("/*",): 50000}


def test_arch4_internal_services_have_no_load_balancer(services: Synthesized) -> None:
    """An internal service (no load_balancer) has no target group and no load balancer entry."""
    for name in ("orders", "inventory"):
        assert not _service(services, name).get("LoadBalancers")
    assert len(services.resources("AWS::ElasticLoadBalancingV2::TargetGroup")) == 6  # 3 traffic-shifting services x 2


@pytest.mark.parametrize(
    ("name", "strategy", "settings"),
    [
        ("storefront", "BLUE_GREEN", {"BakeTimeInMinutes": 10}),
        ("api", "CANARY", {"CanaryConfiguration": {"CanaryPercent": 10, "CanaryBakeTimeInMinutes": 5}}),
        ("search", "LINEAR", {"LinearConfiguration": {"StepPercent": 25, "StepBakeTimeInMinutes": 3}}),
        ("orders", "ROLLING", {"MinimumHealthyPercent": 50, "MaximumPercent": 150}),
        ("inventory", "BLUE_GREEN", {}),
    ],
)
def test_ha8_each_deployment_strategy_as_the_spec_says(services: Synthesized, name: str, strategy: str, settings: dict[str, Any]) -> None:
    """HA-8 / ARCH-8: ECS-native strategies, always with the circuit breaker that rolls back."""
    config = _service(services, name)["DeploymentConfiguration"]
    assert config["Strategy"] == strategy
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert {k: config[k] for k in settings} == settings


def test_ha8_traffic_shifting_services_have_an_alternate_target_group_and_test_rule(services: Synthesized) -> None:
    """HA-8: the production rule forwards 100/0 to the primary and alternate groups; ECS gets both
    rules (production, test listener's) and the alternate group to move traffic between."""
    rules = services.resources("AWS::ElasticLoadBalancingV2::ListenerRule")
    for name in ("storefront", "api", "search"):
        (lb,) = _service(services, name)["LoadBalancers"]
        advanced = lb["AdvancedConfiguration"]
        production = rules[advanced["ProductionListenerRule"]["Ref"]]["Properties"]
        test = rules[advanced["TestListenerRule"]["Ref"]]["Properties"]
        expected = [
            {"TargetGroupArn": lb["TargetGroupArn"], "Weight": 100},
            {"TargetGroupArn": advanced["AlternateTargetGroupArn"], "Weight": 0},
        ]
        for rule in (production, test):
            assert rule["Actions"] == [{"Type": "forward", "ForwardConfig": {"TargetGroups": expected}}]
        assert test["Conditions"] == production["Conditions"] and test["Priority"] == production["Priority"]


def test_iam5_the_traffic_shifting_role_is_scoped_to_its_rules_and_groups(services: Synthesized) -> None:
    """IAM-5: the role ECS shifts traffic with is trusted by ECS (without source conditions, as AWS documents
    the role: see NO_SOURCE_CONDITION), has no AWS managed policy, and may modify only this service's
    rules and register only into its two groups."""
    (lb,) = _service(services, "api")["LoadBalancers"]
    advanced = lb["AdvancedConfiguration"]
    role_id = advanced["RoleArn"]["Fn::GetAtt"][0]
    role = services.resources("AWS::IAM::Role")[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert "Condition" not in trust
    (policy,) = [
        p["Properties"] for p in services.resources("AWS::IAM::ManagedPolicy").values() if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    by_action = {
        action: statement["Resource"]
        for statement in policy["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    groups = sorted([lb["TargetGroupArn"], advanced["AlternateTargetGroupArn"]], key=str)
    assert sorted(by_action["elasticloadbalancing:RegisterTargets"], key=str) == groups
    assert sorted(by_action["elasticloadbalancing:DeregisterTargets"], key=str) == groups
    assert sorted(by_action["elasticloadbalancing:ModifyRule"], key=str) == sorted(
        [advanced["ProductionListenerRule"], advanced["TestListenerRule"]], key=str
    )
    wildcard = sorted(a for a, r in by_action.items() if r == "*")
    assert wildcard == [f"elasticloadbalancing:Describe{x}" for x in ("Listeners", "Rules", "TargetGroups", "TargetHealth")]


def test_sec2_test_listener_is_reachable_from_the_vpc_only(services: Synthesized) -> None:
    """SEC-2: 80/443 from the internet; the test listener's 8443 from the VPC's CIDR only."""
    (alb_sg,) = [
        r["Properties"]
        for r in services.resources("AWS::EC2::SecurityGroup").values()
        if r["Properties"]["GroupDescription"].startswith("ALB:")
    ]
    ingress = {(rule["FromPort"], rule["CidrIp"]) for rule in alb_sg["SecurityGroupIngress"]}
    assert ingress == {(80, "0.0.0.0/0"), (443, "0.0.0.0/0"), (8443, "10.0.0.0/16")}


def test_arch7_service_connect_namespace_and_names(services: Synthesized) -> None:
    """ARCH-7: one HTTP Cloud Map namespace, the cluster's default; each service serves its traffic port
    under its name (clients call http://<name>:<port>) and logs its proxy to its own encrypted group."""
    namespace_id, namespace = next(iter(services.resources("AWS::ServiceDiscovery::HttpNamespace").items()))
    assert namespace["Properties"]["Name"] == "market.internal"
    cluster = one(services.resources("AWS::ECS::Cluster"))["Properties"]
    assert cluster["ServiceConnectDefaults"] == {"Namespace": {"Fn::GetAtt": [namespace_id, "Arn"]}}
    for name, port in (("storefront", 80), ("api", 8080), ("search", 8080), ("orders", 8080), ("inventory", 8080)):
        connect = _service(services, name)["ServiceConnectConfiguration"]
        assert connect["Enabled"] is True and connect["Namespace"] == {"Fn::GetAtt": [namespace_id, "Arn"]}
        (served,) = connect["Services"]
        assert served["ClientAliases"] == [{"DnsName": name, "Port": port}]
        assert connect["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "service-connect"
    (orders,) = _service(services, "orders")["ServiceConnectConfiguration"]["Services"]
    assert orders["Timeout"] == {"PerRequestTimeoutSeconds": 10}


def _groups_by_description(services: Synthesized, text: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in services.resources("AWS::EC2::SecurityGroup").items() if text in r["Properties"]["GroupDescription"]}


def test_arch7_sec2_servers_admit_the_callers_they_name_and_nobody_else(services: Synthesized) -> None:
    """ARCH-7 / SEC-2: each service that calls others carries a caller group of its own; a server admits,
    on its own port, the caller groups of the services it names, besides its load balancer, and nothing
    else; caller groups admit nothing; the retired flat group of 0.1 has neither rules nor members."""
    ingress = [r["Properties"] for r in services.resources("AWS::EC2::SecurityGroupIngress").values()]
    callers = _groups_by_description(services, "Service Connect caller")
    names = {k: {t["Key"]: t["Value"] for t in r["Properties"]["Tags"]}["Name"] for k, r in callers.items()}
    caller_of = {k: name.removeprefix("market-staging-").removesuffix("-caller") for k, name in names.items()}
    assert sorted(caller_of.values()) == ["api", "orders", "storefront"]
    group_of = {name: {"Fn::GetAtt": [k, "GroupId"]} for k, name in caller_of.items()}
    (retired,) = _groups_by_description(services, "Service Connect clients")
    lb_groups = [{"Fn::GetAtt": [k, "GroupId"]} for k in services.resources("AWS::EC2::SecurityGroup") if "LoadBalancer" in k]
    carried: list[Any] = []
    for spec in services.spec.services:
        own, *member = _service(services, spec.name)["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"]
        assert member == ([group_of[spec.name]] if spec.name in caller_of.values() else [])
        carried += member
        port = next(c.port for c in spec.containers if c.port)
        admitted = [r for r in ingress if r["GroupId"] == own]
        assert {(r["FromPort"], r["ToPort"]) for r in admitted} == {(port, port)}
        from_callers = sorted(
            caller_of[r["SourceSecurityGroupId"]["Fn::GetAtt"][0]] for r in admitted if r["SourceSecurityGroupId"] in group_of.values()
        )
        assert from_callers == sorted(spec.connect.callers)
        others = [r["SourceSecurityGroupId"] for r in admitted if r["SourceSecurityGroupId"] not in group_of.values()]
        assert all(g in lb_groups for g in others) and bool(others) == (spec.load_balancer is not None)
    assert not [r for r in ingress if _ref_of(r["GroupId"]) in {*callers, retired}]
    assert {"Fn::GetAtt": [retired, "GroupId"]} not in carried


def test_arch7_sec3_service_connect_tls_from_the_private_ca_with_a_scoped_role(services: Synthesized) -> None:
    """ARCH-7 / SEC-3: every served port asks for TLS from the spec's private CA; ECS's infrastructure role
    may issue end-entity certificates from that CA only, and touch only the ecs-sc! secrets it creates."""
    tls = services.spec.service_connect.tls if services.spec.service_connect else None
    assert tls is not None
    (role_id,) = [k for k in services.resources("AWS::IAM::Role") if k.startswith("ServiceConnectTls")]
    for spec in services.spec.services:
        (served,) = _service(services, spec.name)["ServiceConnectConfiguration"]["Services"]
        assert served["Tls"] == {
            "IssuerCertificateAuthority": {"AwsPcaAuthorityArn": tls.certificate_authority_arn},
            "RoleArn": {"Fn::GetAtt": [role_id, "Arn"]},
        }
    (policy,) = [
        p["Properties"] for p in services.resources("AWS::IAM::ManagedPolicy").values() if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    statements = policy["PolicyDocument"]["Statement"]
    pca = [s for s in statements if "acm-pca" in str(s["Action"])]
    assert {s["Resource"] for s in pca} == {tls.certificate_authority_arn}
    (issue,) = [s for s in pca if s["Action"] == "acm-pca:IssueCertificate"]
    assert issue["Condition"] == {"StringEquals": {"acm-pca:TemplateArn": "arn:aws:acm-pca:::template/EndEntityCertificate/V1"}}
    secrets = [s for s in statements if "secretsmanager" in str(s["Action"])]
    assert secrets and all(
        s["Resource"] == "arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:ecs-sc!*" and s["Condition"] for s in secrets
    )
    trust = services.resources("AWS::IAM::Role")[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "ecs.amazonaws.com"}]


def test_arch9_service_connect_metrics_by_protocol(services: Synthesized) -> None:
    """ARCH-9 (App Mesh's visibility, by its successor): the served port says it speaks HTTP, so
    Service Connect reports request counts, latency and HTTP status codes per service."""
    for td in services.resources("AWS::ECS::TaskDefinition").values():
        (container,) = td["Properties"]["ContainerDefinitions"]
        (mapping,) = container["PortMappings"]
        assert (mapping["Name"], mapping["AppProtocol"]) == (container["Name"], "http")
    assert not [r for r in services.workloads_json["Resources"].values() if r["Type"].startswith("AWS::AppMesh::")]


def test_ha8_rollback_alarms_and_request_scaling_read_both_target_groups(services: Synthesized) -> None:
    """HA-8: a traffic-shifting service's rollback alarms combine both target groups (the new revision's is
    the one that fails); its request scaling sums requests per target over both (ARCH-5)."""
    alarms = [
        a["Properties"] for a in services.resources("AWS::CloudWatch::Alarm").values() if "api" in a["Properties"]["AlarmDescription"]
    ]
    unhealthy = next(a for a in alarms if "health check" in a["AlarmDescription"])
    expressions = [m["Expression"] for m in unhealthy["Metrics"] if "Expression" in m]
    assert expressions == ["MAX([FILL(primary, 0), FILL(alternate, 0)])"]
    policies = [p["Properties"] for p in services.resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()]
    requests = [p for p in policies if "CustomizedMetricSpecification" in p["TargetTrackingScalingPolicyConfiguration"]]
    (policy,) = requests
    metrics = {m["Id"]: m for m in policy["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]["Metrics"]}
    assert metrics["result"]["Expression"] == "FILL(primary, 0) + FILL(alternate, 0)"
    assert {metrics[q]["MetricStat"]["Metric"]["MetricName"] for q in ("primary", "alternate")} == {"RequestCountPerTarget"}
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 500


def test_arch3_orders_mostly_on_spot(services: Synthesized) -> None:
    """ARCH-3: one task always on FARGATE, the rest 1:3 on FARGATE_SPOT."""
    assert _service(services, "orders")["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE", "Base": 1, "Weight": 1},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 3},
    ]


def test_outputs_name_each_services_url_or_endpoint(services: Synthesized) -> None:
    outputs = set(services.workloads_json["Outputs"])
    assert {"StorefrontUrl", "ApiUrl", "SearchUrl", "EdgeLoadBalancerUrl"} <= outputs
    assert {f"{n}ConnectEndpoint" for n in ("Storefront", "Api", "Search", "Orders", "Inventory")} <= outputs
    assert "OrdersUrl" not in outputs


def test_arch3_services_on_capacity_providers_wait_for_the_cluster_association(services: Synthesized) -> None:
    """ARCH-3: a service with a capacity provider strategy is created after the cluster's providers are associated."""
    (association,) = services.resources("AWS::ECS::ClusterCapacityProviderAssociations")
    for logical, service in services.resources("AWS::ECS::Service").items():
        if "CapacityProviderStrategy" in service["Properties"]:
            assert association in service.get("DependsOn", []), logical
