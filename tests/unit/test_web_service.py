"""WebService: a Fargate service behind an ALB in private subnets (USE-1, ARCH-4, ARCH-8, HA-3, BP-2, SEC-1, SEC-2)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_servicediscovery as cloudmap
from aws_cdk.assertions import Template

from ecs_platform.constructs import (
    Cluster,
    ClusterProps,
    ConstructError,
    ContainerProps,
    DeploymentProps,
    EncryptionKey,
    EncryptionKeyProps,
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
from tests.helpers import nag_findings
from tests.unit.support import ACCOUNT, AZS, logical_id, nag_app, new_app, new_stack, of_type, synth, tags_of

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


# --- issue 15: stickiness, slow start, HTTP/2 and gRPC, host names, Service Connect protocols ----


@dataclass
class Extras:
    template: Template
    ids: dict[str, str]
    services: dict[str, WebService]
    report: dict[str, Any]


def _task_port(extras: Extras, name: str, container: str) -> dict[str, Any]:
    task = of_type(extras.template, "AWS::ECS::TaskDefinition")[extras.ids[f"{name}.td"]]["Properties"]
    (mapping,) = next(c for c in task["ContainerDefinitions"] if c["Name"] == container)["PortMappings"]
    return dict(mapping)


def _target_groups(extras: Extras, name: str) -> list[dict[str, Any]]:
    groups = of_type(extras.template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    return [groups[extras.ids[key]]["Properties"] for key in (f"{name}.tg", f"{name}.alt") if key in extras.ids]


def _attributes(group: dict[str, Any]) -> dict[str, str]:
    return {a["Key"]: a["Value"] for a in group.get("TargetGroupAttributes", [])}


@pytest.fixture(scope="module")
def extras() -> Extras:
    """Given, in an app with every cdk-nag pack, an internet-facing HTTPS ALB named shop.example.com with the aliases
    api.shop.example.com and *.grpc.shop.example.com (its own certificate), a Service Connect namespace and:

    - ``grpc``: protocol_version GRPC, blue/green, stickiness 1 hour, slow start 60 s, route host api.shop.example.com,
      in the namespace (its port says nothing of its protocol);
    - ``h2``: protocol_version HTTP2 with app_protocol http2 and no Service Connect, route host x.grpc.shop.example.com
      (covered by the wildcard alias), a custom gRPC-free health check;
    - ``plain``: every default, in the namespace (the port becomes http, as before).
    """
    app = nag_app()
    stack = new_stack(app)
    network = Network(stack, "Network", props=NetworkProps(availability_zones=AZS))
    cluster = Cluster(stack, "Cluster", props=ClusterProps(vpc=network.vpc)).cluster
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="web service extras"))
    zone = route53.HostedZone.from_hosted_zone_attributes(stack, "Zone", hosted_zone_id="Z0123456789ABCDEFGHIJ", zone_name="example.com")
    lb = LoadBalancer(
        stack,
        "Alb",
        props=LoadBalancerProps(
            vpc=network.vpc,
            internet_facing=True,
            domain_name="shop.example.com",
            domain_zone=zone,
            aliases=["api.shop.example.com", "*.grpc.shop.example.com"],
        ),
    )
    namespace = cloudmap.HttpNamespace(stack, "Namespace", name="shop.internal")
    platform = Platform(stack, network, cluster, key, lb)
    services = {
        "grpc": WebService(
            stack,
            "Grpc",
            props=_props(
                platform,
                service_name="grpc",
                containers=[ContainerProps(name="app", image=NGINX, port=50051)],
                route=RouteProps(hosts=["api.shop.example.com"], priority=10),
                deployment=DeploymentProps(strategy=ecs.DeploymentStrategy.BLUE_GREEN),
                protocol_version=elbv2.ApplicationProtocolVersion.GRPC,
                stickiness=Duration.hours(1),
                slow_start=Duration.seconds(60),
                service_connect=ServiceConnectProps(namespace=namespace),
            ),
        ),
        "h2": WebService(
            stack,
            "H2",
            props=_props(
                platform,
                service_name="h2",
                containers=[ContainerProps(name="app", image=NGINX, port=8080)],
                route=RouteProps(hosts=["x.grpc.shop.example.com"], priority=20),
                protocol_version=elbv2.ApplicationProtocolVersion.HTTP2,
                app_protocol=ecs.AppProtocol.http2,
                health_check=HealthCheckProps(path="/healthz"),
            ),
        ),
        "plain": WebService(
            stack,
            "Plain",
            props=_props(
                platform,
                service_name="plain",
                containers=[ContainerProps(name="app", image=NGINX, port=8080)],
                service_connect=ServiceConnectProps(namespace=namespace),
            ),
        ),
    }
    ids: dict[str, str] = {}
    for name, service in services.items():
        ids[f"{name}.td"] = logical_id(service.task_definition)
        ids[f"{name}.tg"] = logical_id(service.target_group)
        ids[f"{name}.service"] = logical_id(service.service)
        assert service.listener_rule is not None
        ids[f"{name}.rule"] = logical_id(service.listener_rule)
        if service.alternate_target_group is not None:
            ids[f"{name}.alt"] = logical_id(service.alternate_target_group)
    # When synthesized (it raises on any unacknowledged cdk-nag finding)
    (template,) = synth(app, stack)
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    return Extras(template, ids, services, report)


def test_stickiness_keeps_a_client_on_one_task_in_both_target_groups(extras: Extras) -> None:
    """stickiness: the load balancer's cookie (lb_cookie) for 3600 s, on the blue and the green target group alike."""
    groups = _target_groups(extras, "grpc")
    assert len(groups) == 2
    for group in groups:
        attributes = _attributes(group)
        assert attributes["stickiness.enabled"] == "true"
        assert attributes["stickiness.type"] == "lb_cookie"
        assert attributes["stickiness.lb_cookie.duration_seconds"] == "3600"


def test_slow_start_ramps_new_tasks_up(extras: Extras) -> None:
    """slow_start: 60 s on both target groups; none where not asked."""
    for group in _target_groups(extras, "grpc"):
        assert _attributes(group)["slow_start.duration_seconds"] == "60"
    assert "slow_start.duration_seconds" not in _attributes(_target_groups(extras, "plain")[0])


def test_defaults_set_no_new_target_group_property(extras: Extras) -> None:
    """Without the new fields the target group is as before: no ProtocolVersion, no stickiness, the HTTP matcher."""
    (group,) = _target_groups(extras, "plain")
    assert "ProtocolVersion" not in group
    assert {k: v for k, v in _attributes(group).items() if k.startswith(("stickiness", "slow_start"))} == {"stickiness.enabled": "false"}
    assert group["Matcher"] == {"HttpCode": "200-399"}
    assert group["HealthCheckPath"] == "/"


def test_grpc_target_groups_check_health_with_grpc_codes(extras: Extras) -> None:
    """GRPC: ProtocolVersion GRPC, the gRPC matcher (12, AWS's default) and AWS's health check method for the default path."""
    for group in _target_groups(extras, "grpc"):
        assert group["ProtocolVersion"] == "GRPC"
        assert group["Matcher"] == {"GrpcCode": "12"}
        assert group["HealthCheckPath"] == "/AWS.ALB/healthcheck"
        assert group["Protocol"] == "HTTP"


def test_http2_target_group_keeps_the_http_matcher(extras: Extras) -> None:
    """HTTP2: ProtocolVersion HTTP2, the health check path and HTTP codes as given."""
    (group,) = _target_groups(extras, "h2")
    assert group["ProtocolVersion"] == "HTTP2"
    assert group["Matcher"] == {"HttpCode": "200-399"}
    assert group["HealthCheckPath"] == "/healthz"


def test_arch7_service_connect_port_speaks_the_target_groups_protocol(extras: Extras) -> None:
    """ARCH-7: with Service Connect the serving port's appProtocol follows protocol_version (grpc), stays http by
    default, and is what app_protocol says without Service Connect (http2)."""
    assert _task_port(extras, "grpc", "app")["AppProtocol"] == "grpc"
    assert _task_port(extras, "plain", "app")["AppProtocol"] == "http"
    assert _task_port(extras, "h2", "app")["AppProtocol"] == "http2"


def test_arch4_several_host_names_reach_one_service(extras: Extras) -> None:
    """ARCH-4: route hosts named by the load balancer's certificate (an alias, a match of a wildcard alias) are the
    rules' host-header condition."""
    rules = of_type(extras.template, "AWS::ElasticLoadBalancingV2::ListenerRule")
    for name, host in (("grpc", "api.shop.example.com"), ("h2", "x.grpc.shop.example.com")):
        conditions = {c["Field"]: c for c in rules[extras.ids[f"{name}.rule"]]["Properties"]["Conditions"]}
        assert conditions["host-header"]["HostHeaderConfig"]["Values"] == [host]
    assert extras.services["grpc"].url == "https://api.shop.example.com"


def test_the_extras_are_nag_clean(extras: Extras) -> None:
    """Synthesized with every cdk-nag pack: no unacknowledged finding."""
    assert {p["pluginName"] for p in extras.report["pluginReports"]} >= {"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security"}
    assert nag_findings(extras.report) == Counter()


# --- failing cases of the extras ----------------------------------------------------------------


@pytest.fixture(scope="module")
def https_lb(platform: Platform) -> LoadBalancer:
    """An HTTPS load balancer of the failing platform, named shop.example.com and www.shop.example.com."""
    zone = route53.HostedZone.from_hosted_zone_attributes(
        platform.stack, "Zone", hosted_zone_id="Z0123456789ABCDEFGHIJ", zone_name="example.com"
    )
    return LoadBalancer(
        platform.stack,
        "HttpsAlb",
        props=LoadBalancerProps(
            vpc=platform.network.vpc,
            internet_facing=True,
            domain_name="shop.example.com",
            domain_zone=zone,
            aliases=["www.shop.example.com"],
        ),
    )


GRPC = elbv2.ApplicationProtocolVersion.GRPC


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"stickiness": Duration.seconds(0)}, r"stickiness: 0 is out of range; allowed: 1\.\.604800"),
        ({"stickiness": Duration.days(8)}, r"stickiness: 691200 is out of range; allowed: 1\.\.604800"),
        ({"stickiness": Duration.millis(1500)}, r"stickiness: 1\.5 seconds; allowed: whole seconds, 1\.\.604800"),
        ({"slow_start": Duration.seconds(29)}, r"slow_start: 29 is out of range; allowed: 30\.\.900"),
        ({"slow_start": Duration.minutes(16)}, r"slow_start: 960 is out of range; allowed: 30\.\.900"),
        ({"deregistration_delay": Duration.seconds(3601)}, r"deregistration_delay: 3601 is out of range; allowed: 0\.\.3600"),
        (
            {"protocol_version": GRPC},
            r"protocol_version: GRPC behind an HTTP listener; allowed: HTTP1, or GRPC on a load balancer with a certificate",
        ),
        (
            {"protocol_version": elbv2.ApplicationProtocolVersion.HTTP2},
            r"protocol_version: HTTP2 behind an HTTP listener; allowed: HTTP1, or HTTP2 on a load balancer with a certificate",
        ),
        (
            {"https": True, "protocol_version": GRPC, "health_check": HealthCheckProps(path="/health")},
            r"health_check\.path: '/health' is not a gRPC method; allowed: /package\.service/method",
        ),
        (
            {"https": True, "protocol_version": GRPC, "health_check": HealthCheckProps(healthy_grpc_codes="ok")},
            r"health_check\.healthy_grpc_codes: 'ok'; allowed: gRPC codes 0 to 99",
        ),
        (
            {"https": True, "route": RouteProps(hosts=["api.example.com"])},
            r"route\.hosts: 'api\.example\.com' is not a name of the load balancer's certificate; allowed: shop\.example\.com, "
            r"www\.shop\.example\.com \(or add it to the load balancer's aliases\)",
        ),
        (
            {
                "app_protocol": ecs.AppProtocol.grpc,
                "containers": [ContainerProps(name="app", image=NGINX, port=80, app_protocol=ecs.AppProtocol.http)],
            },
            r"app_protocol: grpc, and container 'app' says http; allowed: the same protocol, or either alone",
        ),
    ],
)
def test_fails_when_target_group_extras_are_wrong(
    platform: Platform, https_lb: LoadBalancer, overrides: dict[str, Any], message: str
) -> None:
    """Out-of-range durations, HTTP/2 or gRPC behind an HTTP listener, a gRPC health check that is no gRPC method,
    an uncertified host, and two app protocols for one port are refused, naming the field, value and what is allowed."""
    if overrides.pop("https", False):
        overrides["load_balancer"] = https_lb
    with pytest.raises(ConstructError, match=message):
        WebService(platform.stack, f"Bad{abs(hash(message))}", props=_props(platform, **overrides))


def test_fails_when_target_group_settings_have_no_load_balancer(platform: Platform) -> None:
    """stickiness, slow_start and protocol_version belong to the target group: a Service Connect-only service refuses them."""
    namespace = cloudmap.HttpNamespace(platform.stack, "ExtrasNamespace", name="extras.internal")
    props = _props(
        platform,
        load_balancer=None,
        service_connect=ServiceConnectProps(namespace=namespace),
        stickiness=Duration.hours(1),
        protocol_version=GRPC,
    )
    with pytest.raises(ConstructError, match=r"stickiness, protocol_version configure the load balancer's target group; allowed: with a"):
        WebService(platform.stack, "NoTargetGroup", props=props)


def test_fails_when_app_protocol_has_no_port(platform: Platform) -> None:
    """app_protocol describes the serving port: a client-only member of the namespace has none."""
    namespace = cloudmap.HttpNamespace(platform.stack, "PortlessNamespace", name="portless.internal")
    props = _props(
        platform,
        load_balancer=None,
        service_connect=ServiceConnectProps(namespace=namespace),
        app_protocol=ecs.AppProtocol.grpc,
        containers=[SIDECAR],
    )
    with pytest.raises(ConstructError, match=r"app_protocol: grpc and no container serves a port; allowed: a container port, or none"):
        WebService(platform.stack, "PortlessGrpc", props=props)
