"""WebService: a Fargate service behind an ALB in private subnets (USE-1, ARCH-4, ARCH-8, HA-3, BP-2, SEC-1, SEC-2)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_servicediscovery as cloudmap
from aws_cdk.assertions import Template

from ecs_platform.constructs import (
    Cluster,
    ClusterProps,
    ConstructError,
    ContainerProps,
    DeploymentProps,
    LoadBalancer,
    LoadBalancerProps,
    Network,
    NetworkProps,
    SecurityGroupProps,
    ServiceConnectCallerSecurityGroup,
)
from ecs_platform.constructs.web_service import (
    HealthCheckProps,
    RouteProps,
    ServiceConnectProps,
    WebService,
    WebServiceProps,
)
from ecs_platform.limits import CATCH_ALL_PRIORITY
from tests.unit.support import ACCOUNT, AZS, logical_id, new_app, new_stack, of_type, synth, tags_of

NGINX = ecs.ContainerImage.from_registry("nginx:1.27")
SIDECAR = ContainerProps(name="sidecar", image=ecs.ContainerImage.from_registry("busybox:1.36"))


@dataclass
class Scenario:
    template: Template
    ids: dict[str, str]
    web_subnets: list[dict[str, str]]
    services: dict[str, WebService]


@dataclass
class Platform:
    """What a service needs: a stack with network, cluster, key and an internet-facing ALB."""

    stack: Stack
    network: Network
    cluster: ecs.ICluster
    key: kms.IKey
    load_balancer: LoadBalancer


def _platform(stack: Stack) -> Platform:
    network = Network(stack, "Network", props=NetworkProps(availability_zones=AZS))
    cluster = Cluster(stack, "Cluster", props=ClusterProps(vpc=network.vpc)).cluster
    key = kms.Key(stack, "Key")
    lb = LoadBalancer(stack, "Alb", props=LoadBalancerProps(vpc=network.vpc, internet_facing=True))
    return Platform(stack, network, cluster, key, lb)


def _props(p: Platform, **overrides: Any) -> WebServiceProps:
    values: dict[str, Any] = {
        "cluster": p.cluster,
        "load_balancer": p.load_balancer,
        "encryption_key": p.key,
        "vpc_subnets": p.network.web_subnets,
        "containers": [SIDECAR, ContainerProps(name="app", image=NGINX, port=8080)],
    }
    return WebServiceProps(**{**values, **overrides})


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given two services on one platform:

    - ``default``: every default; a sidecar without port first, then ``app`` on 8080, behind the HTTP ALB;
    - ``custom``: named ``api-service``, family ``api``, desired 4, target_container ``api`` (9000) though ``web``
      (80) comes first, custom health check, grace period and deregistration delay, behind an internal HTTPS ALB.
    """
    app = new_app()
    stack = new_stack(app)
    platform = _platform(stack)
    https_lb = LoadBalancer(
        stack,
        "HttpsAlb",
        props=LoadBalancerProps(
            vpc=platform.network.vpc,
            internet_facing=False,
            vpc_subnets=platform.network.web_subnets,
            certificate=acm.Certificate.from_certificate_arn(stack, "Certificate", f"arn:aws:acm:ap-northeast-1:{ACCOUNT}:certificate/x"),
        ),
    )
    services = {
        "default": WebService(stack, "Default", props=_props(platform)),
        "custom": WebService(
            stack,
            "Custom",
            props=_props(
                platform,
                load_balancer=https_lb,
                service_name="api-service",
                family="api",
                log_group_name="/ecs/shop/dev/api",
                desired_count=4,
                target_container="api",
                containers=[ContainerProps(name="web", image=NGINX, port=80), ContainerProps(name="api", image=NGINX, port=9000)],
                health_check=HealthCheckProps(
                    path="/health",
                    interval=Duration.seconds(15),
                    timeout=Duration.seconds(4),
                    healthy_threshold_count=3,
                    unhealthy_threshold_count=4,
                    healthy_http_codes="200",
                ),
                health_check_grace_period=Duration.seconds(120),
                deregistration_delay=Duration.seconds(10),
            ),
        ),
    }
    ids: dict[str, str] = {}
    for name, service in services.items():
        for part, construct in (
            ("service", service.service),
            ("tg", service.target_group),
            ("sg", service.security_group),
            ("td", service.task_definition),
            ("logs", service.log_group),
        ):
            ids[f"{name}.{part}"] = logical_id(construct)
    for name, lb in (("alb", platform.load_balancer), ("https_alb", https_lb)):
        ids[f"{name}.sg"] = logical_id(lb.security_group)
        ids[f"{name}.listener"] = logical_id(lb.listener)
    web_subnets = stack.resolve(platform.network.vpc.select_subnets(subnet_group_name="Web").subnet_ids)
    # When synthesized
    (template,) = synth(app, stack)
    return Scenario(template, ids, web_subnets, services)


def _service(scenario: Scenario, name: str) -> dict[str, Any]:
    props: dict[str, Any] = of_type(scenario.template, "AWS::ECS::Service")[scenario.ids[f"{name}.service"]]["Properties"]
    return props


def _target_group(scenario: Scenario, name: str) -> dict[str, Any]:
    tg = of_type(scenario.template, "AWS::ElasticLoadBalancingV2::TargetGroup")[scenario.ids[f"{name}.tg"]]
    props: dict[str, Any] = tg["Properties"]
    return props


# --- HA-3 / ARCH-8: deployment ---------------------------------------------------------------


def test_ha3_desired_count_defaults_to_two(scenario: Scenario) -> None:
    """HA-3: two tasks unless asked otherwise."""
    assert _service(scenario, "default")["DesiredCount"] == 2
    assert _service(scenario, "custom")["DesiredCount"] == 4


def test_arch8_circuit_breaker_rolls_back(scenario: Scenario) -> None:
    """ARCH-8: DeploymentCircuitBreaker {Enable: true, Rollback: true}."""
    for name in scenario.services:
        assert _service(scenario, name)["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def test_ha3_rolling_update_keeps_all_tasks_healthy_and_rebalances_azs(scenario: Scenario) -> None:
    """HA-3: rolling by default, minimum healthy 100 %, maximum 200 %, AZ rebalancing on."""
    for name in scenario.services:
        service = _service(scenario, name)
        config = service["DeploymentConfiguration"]
        assert {k: v for k, v in config.items() if k != "Alarms"} == {
            "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
            "MaximumPercent": 200,
            "MinimumHealthyPercent": 100,
            "Strategy": "ROLLING",
        }
        assert config["Alarms"]["Rollback"] is True and len(config["Alarms"]["AlarmNames"]) == 2  # HA-8, on by default
        assert service["AvailabilityZoneRebalancing"] == "ENABLED"


def test_use1_runs_on_fargate_in_the_cluster_with_its_task_definition(scenario: Scenario) -> None:
    service = _service(scenario, "default")
    assert service["LaunchType"] == "FARGATE"
    assert service["TaskDefinition"] == {"Ref": scenario.ids["default.td"]}
    assert list(service["Cluster"]) == ["Ref"]


# --- SEC-1 / SEC-2: network ------------------------------------------------------------------


def test_sec1_no_public_ip_and_only_the_given_private_subnets(scenario: Scenario) -> None:
    """SEC-1 / HA-2: AssignPublicIp DISABLED; the Web subnets of both AZs; the service's own security group."""
    for name in scenario.services:
        network = _service(scenario, name)["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network == {
            "AssignPublicIp": "DISABLED",
            "SecurityGroups": [{"Fn::GetAtt": [scenario.ids[f"{name}.sg"], "GroupId"]}],
            "Subnets": scenario.web_subnets,
        }


def test_sec2_task_group_admits_only_the_alb_on_the_target_port(scenario: Scenario) -> None:
    """SEC-2: the only ingress to a service's group is from its ALB's group on the target container port."""
    for name, alb, port in (("default", "alb", 8080), ("custom", "https_alb", 9000)):
        group = {"Fn::GetAtt": [scenario.ids[f"{name}.sg"], "GroupId"]}
        rules = [
            r["Properties"]
            for r in of_type(scenario.template, "AWS::EC2::SecurityGroupIngress").values()
            if r["Properties"]["GroupId"] == group
        ]
        assert rules == [
            {
                "Description": "Load balancer to target",
                "FromPort": port,
                "GroupId": group,
                "IpProtocol": "tcp",
                "SourceSecurityGroupId": {"Fn::GetAtt": [scenario.ids[f"{alb}.sg"], "GroupId"]},
                "ToPort": port,
            }
        ]
        sg = of_type(scenario.template, "AWS::EC2::SecurityGroup")[scenario.ids[f"{name}.sg"]]["Properties"]
        assert "SecurityGroupIngress" not in sg


# --- BP-2: health checks ---------------------------------------------------------------------


def test_bp2_grace_period_default_60_seconds(scenario: Scenario) -> None:
    """BP-2: ECS ignores failing health checks for 60 s after start by default; 120 s when asked."""
    assert _service(scenario, "default")["HealthCheckGracePeriodSeconds"] == 60
    assert _service(scenario, "custom")["HealthCheckGracePeriodSeconds"] == 120


def test_bp2_target_group_health_check_defaults(scenario: Scenario) -> None:
    """BP-2: path /, every 10 s, timeout 5 s, 2 healthy / 3 unhealthy, 200-399; IP targets; deregistration 30 s."""
    tg = _target_group(scenario, "default")
    assert {
        k: tg[k]
        for k in (
            "HealthCheckEnabled",
            "HealthCheckPath",
            "HealthCheckIntervalSeconds",
            "HealthCheckTimeoutSeconds",
            "HealthyThresholdCount",
            "UnhealthyThresholdCount",
            "Matcher",
            "TargetType",
            "Protocol",
            "Port",
        )
    } == {
        "HealthCheckEnabled": True,
        "HealthCheckPath": "/",
        "HealthCheckIntervalSeconds": 10,
        "HealthCheckTimeoutSeconds": 5,
        "HealthyThresholdCount": 2,
        "UnhealthyThresholdCount": 3,
        "Matcher": {"HttpCode": "200-399"},
        "TargetType": "ip",
        "Protocol": "HTTP",
        "Port": 8080,
    }
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "30"} in tg["TargetGroupAttributes"]


def test_bp2_custom_health_check_and_deregistration_delay(scenario: Scenario) -> None:
    tg = _target_group(scenario, "custom")
    assert (tg["HealthCheckPath"], tg["HealthCheckIntervalSeconds"], tg["HealthCheckTimeoutSeconds"]) == ("/health", 15, 4)
    assert (tg["HealthyThresholdCount"], tg["UnhealthyThresholdCount"], tg["Matcher"]) == (3, 4, {"HttpCode": "200"})
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "10"} in tg["TargetGroupAttributes"]


# --- ARCH-4: the target container ------------------------------------------------------------


def test_arch4_target_is_the_first_container_with_a_port(scenario: Scenario) -> None:
    """ARCH-4: with no target_container, the sidecar without port is skipped and app:8080 is registered."""
    assert _service(scenario, "default")["LoadBalancers"] == [
        {"ContainerName": "app", "ContainerPort": 8080, "TargetGroupArn": {"Ref": scenario.ids["default.tg"]}}
    ]


def test_arch4_target_container_chosen_by_name(scenario: Scenario) -> None:
    """ARCH-4: target_container='api' wins over the earlier web:80."""
    assert _service(scenario, "custom")["LoadBalancers"] == [
        {"ContainerName": "api", "ContainerPort": 9000, "TargetGroupArn": {"Ref": scenario.ids["custom.tg"]}}
    ]
    assert _target_group(scenario, "custom")["Port"] == 9000


def test_arch4_listener_forwards_to_the_service(scenario: Scenario) -> None:
    """On the HTTP listener (no certificate) or the HTTPS one (certificate), the service's rule forwards
    every path to its target group; the listener answers anything else with a 404."""
    listeners = of_type(scenario.template, "AWS::ElasticLoadBalancingV2::Listener")
    rules = of_type(scenario.template, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    for name, alb, port in (("default", "alb", 80), ("custom", "https_alb", 443)):
        listener_id = scenario.ids[f"{alb}.listener"]
        listener = listeners[listener_id]["Properties"]
        assert listener["Port"] == port
        assert [a["Type"] for a in listener["DefaultActions"]] == ["fixed-response"]
        (rule,) = [r["Properties"] for r in rules if r["Properties"]["ListenerArn"] == {"Ref": listener_id}]
        assert rule["Actions"] == [{"TargetGroupArn": {"Ref": scenario.ids[f"{name}.tg"]}, "Type": "forward"}]
        assert (rule["Priority"], rule["Conditions"][0]["PathPatternConfig"]["Values"]) == (CATCH_ALL_PRIORITY, ["/*"])


# --- CLI-6: naming and tags ------------------------------------------------------------------


def test_cli6_service_name_and_name_tag_when_given(scenario: Scenario) -> None:
    """CLI-6: ServiceName and Name tag; tags propagate from the service; ECS-managed tags on."""
    custom = _service(scenario, "custom")
    assert custom["ServiceName"] == "api-service"
    assert tags_of({"Properties": custom}) == {"Name": "api-service"}
    assert (custom["PropagateTags"], custom["EnableECSManagedTags"]) == ("SERVICE", True)
    sg = of_type(scenario.template, "AWS::EC2::SecurityGroup")[scenario.ids["custom.sg"]]
    assert tags_of(sg)["Name"] == "api-service"


def test_without_a_name_cloudformation_names_the_service(scenario: Scenario) -> None:
    default = _service(scenario, "default")
    assert "ServiceName" not in default
    assert "Tags" not in default


def test_obs1_log_group_follows_the_family(scenario: Scenario) -> None:
    """OBS-1: the log group name given (/ecs/<app>/<env>/<workload> in the platform), the service's log_group attribute."""
    groups = of_type(scenario.template, "AWS::Logs::LogGroup")
    assert groups[scenario.ids["custom.logs"]]["Properties"]["LogGroupName"] == "/ecs/shop/dev/api"
    assert "LogGroupName" not in groups[scenario.ids["default.logs"]]["Properties"]


def test_exposes_metrics_of_its_service(scenario: Scenario) -> None:
    """OBS-2: metric factories on the construct, in the AWS/ECS namespace."""
    metric = scenario.services["default"].metric_cpu_utilization()
    assert (metric.namespace, metric.metric_name) == ("AWS/ECS", "CPUUtilization")
    assert scenario.services["default"].metric_memory_utilization().metric_name == "MemoryUtilization"


# --- failing cases --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def platform() -> Platform:
    """A platform that is never synthesized: failing constructors leave only empty nodes in it."""
    return _platform(new_stack(new_app(), "Failing"))


@pytest.mark.parametrize("desired_count", [0, 5001])
def test_fails_when_desired_count_out_of_range(platform: Platform, desired_count: int) -> None:
    """LIM-3: 1 to 5,000 tasks (the spec asks two of a production service, HA-3)."""
    with pytest.raises(
        ConstructError, match=rf"^Failing/Count{desired_count}: desired_count: {desired_count} is out of range; allowed: 1\.\.5000 \(LIM-3"
    ):
        WebService(platform.stack, f"Count{desired_count}", props=_props(platform, desired_count=desired_count))


def test_fails_when_target_container_is_unknown(platform: Platform) -> None:
    with pytest.raises(ValueError, match=r"no container 'nope' in this service; allowed: sidecar, app"):
        WebService(platform.stack, "Unknown", props=_props(platform, target_container="nope"))


def test_fails_when_target_container_has_no_port(platform: Platform) -> None:
    with pytest.raises(ValueError, match=r"target container 'sidecar' has no port; allowed: a container with a port"):
        WebService(platform.stack, "NoPort", props=_props(platform, target_container="sidecar"))


def test_fails_when_no_container_has_a_port(platform: Platform) -> None:
    with pytest.raises(ValueError, match=r"no container has a port for the load balancer"):
        WebService(platform.stack, "NoPorts", props=_props(platform, containers=[SIDECAR]))


def test_fails_when_neither_load_balancer_nor_service_connect(platform: Platform) -> None:
    """ARCH-7: a service nobody can reach is refused."""
    with pytest.raises(ValueError, match=r"a service without load_balancer is unreachable; allowed: a load_balancer, service_connect"):
        WebService(platform.stack, "Unreachable", props=_props(platform, load_balancer=None))


def test_fails_when_route_priority_out_of_range(platform: Platform) -> None:
    with pytest.raises(ConstructError, match=r"^Failing/Priority0: route\.priority: 0 is out of range; allowed: 1\.\.50000"):
        WebService(platform.stack, "Priority0", props=_props(platform, route=RouteProps(priority=0)))


# --- deployments and Service Connect, as a library user builds them ---------------------------


def test_ha8_blue_green_without_test_listener_and_an_internal_service_connect_server() -> None:
    """HA-8 / ARCH-7 with the constructs alone: a blue/green service on an ALB without a test listener
    (ECS gets only the production rule), and an internal server that the first calls by name: the caller's
    tasks carry its caller group, and the server admits that group on its port."""
    app = new_app()
    stack = new_stack(app)
    platform = _platform(stack)
    namespace = cloudmap.HttpNamespace(stack, "Namespace", name="shop.internal")
    caller = ServiceConnectCallerSecurityGroup(stack, "FrontCaller", props=SecurityGroupProps(vpc=platform.network.vpc))
    WebService(
        stack,
        "Front",
        props=_props(
            platform,
            route=RouteProps(paths=["/shop/*"], priority=5),
            deployment=DeploymentProps(strategy=ecs.DeploymentStrategy.BLUE_GREEN, bake_time=Duration.minutes(5)),
            service_connect=ServiceConnectProps(namespace=namespace, caller_group=caller),
        ),
    )
    back = WebService(
        stack,
        "Back",
        props=_props(
            platform,
            load_balancer=None,
            service_name="back",
            service_connect=ServiceConnectProps(namespace=namespace, callers=[caller]),
        ),
    )
    assert back.connect_endpoint == "http://back:8080" and back.target_group is None
    (template,) = synth(app, stack)

    services = of_type(template, "AWS::ECS::Service")
    front = services[logical_id(stack.node.find_child("Front").node.find_child("Service"))]["Properties"]
    assert front["DeploymentConfiguration"]["Strategy"] == "BLUE_GREEN" and front["DeploymentConfiguration"]["BakeTimeInMinutes"] == 5
    (lb,) = front["LoadBalancers"]
    assert set(lb["AdvancedConfiguration"]) == {"AlternateTargetGroupArn", "ProductionListenerRule", "RoleArn"}
    rule = of_type(template, "AWS::ElasticLoadBalancingV2::ListenerRule")[lb["AdvancedConfiguration"]["ProductionListenerRule"]["Ref"]]
    assert rule["Properties"]["Priority"] == 5
    assert rule["Properties"]["Conditions"] == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/shop/*"]}}]
    backend = services[logical_id(back.service)]["Properties"]
    assert "LoadBalancers" not in backend or backend["LoadBalancers"] == []
    assert backend["ServiceConnectConfiguration"]["Services"][0]["ClientAliases"] == [{"DnsName": "back", "Port": 8080}]
    caller_id = logical_id(caller)
    assert front["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"][1] == {"Fn::GetAtt": [caller_id, "GroupId"]}
    assert len(backend["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"]) == 1
    (admitted,) = [
        r["Properties"]
        for r in of_type(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"].get("SourceSecurityGroupId") == {"Fn::GetAtt": [caller_id, "GroupId"]}
    ]
    assert admitted["GroupId"] == {"Fn::GetAtt": [logical_id(back.security_group), "GroupId"]} and admitted["FromPort"] == 8080


def test_arch7_callers_and_tls_need_a_served_port() -> None:
    """ARCH-7: callers and TLS belong to a server; a service without a container port gets a clear error."""
    app = new_app()
    stack = new_stack(app)
    platform = _platform(stack)
    namespace = cloudmap.HttpNamespace(stack, "Namespace", name="shop.internal")
    caller = ServiceConnectCallerSecurityGroup(stack, "Caller", props=SecurityGroupProps(vpc=platform.network.vpc))
    props = _props(platform, load_balancer=None, service_connect=ServiceConnectProps(namespace=namespace, callers=[caller]))
    props = replace(props, containers=[replace(c, port=None) for c in props.containers])
    with pytest.raises(ConstructError, match=r"callers and tls are for a server, and no container has a port"):
        WebService(stack, "Portless", props=props)
