#!/usr/bin/env python3
"""The stock aws_ecs_patterns equivalent of specs/default.yaml: the benchmarks' yardstick.

The same workloads (a web service of two nginx tasks behind an ALB, a daily batch job) and the
same feature flags as `make synth`, built the way the CDK's own patterns build them: one stack,
no spec, no cdk-nag. bench/synth_end_to_end.py runs this file through the CDK CLI;
bench/synth_vs_stock.py imports :func:`stock_app`.
"""

from __future__ import annotations

from aws_cdk import App, Environment, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as patterns

from ecs_platform.context import FEATURE_FLAGS


def stock_app(outdir: str | None = None) -> App:
    app = App(context=dict(FEATURE_FLAGS), outdir=outdir)
    stack = Stack(app, "Stock", env=Environment(region="ap-northeast-1"))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    cluster = ecs.Cluster(stack, "Cluster", vpc=vpc)
    patterns.ApplicationLoadBalancedFargateService(
        stack,
        "Web",
        cluster=cluster,
        cpu=256,
        memory_limit_mib=512,
        desired_count=2,
        task_image_options=patterns.ApplicationLoadBalancedTaskImageOptions(image=ecs.ContainerImage.from_registry("nginx:latest")),
    )
    patterns.ScheduledFargateTask(
        stack,
        "Job",
        cluster=cluster,
        schedule=appscaling.Schedule.cron(minute="0", hour="3"),
        scheduled_fargate_task_image_options=patterns.ScheduledFargateTaskImageOptions(
            image=ecs.ContainerImage.from_registry("busybox"), cpu=256, memory_limit_mib=512
        ),
    )
    return app


if __name__ == "__main__":
    stock_app().synth()
