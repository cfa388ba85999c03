"""FargateTask: task definition, roles, containers and log group of one workload (BP-1, BP-3, OBS-1, LIM-1, LIM-2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Template

from ecs_platform.constructs import ConstructError, ContainerProps, FargateTask, FargateTaskProps
from tests.unit.support import logical_id, new_app, new_stack, of_type, synth, tags_of

NGINX = ecs.ContainerImage.from_registry("nginx:1.27")


@dataclass
class Scenario:
    template: Template
    ids: dict[str, str]
    tasks: dict[str, FargateTask]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given three tasks in a plain stack:

    - ``web``: family my-task, 512/1024, ARM64, an app container on 80 with an environment and a sidecar, 90-day logs;
    - ``anonymous``: no family, one container, all defaults;
    - ``private``: an image from an ECR repository and a Secrets Manager secret (execution-role grants).
    """
    app = new_app()
    stack = new_stack(app)
    key = kms.Key(stack, "Key")
    repository = ecr.Repository(stack, "Repository")
    secret = secretsmanager.Secret(stack, "Secret")
    tasks = {
        "web": FargateTask(
            stack,
            "Web",
            props=FargateTaskProps(
                family="my-task",
                log_group_name="/ecs/my-task",
                encryption_key=key,
                cpu=512,
                memory_limit_mib=1024,
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                log_retention=logs.RetentionDays.THREE_MONTHS,
                containers=[
                    ContainerProps(name="app", image=NGINX, port=80, environment={"MODE": "production"}),
                    ContainerProps(
                        name="sidecar",
                        image=ecs.ContainerImage.from_registry("busybox:1.36"),
                        essential=False,
                        command=["sleep", "infinity"],
                        cpu=64,
                        memory_limit_mib=128,
                    ),
                ],
            ),
        ),
        "anonymous": FargateTask(
            stack,
            "Anonymous",
            props=FargateTaskProps(
                encryption_key=key,
                containers=[ContainerProps(name="app", image=NGINX)],
            ),
        ),
        "private": FargateTask(
            stack,
            "Private",
            props=FargateTaskProps(
                family="private",
                encryption_key=key,
                containers=[
                    ContainerProps(
                        name="app",
                        image=ecs.ContainerImage.from_ecr_repository(repository, "1.0.0"),
                        secrets={"DB_PASSWORD": ecs.Secret.from_secrets_manager(secret)},
                    )
                ],
            ),
        ),
    }
    ids = {
        "key": logical_id(key),
        "repository": logical_id(repository),
        "secret": logical_id(secret),
    }
    for name, task in tasks.items():
        ids[f"{name}.td"] = logical_id(task.task_definition)
        ids[f"{name}.logs"] = logical_id(task.log_group)
        ids[f"{name}.execution"] = logical_id(task.execution_role)
        ids[f"{name}.task"] = logical_id(task.task_role)
    # When synthesized
    (template,) = synth(app, stack)
    return Scenario(template, ids, tasks)


def _td(scenario: Scenario, name: str) -> dict[str, Any]:
    props: dict[str, Any] = of_type(scenario.template, "AWS::ECS::TaskDefinition")[scenario.ids[f"{name}.td"]]["Properties"]
    return props


def _log_group(scenario: Scenario, name: str) -> dict[str, Any]:
    group: dict[str, Any] = of_type(scenario.template, "AWS::Logs::LogGroup")[scenario.ids[f"{name}.logs"]]
    return group


def _execution_policy(scenario: Scenario, name: str) -> list[dict[str, Any]]:
    role = {"Ref": scenario.ids[f"{name}.execution"]}
    (policy,) = [p for p in of_type(scenario.template, "AWS::IAM::ManagedPolicy").values() if p["Properties"]["Roles"] == [role]]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


# --- ARCH-1 / CLI-5: the task definition ---------------------------------------------------


def test_cli5_family_size_and_fargate_settings(scenario: Scenario) -> None:
    """CLI-5 / ARCH-1: family, awsvpc, FARGATE, CPU/memory and runtime platform as given; Name tag = family."""
    td = _td(scenario, "web")
    assert td["Family"] == "my-task"
    assert (td["NetworkMode"], td["RequiresCompatibilities"]) == ("awsvpc", ["FARGATE"])
    assert (td["Cpu"], td["Memory"]) == ("512", "1024")
    assert td["RuntimePlatform"] == {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}
    assert tags_of({"Properties": td}) == {"Name": "my-task"}


def test_defaults_are_256_cpu_512_mib_x86_64(scenario: Scenario) -> None:
    td = _td(scenario, "anonymous")
    assert (td["Cpu"], td["Memory"]) == ("256", "512")
    assert td["RuntimePlatform"] == {"CpuArchitecture": "X86_64", "OperatingSystemFamily": "LINUX"}
    assert "Tags" not in td


def test_arch1_containers_as_declared(scenario: Scenario) -> None:
    """ARCH-1: image, port 80/tcp, essential, environment, command, container CPU/memory, in the order given."""
    app, sidecar = _td(scenario, "web")["ContainerDefinitions"]
    assert (app["Name"], app["Image"], app["Essential"]) == ("app", "nginx:1.27", True)
    assert app["PortMappings"] == [{"ContainerPort": 80, "Name": "app", "Protocol": "tcp"}]  # named for Service Connect
    assert app["Environment"] == [{"Name": "MODE", "Value": "production"}]
    assert (sidecar["Name"], sidecar["Image"], sidecar["Essential"]) == ("sidecar", "busybox:1.36", False)
    assert (sidecar["Command"], sidecar["Cpu"], sidecar["Memory"]) == (["sleep", "infinity"], 64, 128)
    assert "PortMappings" not in sidecar and "Environment" not in sidecar


# --- BP-3 / OBS-1: logs ---------------------------------------------------------------------


def test_obs1_log_group_name_as_given(scenario: Scenario) -> None:
    """OBS-1: the log group has the name given, with the retention given; a family alone names no group
    (a fixed name collides when a workload is renamed or re-added beside its retained group)."""
    assert _log_group(scenario, "web")["Properties"]["LogGroupName"] == "/ecs/my-task"
    assert _log_group(scenario, "web")["Properties"]["RetentionInDays"] == 90
    assert "LogGroupName" not in _log_group(scenario, "private")["Properties"]


def test_without_a_family_cloudformation_names_the_log_group(scenario: Scenario) -> None:
    group = _log_group(scenario, "anonymous")["Properties"]
    assert "LogGroupName" not in group
    assert group["RetentionInDays"] == 365
    family = _td(scenario, "anonymous")["Family"]
    assert family == scenario.tasks["anonymous"].task_definition.family
    assert family.startswith("TestAnonymousTaskDefinition")


def test_bp3_obs1_every_container_uses_awslogs_with_prefix_ecs(scenario: Scenario) -> None:
    """BP-3 / OBS-1: awslogs to the task's own group in the stack's region, stream prefix ecs."""
    for name in scenario.tasks:
        for container in _td(scenario, name)["ContainerDefinitions"]:
            assert container["LogConfiguration"] == {
                "LogDriver": "awslogs",
                "Options": {
                    "awslogs-group": {"Ref": scenario.ids[f"{name}.logs"]},
                    "awslogs-stream-prefix": "ecs",
                    "awslogs-region": "ap-northeast-1",
                },
            }, (name, container["Name"])


def test_sec3_log_groups_are_encrypted_with_the_given_key(scenario: Scenario) -> None:
    """SEC-3: KmsKeyId is the key passed in props; removal policy DESTROY by default."""
    for name in scenario.tasks:
        group = _log_group(scenario, name)
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [scenario.ids["key"], "Arn"]}
        assert group["DeletionPolicy"] == "Delete"


# --- BP-1 / IAM -----------------------------------------------------------------------------


def test_bp1_every_task_has_its_own_execution_and_task_role(scenario: Scenario) -> None:
    """BP-1: six distinct roles for three tasks; each definition points at its own pair."""
    seen = []
    for name in scenario.tasks:
        td = _td(scenario, name)
        assert td["ExecutionRoleArn"] == {"Fn::GetAtt": [scenario.ids[f"{name}.execution"], "Arn"]}
        assert td["TaskRoleArn"] == {"Fn::GetAtt": [scenario.ids[f"{name}.task"], "Arn"]}
        seen += [scenario.ids[f"{name}.execution"], scenario.ids[f"{name}.task"]]
    assert len(set(seen)) == 6
    scenario.template.resource_count_is("AWS::IAM::Role", 6)


def test_iam2_execution_role_writes_only_to_its_log_group(scenario: Scenario) -> None:
    """IAM-2: logs:CreateLogStream / PutLogEvents on the task's own group, nothing else."""
    assert _execution_policy(scenario, "web") == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [scenario.ids["web.logs"], "Arn"]},
        }
    ]


def test_iam1_iam3_execution_role_pulls_from_its_repository_and_reads_its_secret(scenario: Scenario) -> None:
    """IAM-1: ECR pull actions on the repository ARN, GetAuthorizationToken on '*'; IAM-3: the secret only."""
    statements = _execution_policy(scenario, "private")
    assert {
        "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [scenario.ids["repository"], "Arn"]},
    } in statements
    assert {"Action": "ecr:GetAuthorizationToken", "Effect": "Allow", "Resource": "*"} in statements
    assert {
        "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        "Effect": "Allow",
        "Resource": {"Ref": scenario.ids["secret"]},
    } in statements


def test_iam8_task_roles_start_without_permissions(scenario: Scenario) -> None:
    """IAM-8 / IAM-5: nothing is granted to a task role until the caller asks; no inline policy anywhere."""
    task_roles = [{"Ref": scenario.ids[f"{name}.task"]} for name in scenario.tasks]
    for policy in of_type(scenario.template, "AWS::IAM::ManagedPolicy").values():
        assert not [r for r in policy["Properties"]["Roles"] if r in task_roles]
    scenario.template.resource_count_is("AWS::IAM::Policy", 0)


def test_sec4_secret_is_injected_not_written_in_plain(scenario: Scenario) -> None:
    """SEC-4: the secret reaches the container through Secrets, not Environment."""
    (container,) = _td(scenario, "private")["ContainerDefinitions"]
    assert container["Secrets"] == [{"Name": "DB_PASSWORD", "ValueFrom": {"Ref": scenario.ids["secret"]}}]
    assert "Environment" not in container


# --- LIM-1 / LIM-2 --------------------------------------------------------------------------


def _task_with_environment_value(length: int, family: str) -> Any:
    app = new_app()
    stack = new_stack(app)
    FargateTask(
        stack,
        "Task",
        props=FargateTaskProps(
            family=family,
            encryption_key=kms.Key(stack, "Key"),
            containers=[ContainerProps(name="app", image=NGINX, environment={"BIG": "x" * length})],
        ),
    )
    return app


def test_lim1_fails_when_the_rendered_task_definition_exceeds_64_kib() -> None:
    """LIM-1: a 70,000-character environment value makes synthesis fail, naming the family and the limit."""
    app = _task_with_environment_value(70_000, "big-task")
    with pytest.raises(
        RuntimeError, match=r"(?s)task definition 'big-task' is 70,\d{3} bytes; ECS accepts at most 65,536 bytes \(64 KiB, LIM-1\)"
    ):
        app.synth()


def test_lim1_a_task_definition_just_under_64_kib_synthesizes() -> None:
    """LIM-1: 60,000 characters is under the limit; synthesis succeeds."""
    app = _task_with_environment_value(60_000, "large-task")
    assembly = app.synth()
    assert assembly.get_stack_by_name("Test").template["Resources"]


@pytest.mark.parametrize("count", [0, 11])
def test_fails_when_container_count_out_of_range(count: int) -> None:
    """LIM-2: 1 to 10 containers per task definition."""
    stack = new_stack()
    containers = [ContainerProps(name=f"c{i}", image=NGINX) for i in range(count)]
    with pytest.raises(
        ConstructError, match=rf"^Test/Task: containers: {count} containers; allowed: 1 to 10 per task definition \(LIM-2\)"
    ):
        FargateTask(stack, "Task", props=FargateTaskProps(encryption_key=kms.Key(stack, "Key"), containers=containers))


def test_ten_containers_are_accepted() -> None:
    """LIM-2: ten is the limit, not beyond it."""
    stack = new_stack()
    containers = [ContainerProps(name=f"c{i}", image=NGINX) for i in range(10)]
    task = FargateTask(stack, "Task", props=FargateTaskProps(encryption_key=kms.Key(stack, "Key"), containers=containers))
    assert [c.container_name for c in task.containers] == [f"c{i}" for i in range(10)]
