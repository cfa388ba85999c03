"""Target tracking on a metric-math expression, which CDK's L2 scaling does not take.

Queue workers track visible messages per running task; blue/green web services track
requests per target summed over both target groups (either may be the live one).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from constructs import Construct

_Policy = appscaling.CfnScalingPolicy


def track_metric_math(
    scope: Construct,
    construct_id: str,
    *,
    scaling: ecs.ScalableTaskCount,
    target_value: float,
    expression: str,
    metrics: Mapping[str, cloudwatch.Metric],
    label: str,
    scale_in_cooldown: Duration = Duration.minutes(5),
    scale_out_cooldown: Duration = Duration.minutes(1),
) -> appscaling.CfnScalingPolicy:
    """A target-tracking policy on ``scaling`` that keeps ``expression`` (over ``metrics``, by id) near ``target_value``."""
    (target,) = [c for c in scaling.node.find_all() if isinstance(c, appscaling.CfnScalableTarget)]
    queries = [
        _Policy.TargetTrackingMetricDataQueryProperty(
            id=query_id,
            return_data=False,
            metric_stat=_Policy.TargetTrackingMetricStatProperty(
                stat=metric.statistic,
                metric=_Policy.TargetTrackingMetricProperty(
                    namespace=metric.namespace,
                    metric_name=metric.metric_name,
                    dimensions=[
                        _Policy.TargetTrackingMetricDimensionProperty(name=name, value=value)
                        for name, value in (metric.dimensions or {}).items()
                    ],
                ),
            ),
        )
        for query_id, metric in metrics.items()
    ]
    return appscaling.CfnScalingPolicy(
        scope,
        construct_id,
        policy_name=f"{scope.node.path.replace('/', '-')}-{construct_id}"[-256:],
        policy_type="TargetTrackingScaling",
        scaling_target_id=target.ref,
        target_tracking_scaling_policy_configuration=_Policy.TargetTrackingScalingPolicyConfigurationProperty(
            target_value=target_value,
            scale_in_cooldown=scale_in_cooldown.to_seconds(),
            scale_out_cooldown=scale_out_cooldown.to_seconds(),
            customized_metric_specification=_Policy.CustomizedMetricSpecificationProperty(
                metrics=[
                    *queries,
                    _Policy.TargetTrackingMetricDataQueryProperty(id="result", expression=expression, label=label, return_data=True),
                ]
            ),
        ),
    )


def math_expression(expression: str, metrics: Mapping[str, cloudwatch.Metric], label: str, period: Duration) -> cloudwatch.MathExpression:
    """The same expression as a CloudWatch metric, for alarms and dashboards."""
    return cloudwatch.MathExpression(expression=expression, using_metrics=dict(metrics), label=label, period=period)
