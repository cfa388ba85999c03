"""Deploy the microservices example (specs/services.yaml) with the pinned CDK CLI into the local
emulator (moto on 127.0.0.1) and read the deployed account back through boto3.

Five services in one cluster (USE-2): three behind one shared HTTPS ALB that routes by path,
each with a production and a test listener rule forwarding (weighted) to its two target groups
(blue/green, canary, linear); two internal services (rolling on FARGATE+FARGATE_SPOT, blue/green
through Service Connect); one Cloud Map namespace for Service Connect (ARCH-7).

The spec names its account (111122223333, a placeholder like its certificate ARN), so the
stacks are deployed exactly as synthesized into that account of the emulator: moto's STS gives
credentials in any account, the account is bootstrapped, and the certificate the HTTPS
listeners name is put in its ACM store (CreateListener checks it exists; real AWS does too).
One deployment per module. Where moto does not model a property, the test is marked
``xfail(strict=True)`` with the reason, so the gap stays visible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ecs_platform.constructs import HealthCheckProps
from tests.conftest import Synthesized
from tests.integration.emulator import ACCOUNT, REGION, Emulator

pytestmark = pytest.mark.integration

moto_gap = pytest.mark.xfail(strict=True)

NETWORK = "market-staging-network"
WORKLOADS = "market-staging-workloads"


def _own_certificate(arn: str) -> None:
    """The account holds the ACM certificate the spec names. ACM's API gives an imported certificate
    a new random ARN, so a generated one goes straight into moto's store (the server runs in this
    process) under the spec's ARN."""
    from moto.acm.models import CertBundle, acm_backends

    _, _, _, region, account, _ = arn.split(":", 5)
    bundle = CertBundle.generate_cert("market.example.com", account_id=account, region=region)
    bundle.arn = arn
    acm_backends[account][region]._certificates[arn] = bundle


@pytest.fixture(scope="module")
def services(synth: Callable[[str], Synthesized]) -> Synthesized:
    """The services spec (synthesized once per session, cdk-nag clean)."""
    return synth("services")


@pytest.fixture(scope="module")
def account(emulator: Emulator, services: Synthesized) -> Emulator:
    """The spec's account in the freshly reset emulator: bootstrapped, holding the spec's certificate."""
    environment = services.spec.environment
    assert environment.account is not None and environment.account != ACCOUNT
    assert environment.region == REGION
    spec_account = emulator.in_account(environment.account)
    for lb in services.spec.load_balancers:
        if lb.certificate_arn is not None:
            _own_certificate(lb.certificate_arn)
    spec_account.cdk("bootstrap", f"aws://{environment.account}/{REGION}")
    return spec_account


@pytest.fixture(scope="module")
def outputs(account: Emulator, services: Synthesized) -> dict[str, dict[str, str]]:
    """The services spec's assembly, deployed as synthesized: the outputs by stack name."""
    return account.deploy(services.outdir)


@pytest.fixture(scope="module")
def workloads(outputs: dict[str, dict[str, str]]) -> dict[str, str]:
    return outputs[WORKLOADS]


@pytest.fixture(scope="module")
def physical(account: Emulator, outputs: dict[str, dict[str, str]]) -> dict[str, str]:
    """Physical IDs of the workload stack's resources, by logical ID. (moto lists the resources it does not create,
    e.g. AWS::CloudWatch::Alarm, without a logical ID, and security group ingress rules without a physical ID: they
    are left out.)"""
    resources = account.client("cloudformation").describe_stack_resources(StackName=WORKLOADS)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources if "LogicalResourceId" in r and "PhysicalResourceId" in r}


@pytest.fixture(scope="module")
def template_services(services: Synthesized) -> dict[str, dict[str, Any]]:
    """The properties of the template's AWS::ECS::Service resources, by service name."""
    return {r["Properties"]["ServiceName"]: r["Properties"] for r in services.resources("AWS::ECS::Service").values()}


@pytest.fixture(scope="module")
def deployed(account: Emulator, services: Synthesized, workloads: dict[str, str]) -> dict[str, dict[str, Any]]:
    """DescribeServices of every service of the spec, by name."""
    names = [s.name for s in services.spec.services]
    response = account.client("ecs").describe_services(cluster=workloads["ClusterName"], services=names)
    assert response["failures"] == []
    return {s["serviceName"]: s for s in response["services"]}


def _logical(value: Any) -> str:
    """The logical ID a template value refers to (Ref or Fn::GetAtt)."""
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])


def _shared_alb_services(services: Synthesized) -> list[str]:
    return [s.name for s in services.spec.services if s.load_balancer is not None and s.load_balancer.shared is not None]


# --- the stacks and their outputs -----------------------------------------------------------


def test_use2_both_stacks_deploy_in_the_spec_account(account: Emulator, outputs: dict[str, dict[str, str]]) -> None:
    """USE-2: the network and workload stacks of the five-service spec deploy (CREATE_COMPLETE) in the spec's account."""
    stacks = account.client("cloudformation").describe_stacks()["Stacks"]
    assert {s["StackName"]: s["StackStatus"] for s in stacks if s["StackName"].startswith("market-")} == {
        NETWORK: "CREATE_COMPLETE",
        WORKLOADS: "CREATE_COMPLETE",
    }
    assert all(s["StackId"].split(":")[4] == account.account for s in stacks)


def test_use2_arch7_outputs_name_every_service(services: Synthesized, workloads: dict[str, str]) -> None:
    """USE-2 / ARCH-7 / ARCH-4: the outputs give each service's ServiceName and ConnectEndpoint (http://<name>:<port>, the
    name other services call), and the Url of each service behind the shared ALB; nothing else than the template declares."""
    assert set(workloads) == set(services.workloads_json["Outputs"])
    names = [s.name for s in services.spec.services]
    assert len(names) == 5
    for name in names:
        prefix = name.capitalize()
        assert workloads[f"{prefix}ServiceName"] == name
        spec = next(s for s in services.spec.services if s.name == name)
        port = next(c.port for c in spec.containers if c.port is not None)
        assert workloads[f"{prefix}ConnectEndpoint"] == f"http://{spec.connect.name or name}:{port}"
    assert workloads["OrdersConnectEndpoint"] == "http://orders:8080"
    url_services = {k.removesuffix("Url") for k in workloads if k.endswith("Url")} - {"EdgeLoadBalancer", "Dashboard"}
    assert url_services == {n.capitalize() for n in _shared_alb_services(services)} == {"Storefront", "Api", "Search"}


def test_arch4_service_urls_are_the_shared_alb(account: Emulator, workloads: dict[str, str]) -> None:
    """ARCH-4: the Url outputs are the shared HTTPS ALB's address, with the literal start of each service's first path."""
    (alb,) = account.client("elbv2").describe_load_balancers()["LoadBalancers"]
    url = f"https://{alb['DNSName']}"
    assert workloads["EdgeLoadBalancerUrl"] == url
    assert {name: workloads[f"{name}Url"] for name in ("Storefront", "Api", "Search")} == {
        "Storefront": url,
        "Api": f"{url}/api/",
        "Search": f"{url}/search",
    }


# --- the services ---------------------------------------------------------------------------


def test_use2_ha3_five_services_each_with_two_tasks(
    account: Emulator,
    services: Synthesized,
    deployed: dict[str, dict[str, Any]],
    template_services: dict[str, dict[str, Any]],
    workloads: dict[str, str],
) -> None:
    """USE-2 / HA-3: each of the five services runs in the cluster, ACTIVE, with desiredCount 2 and a task definition of its own."""
    (cluster,) = account.client("ecs").describe_clusters(clusters=[workloads["ClusterName"]])["clusters"]
    assert cluster["status"] == "ACTIVE"
    assert set(deployed) == set(template_services) == {"storefront", "api", "search", "orders", "inventory"}
    for name, service in deployed.items():
        spec = next(s for s in services.spec.services if s.name == name)
        assert service["status"] == "ACTIVE"
        assert service["clusterArn"] == cluster["clusterArn"]
        assert service["desiredCount"] == template_services[name]["DesiredCount"] == spec.desired_count == 2
        assert service["taskDefinition"] == workloads[f"{name.capitalize()}TaskDefinition"]
    assert len({s["taskDefinition"] for s in deployed.values()}) == 5


@moto_gap(reason="moto's CloudFormation does not create AWS::ECS::ClusterCapacityProviderAssociations")
def test_arch3_cluster_offers_fargate_and_fargate_spot(account: Emulator, workloads: dict[str, str]) -> None:
    """ARCH-3: the cluster has both capacity providers the services' strategies name, FARGATE and FARGATE_SPOT."""
    (cluster,) = account.client("ecs").describe_clusters(clusters=[workloads["ClusterName"]])["clusters"]
    assert sorted(cluster.get("capacityProviders", [])) == ["FARGATE", "FARGATE_SPOT"]


@moto_gap(reason="moto's CloudFormation drops LaunchType and CapacityProviderStrategy of AWS::ECS::Service (it reports EC2)")
def test_arch3_launch_type_and_capacity_provider_strategy(services: Synthesized, deployed: dict[str, dict[str, Any]]) -> None:
    """ARCH-3: the ALB services run on FARGATE; orders on FARGATE (base 1, weight 1) + FARGATE_SPOT (weight 3),
    inventory on FARGATE_SPOT only, as the spec's capacity says."""
    for spec in services.spec.services:
        service = deployed[spec.name]
        if not spec.capacity:
            assert service.get("launchType") == "FARGATE"
            assert not service.get("capacityProviderStrategy")
            continue
        assert "launchType" not in service
        assert service.get("capacityProviderStrategy") == [
            {"capacityProvider": c.provider, "weight": c.weight, "base": c.base} for c in spec.capacity
        ]
    assert deployed["orders"]["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
    ]


@moto_gap(
    reason="moto's CloudFormation ignores DeploymentConfiguration of AWS::ECS::Service (Strategy, canary/linear, bake "
    "time, circuit breaker, alarms); it does not create AWS::CloudWatch::Alarm either"
)
def test_ha8_arch8_deployment_strategy_per_service(
    deployed: dict[str, dict[str, Any]], template_services: dict[str, dict[str, Any]], physical: dict[str, str]
) -> None:
    """HA-8 / ARCH-8: each service deploys with its strategy (storefront BLUE_GREEN with 10 bake minutes, api CANARY 10 % for
    5 minutes, search LINEAR 25 % every 3 minutes, orders ROLLING, inventory BLUE_GREEN), the circuit breaker with rollback,
    and the ALB services roll back on their alarms."""
    expected = {"storefront": "BLUE_GREEN", "api": "CANARY", "search": "LINEAR", "orders": "ROLLING", "inventory": "BLUE_GREEN"}
    for name, service in deployed.items():
        config = service.get("deploymentConfiguration", {})
        template = template_services[name]["DeploymentConfiguration"]
        assert config.get("strategy") == template["Strategy"] == expected[name]
        assert config.get("deploymentCircuitBreaker") == {"enable": True, "rollback": True}
        alarms = template.get("Alarms")
        if alarms is not None:
            assert config.get("alarms") == {
                "alarmNames": [physical.get(_logical(a)) for a in alarms["AlarmNames"]],
                "enable": True,
                "rollback": True,
            }
    assert deployed["storefront"]["deploymentConfiguration"]["bakeTimeInMinutes"] == 10
    assert deployed["api"]["deploymentConfiguration"]["canaryConfiguration"] == {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5}
    assert deployed["search"]["deploymentConfiguration"]["linearConfiguration"] == {"stepPercent": 25.0, "stepBakeTimeInMinutes": 3}


@moto_gap(reason="moto's CloudFormation drops LoadBalancers of AWS::ECS::Service, and with them AdvancedConfiguration")
def test_arch4_ha8_services_shift_traffic_between_their_two_target_groups(
    account: Emulator, deployed: dict[str, dict[str, Any]], template_services: dict[str, dict[str, Any]], physical: dict[str, str]
) -> None:
    """ARCH-4 / HA-8: each ALB service registers its tasks in its target group, and names the alternate target group, the
    production and test listener rules and the role ECS uses to move traffic between them during a deployment."""
    iam = account.client("iam")
    for name in ("storefront", "api", "search"):
        (template,) = template_services[name]["LoadBalancers"]
        advanced = template["AdvancedConfiguration"]
        role_arn = iam.get_role(RoleName=physical[_logical(advanced["RoleArn"])])["Role"]["Arn"]
        assert deployed[name].get("loadBalancers") == [
            {
                "targetGroupArn": physical[_logical(template["TargetGroupArn"])],
                "containerName": template["ContainerName"],
                "containerPort": template["ContainerPort"],
                "advancedConfiguration": {
                    "alternateTargetGroupArn": physical[_logical(advanced["AlternateTargetGroupArn"])],
                    "productionListenerRule": physical[_logical(advanced["ProductionListenerRule"])],
                    "testListenerRule": physical[_logical(advanced["TestListenerRule"])],
                    "roleArn": role_arn,
                },
            }
        ]
    assert deployed["orders"].get("loadBalancers") == deployed["inventory"].get("loadBalancers") == []


# --- scaling --------------------------------------------------------------------------------


def test_arch5_ha5_each_service_has_its_scaling_target_and_policies(
    account: Emulator, services: Synthesized, workloads: dict[str, str], physical: dict[str, str]
) -> None:
    """ARCH-5 / HA-5 / USE-2: each service scales on its own: a scalable target with the template's min (>= 2) and max
    (api: 10, from requests_per_task scaling; the others 2..4) and its target-tracking policies, CPU 60 % for all and the
    api's requests per task (500/min) over both target groups, whose metric names the deployed target groups and ALB."""
    cluster = workloads["ClusterName"]
    service_names = {logical: r["Properties"]["ServiceName"] for logical, r in services.resources("AWS::ECS::Service").items()}
    targets = services.resources("AWS::ApplicationAutoScaling::ScalableTarget")
    resource_ids: dict[str, str] = {}
    expected: dict[str, tuple[int, int]] = {}
    for logical, target in targets.items():
        (join,) = target["Properties"]["ResourceId"].values()
        service = next(_logical(part) for part in join[1] if isinstance(part, dict) and "Fn::GetAtt" in part)
        resource_ids[logical] = f"service/{cluster}/{service_names[service]}"
        expected[resource_ids[logical]] = (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"])
    assert expected == {f"service/{cluster}/{s.name}": (s.scaling_range[0], s.scaling_range[1]) for s in services.spec.services}
    assert expected[f"service/{cluster}/api"] == (2, 10)
    assert all(low >= 2 for low, _ in expected.values())

    autoscaling = account.client("application-autoscaling")
    deployed = {t["ResourceId"]: t for t in autoscaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]}
    assert {rid: (t["MinCapacity"], t["MaxCapacity"]) for rid, t in deployed.items()} == expected
    assert {t["ScalableDimension"] for t in deployed.values()} == {"ecs:service:DesiredCount"}

    policies = services.resources("AWS::ApplicationAutoScaling::ScalingPolicy")
    deployed_policies = {p["PolicyName"]: p for p in autoscaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]}
    assert len(deployed_policies) == len(policies) == 6
    for policy in policies.values():
        props = policy["Properties"]
        got = deployed_policies[props["PolicyName"]]
        assert got["ResourceId"] == resource_ids[_logical(props["ScalingTargetId"])]
        assert got["PolicyType"] == props["PolicyType"] == "TargetTrackingScaling"
        config, template_config = got["TargetTrackingScalingPolicyConfiguration"], props["TargetTrackingScalingPolicyConfiguration"]
        assert config["TargetValue"] == template_config["TargetValue"]
        assert config.get("PredefinedMetricSpecification") == template_config.get("PredefinedMetricSpecification")

    (requests,) = [
        p for p in deployed_policies.values() if "CustomizedMetricSpecification" in p["TargetTrackingScalingPolicyConfiguration"]
    ]
    assert requests["ResourceId"] == f"service/{cluster}/api"
    config = requests["TargetTrackingScalingPolicyConfiguration"]
    assert config["TargetValue"] == 500
    (api,) = [s for s in services.spec.services if s.name == "api"]
    assert api.scaling.requests_per_task == 500
    elbv2 = account.client("elbv2")
    (alb,) = elbv2.describe_load_balancers()["LoadBalancers"]
    groups = {g["TargetGroupArn"]: g for g in elbv2.describe_target_groups()["TargetGroups"]}
    api_service = next(r["Properties"] for r in services.resources("AWS::ECS::Service").values() if r["Properties"]["ServiceName"] == "api")
    (lb,) = api_service["LoadBalancers"]
    api_groups = [lb["TargetGroupArn"], lb["AdvancedConfiguration"]["AlternateTargetGroupArn"]]
    metrics = {m["Id"]: m for m in config["CustomizedMetricSpecification"]["Metrics"]}
    for metric_id, group in zip(("primary", "alternate"), api_groups, strict=True):
        dimensions = {d["Name"]: d["Value"] for d in metrics[metric_id]["MetricStat"]["Metric"]["Dimensions"]}
        arn = physical[_logical(group)]
        assert arn in groups
        assert dimensions == {"TargetGroup": arn.split(":", 5)[5], "LoadBalancer": alb["LoadBalancerArn"].split(":loadbalancer/", 1)[1]}
        assert metrics[metric_id]["MetricStat"]["Metric"]["MetricName"] == "RequestCountPerTarget"
    assert metrics["result"]["Expression"] == "FILL(primary, 0) + FILL(alternate, 0)"


# --- the shared load balancer ---------------------------------------------------------------


@pytest.fixture(scope="module")
def listeners(account: Emulator, outputs: dict[str, dict[str, str]]) -> dict[int, dict[str, Any]]:
    """The shared ALB's listeners by port."""
    elbv2 = account.client("elbv2")
    (alb,) = elbv2.describe_load_balancers()["LoadBalancers"]
    return {listener["Port"]: listener for listener in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]}


def test_arch4_one_public_alb_with_https_redirect_and_test_listener(
    account: Emulator, services: Synthesized, listeners: dict[int, dict[str, Any]]
) -> None:
    """ARCH-4: one internet-facing ALB for the three web services: HTTPS 443 with the spec's certificate and a TLS 1.3
    policy, 80 redirecting to 443 (301), and the 8443 test listener for deployments; unmatched requests get a 404."""
    (alb,) = account.client("elbv2").describe_load_balancers()["LoadBalancers"]
    assert (alb["Scheme"], alb["Type"]) == ("internet-facing", "application")
    (edge,) = services.spec.load_balancers
    assert edge.test_listener_port == 8443
    assert set(listeners) == {80, 443, 8443}
    (redirect,) = listeners[80]["DefaultActions"]
    assert listeners[80]["Protocol"] == "HTTP"
    assert redirect == {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
    template = {r["Properties"]["Port"]: r["Properties"] for r in services.resources("AWS::ElasticLoadBalancingV2::Listener").values()}
    for port in (443, 8443):
        listener = listeners[port]
        assert listener["Protocol"] == "HTTPS"
        assert listener["Certificates"] == [{"CertificateArn": edge.certificate_arn}]
        assert listener["SslPolicy"] == template[port]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
        (default,) = listener["DefaultActions"]
        assert default["Type"] == "fixed-response"
        assert default["FixedResponseConfig"]["StatusCode"] == "404"


def test_arch4_listener_rules_route_paths_to_weighted_target_groups(
    account: Emulator, services: Synthesized, listeners: dict[int, dict[str, Any]], physical: dict[str, str]
) -> None:
    """ARCH-4: on the production (443) and the test (8443) listener alike, /api/* goes to api (priority 10),
    /search and /search/* to search (20), every other path to storefront (50000, evaluated last); each rule forwards to
    the service's two target groups, weight 100 on the live one and 0 on the alternate."""
    elbv2 = account.client("elbv2")
    service_groups: dict[str, tuple[str, str]] = {}
    for resource in services.resources("AWS::ECS::Service").values():
        props = resource["Properties"]
        for lb in props["LoadBalancers"]:
            alternate = lb["AdvancedConfiguration"]["AlternateTargetGroupArn"]
            service_groups[props["ServiceName"]] = (physical[_logical(lb["TargetGroupArn"])], physical[_logical(alternate)])
    assert set(service_groups) == set(_shared_alb_services(services))

    paths = {s.name: (s.load_balancer.paths or ["/*"]) for s in services.spec.services if s.load_balancer is not None}
    expected = {
        "10": (paths["api"], [(service_groups["api"][0], 100), (service_groups["api"][1], 0)]),
        "20": (paths["search"], [(service_groups["search"][0], 100), (service_groups["search"][1], 0)]),
        "50000": (paths["storefront"], [(service_groups["storefront"][0], 100), (service_groups["storefront"][1], 0)]),
    }
    assert paths == {"storefront": ["/*"], "api": ["/api/*"], "search": ["/search", "/search/*"]}
    template_rules = services.resources("AWS::ElasticLoadBalancingV2::ListenerRule").values()
    for port in (443, 8443):
        rules = [r for r in elbv2.describe_rules(ListenerArn=listeners[port]["ListenerArn"])["Rules"] if not r["IsDefault"]]
        routing = {}
        for rule in rules:
            (condition,) = rule["Conditions"]
            assert condition["Field"] == "path-pattern"
            (action,) = rule["Actions"]
            assert action["Type"] == "forward"
            groups = [(g["TargetGroupArn"], g["Weight"]) for g in action["ForwardConfig"]["TargetGroups"]]
            routing[rule["Priority"]] = (condition["PathPatternConfig"]["Values"], groups)
        assert routing == expected, f"listener {port}"
        in_template = {
            str(r["Properties"]["Priority"])
            for r in template_rules
            if physical[_logical(r["Properties"]["ListenerArn"])] == listeners[port]["ListenerArn"]
        }
        assert in_template == set(expected)


def test_arch4_six_target_groups_two_per_traffic_shifting_service(
    account: Emulator, services: Synthesized, physical: dict[str, str]
) -> None:
    """ARCH-4 / BP-2: six target groups, two for each of storefront, api and search: IP targets (awsvpc) on the container
    port, the health check path of the spec (api: /api/health), all in the workload VPC and attached to the shared ALB."""
    elbv2 = account.client("elbv2")
    (alb,) = elbv2.describe_load_balancers()["LoadBalancers"]
    groups = {g["TargetGroupArn"]: g for g in elbv2.describe_target_groups()["TargetGroups"]}
    template = services.resources("AWS::ElasticLoadBalancingV2::TargetGroup")
    assert len(groups) == len(template) == 6
    assert set(groups) == {physical[logical] for logical in template}
    for logical, resource in template.items():
        group, props = groups[physical[logical]], resource["Properties"]
        assert (group["TargetType"], group["Protocol"], group["Port"]) == ("ip", "HTTP", props["Port"])
        assert group["HealthCheckPath"] == props["HealthCheckPath"]
        assert group["VpcId"] == alb["VpcId"]
        assert set(group["LoadBalancerArns"]) == {alb["LoadBalancerArn"]}
    by_service = {
        r["Properties"]["ServiceName"]: r["Properties"]["LoadBalancers"][0]
        for r in services.resources("AWS::ECS::Service").values()
        if r["Properties"]["LoadBalancers"]
    }
    for name, lb in by_service.items():
        arns = [physical[_logical(lb["TargetGroupArn"])], physical[_logical(lb["AdvancedConfiguration"]["AlternateTargetGroupArn"])]]
        spec = next(s for s in services.spec.services if s.name == name)
        # The spec's path, or the construct's default when the spec leaves it out.
        assert [groups[a]["HealthCheckPath"] for a in arns] == [spec.health_check.path or HealthCheckProps().path] * 2
        assert [groups[a]["Port"] for a in arns] == [lb["ContainerPort"]] * 2
    assert by_service["api"]["ContainerPort"] == 8080
    assert next(s for s in services.spec.services if s.name == "api").health_check.path == "/api/health"


def test_arch4_sec2_alb_security_group_test_port_open_to_the_vpc_only(account: Emulator, outputs: dict[str, dict[str, str]]) -> None:
    """ARCH-4 / SEC-2: the ALB takes 80 and 443 from the internet, and the 8443 test listener only from inside the VPC."""
    ec2 = account.client("ec2")
    (alb,) = account.client("elbv2").describe_load_balancers()["LoadBalancers"]
    (group,) = ec2.describe_security_groups(GroupIds=alb["SecurityGroups"])["SecurityGroups"]
    (vpc,) = ec2.describe_vpcs(VpcIds=[alb["VpcId"]])["Vpcs"]
    rules = sorted((p["FromPort"], p["ToPort"], r["CidrIp"]) for p in group["IpPermissions"] for r in p["IpRanges"])
    assert rules == [(80, 80, "0.0.0.0/0"), (443, 443, "0.0.0.0/0"), (8443, 8443, vpc["CidrBlock"])]


# --- Service Connect ------------------------------------------------------------------------


def test_arch7_service_connect_namespace_exists(account: Emulator, services: Synthesized, physical: dict[str, str]) -> None:
    """ARCH-7: the Cloud Map HTTP namespace market.internal exists (Service Connect's), the stack's resource, tagged."""
    assert services.spec.service_connect is not None
    sd = account.client("servicediscovery")
    (namespace,) = sd.list_namespaces()["Namespaces"]
    assert (namespace["Name"], namespace["Type"]) == (services.spec.service_connect.namespace, "HTTP") == ("market.internal", "HTTP")
    (logical,) = services.resources("AWS::ServiceDiscovery::HttpNamespace")
    assert namespace["Id"] == physical[logical]
    assert namespace["Arn"] == f"arn:aws:servicediscovery:{REGION}:{account.account}:namespace/{namespace['Id']}"
    tags = {t["Key"]: t["Value"] for t in sd.list_tags_for_resource(ResourceARN=namespace["Arn"])["Tags"]}
    assert tags == {"App": "market", "Environment": "staging", "Name": "market-staging"}


@moto_gap(reason="moto's CloudFormation ignores ServiceConnectDefaults of AWS::ECS::Cluster")
def test_arch7_cluster_defaults_to_the_namespace(account: Emulator, workloads: dict[str, str]) -> None:
    """ARCH-7: the cluster's Service Connect default namespace is market.internal."""
    (namespace,) = account.client("servicediscovery").list_namespaces()["Namespaces"]
    (cluster,) = account.client("ecs").describe_clusters(clusters=[workloads["ClusterName"]])["clusters"]
    assert cluster.get("serviceConnectDefaults") == {"namespace": namespace["Arn"]}


@moto_gap(reason="moto's CloudFormation ignores ServiceConnectConfiguration of AWS::ECS::Service")
def test_arch7_every_service_joins_service_connect_under_its_name(
    account: Emulator, deployed: dict[str, dict[str, Any]], template_services: dict[str, dict[str, Any]]
) -> None:
    """ARCH-7 / ARCH-9: every service joins the namespace as a Service Connect server under its own name and port
    (http://orders:8080, ...); orders has the spec's 10 s per-request timeout."""
    (namespace,) = account.client("servicediscovery").list_namespaces()["Namespaces"]
    for name, service in deployed.items():
        (alias,) = template_services[name]["ServiceConnectConfiguration"]["Services"][0]["ClientAliases"]
        assert alias["DnsName"] == name
        (deployment,) = service["deployments"]
        connect = deployment.get("serviceConnectConfiguration", {})
        assert connect.get("enabled") is True
        assert connect.get("namespace") == namespace["Arn"]
        (server,) = connect["services"]
        assert server["discoveryName"] == name
        assert server["clientAliases"] == [{"dnsName": name, "port": alias["Port"]}]
    orders = deployed["orders"]["deployments"][0]["serviceConnectConfiguration"]["services"][0]
    assert orders["timeout"] == {"perRequestTimeoutSeconds": 10}
