"""cdk-nag: AwsSolutions, NIST 800-53 R5, HIPAA Security and PCI DSS 3.2.1 run on every
synthesis; any unacknowledged finding fails it. These tests pin what is acknowledged, so
a new acknowledgement is a reviewed change, and prove each one matches a real finding."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from aws_cdk import Validations

from ecs_platform.app_builder import NAG_PACKS
from ecs_platform.constructs.acknowledge import CONTEXT_KEY
from ecs_platform.spec import load_spec
from tests.conftest import SPECS, Synthesized, synthesize
from tests.helpers import nag_findings

EXAMPLES = ("default", "production", "access", "batch", "web", "services", "ec2", "operations", "complete")

Finding = tuple[str, str]  # (rule ID, construct path)


#: Acknowledged rule IDs per example spec. Changing this set is a security review.
PINNED: dict[str, set[str]] = {
    "default": {
        # Internet-facing ALB: 0.0.0.0/0 on 80/443 is its purpose.
        "AwsSolutions-EC23",
        # The scheduler's dead-letter queue has no queue of its own.
        "AwsSolutions-SQS3",
        # Scheduler tags the tasks it starts: ecs:TagResource on this cluster's tasks.
        "AwsSolutions-IAM5[Resource::arn:aws:ecs:ap-northeast-1:<AWS::AccountId>:task/<ClusterC2E21B66>/*]",
        # Public subnets route to the internet gateway (ALB, NAT).
        *{f"{p}-VPCNoUnrestrictedRouteToIGW" for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")},
        # Closing the default SG needs a Lambda custom resource with an AWS managed policy.
        *{f"{p}-VPCDefaultSecurityGroupClosed" for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")},
        # Log buckets: log delivery writes SSE-S3 only; no replication of operational logs.
        *{
            f"{p}-{r}"
            for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
            for r in ("S3DefaultEncryptionKMS", "S3BucketReplicationEnabled")
        },
        # https: false in the default spec (no certificate).
        *{
            f"{p}-{r}"
            for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
            for r in ("ALBHttpToHttpsRedirection", "ELBv2ACMCertificateRequired")
        },
        # No web ACL named; not production (no deletion protection).
        "NIST.800.53.R5-ALBWAFEnabled",
        "PCI.DSS.321-ALBWAFEnabled",
        "NIST.800.53.R5-ELBDeletionProtectionEnabled",
        "HIPAA.Security-ELBDeletionProtectionEnabled",
    },
    "production": {
        "AwsSolutions-EC23",
        "AwsSolutions-SQS3",
        "AwsSolutions-IAM5[Resource::arn:aws:ecs:ap-northeast-1:111122223333:task/<ClusterC2E21B66>/*]",
        # ECR login token: no resource-level permission exists.
        "AwsSolutions-IAM5[Resource::*]",
        # Plain (non-secret) environment values; secrets go through container secrets.
        "AwsSolutions-ECS2",
        *{f"{p}-VPCNoUnrestrictedRouteToIGW" for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")},
        *{f"{p}-VPCDefaultSecurityGroupClosed" for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")},
        *{
            f"{p}-{r}"
            for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
            for r in ("S3DefaultEncryptionKMS", "S3BucketReplicationEnabled")
        },
        # The HTTP listener only redirects to HTTPS.
        *{f"{p}-ELBv2ACMCertificateRequired" for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")},
    },
}
#: Every integration of the access vocabulary adds only: '*' for the actions without
#: resource-level permissions (ECR token, X-Ray, Session Manager channels, PutMetricData
#: with its namespace condition) and the object keys under an S3 prefix.
PINNED["access"] = {
    *(PINNED["default"] - {"AwsSolutions-IAM5[Resource::arn:aws:ecs:ap-northeast-1:<AWS::AccountId>:task/<ClusterC2E21B66>/*]"}),
    "AwsSolutions-IAM5[Resource::arn:aws:ecs:ap-northeast-1:111122223333:task/<ClusterC2E21B66>/*]",
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-IAM5[Resource::arn:aws:s3:::orders-uploads/invoices/*]",
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_pack_ran_and_reports_no_unacknowledged_finding(name: str, synth: Callable[[str], Synthesized]) -> None:
    report = synth(name).validation_report()
    ran = {plugin["pluginName"] for plugin in report["pluginReports"]}
    assert {"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"} <= ran
    assert len(NAG_PACKS) == 4
    assert nag_findings(report, "violations") == Counter()


@pytest.mark.parametrize("name", EXAMPLES)
def test_acknowledged_rule_ids_are_pinned(name: str, synth: Callable[[str], Synthesized]) -> None:
    acknowledged = {rule for rule, _ in nag_findings(synth(name).validation_report(), "suppressedViolations")}
    assert acknowledged == PINNED[name]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_acknowledgement_matches_a_real_finding(name: str, synth: Callable[[str], Synthesized], tmp_path: Path) -> None:
    """Synthesized with acknowledgements off, the findings are exactly the acknowledged set:
    no acknowledgement is stale, none covers more than it names."""
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synthesize(load_spec(SPECS / f"{name}.yaml"), tmp_path, context={CONTEXT_KEY: "false"})
    unacknowledged = nag_findings(json.loads((tmp_path / "validation-report.json").read_text()), "violations")
    acknowledged = nag_findings(synth(name).validation_report(), "suppressedViolations")
    assert unacknowledged == acknowledged


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_acknowledgement_carries_a_reason(name: str, synth: Callable[[str], Synthesized]) -> None:
    """Each acknowledgement is recorded on its construct with a reason a reviewer can judge."""
    acknowledged = {
        rule: reason
        for construct in synth(name).stage.node.root.node.find_all()  # every stage: the shared one's too
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
        if not rule.startswith("CloudFormation-Validate::")  # CDK's own, for the literal AZ names
    }
    # A dead-letter queue acknowledges SQS3 (it has no dead-letter queue of its own) whether or not cdk-nag finds it:
    # a worker's is its queue's redrive target, which cdk-nag accepts; a schedule's is not.
    assert {rule.split("::", 1)[1] for rule in acknowledged} - {"AwsSolutions-SQS3"} == PINNED[name] - {"AwsSolutions-SQS3"}
    for rule, reason in acknowledged.items():
        assert len(reason) > 40, f"{rule}: reason too short to review: {reason!r}"


#: Batch work without a load balancer: the network's two, the dead-letter queues, tagging and
#: supervising this cluster's tasks, and the state machine's logging/tracing APIs on '*'.
PINNED["batch"] = {
    # A worker's containers find their queue in QUEUE_URL (a URL, not a secret).
    "AwsSolutions-ECS2",
    *{
        f"{p}-{r}"
        for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
        for r in ("VPCNoUnrestrictedRouteToIGW", "VPCDefaultSecurityGroupClosed")
    },
    "AwsSolutions-SQS3",
    "AwsSolutions-IAM5[Resource::arn:aws:ecs:ap-northeast-1:<AWS::AccountId>:task/<ClusterC2E21B66>/*]",
    "AwsSolutions-IAM5[Resource::*]",
}

#: HTTPS with a created certificate, not production, no WAF: the floor of an internet-facing
#: service — EC23 on the ALB's group, the redirect-only listener, the log buckets, the network.
PINNED["web"] = {
    "AwsSolutions-EC23",
    *{f"{p}-{r}" for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
      for r in ("VPCNoUnrestrictedRouteToIGW", "VPCDefaultSecurityGroupClosed", "S3DefaultEncryptionKMS", "S3BucketReplicationEnabled",
                "ELBv2ACMCertificateRequired")},
    "NIST.800.53.R5-ALBWAFEnabled", "PCI.DSS.321-ALBWAFEnabled",
    "NIST.800.53.R5-ELBDeletionProtectionEnabled", "HIPAA.Security-ELBDeletionProtectionEnabled",
}  # fmt: skip

#: Many services on a shared HTTPS ALB (specs/services.yaml): the web floor, plus '*' for the ELB
#: Describe* actions of the role ECS shifts traffic with (no resource-level permission exists), and
#: the certificate secrets ECS names itself for Service Connect TLS.
PINNED["services"] = {
    *PINNED["web"],
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-IAM5[Resource::arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:ecs-sc!*]",
}

#: EC2 capacity (specs/ec2.yaml): the HTTPS web floor, plus the instance and Managed Instances roles' resources ECS and
#: EC2 name themselves (container instances, tasks, task sets of this cluster; Managed Instances' launch templates,
#: fleets, instances, interfaces, volumes and AMIs), the agent's and Session Manager's actions without resource
#: scope, Auto Scaling notifications (the reservation alarm reports capacity that does not come) and IMDSv2 that
#: cdk-nag does not read in a launch template named by a mixed instances policy (the template requires it).
PINNED["ec2"] = {
    *PINNED["web"],
    # A worker's containers find their queue in QUEUE_URL (a URL, not a secret).
    "AwsSolutions-ECS2",
    "AwsSolutions-AS3",
    "AwsSolutions-EC26",
    "AwsSolutions-IAM5[Resource::*]",
    *(
        f"AwsSolutions-IAM5[Resource::arn:aws:ec2:ap-northeast-1:111122223333:{kind}/*]"
        for kind in ("fleet", "instance", "launch-template", "network-interface", "volume")
    ),
    "AwsSolutions-IAM5[Resource::arn:aws:ec2:ap-northeast-1::image/*]",
    *(
        f"AwsSolutions-IAM5[Resource::arn:aws:ecs:ap-northeast-1:111122223333:{kind}/<ClusterC2E21B66>/*]"
        for kind in ("container-instance", "task-set", "task")
    ),
    "HIPAA.Security-EC2IMDSv2Enabled",
    "NIST.800.53.R5-EC2IMDSv2Enabled",
}


#: Operations: the web example's findings, the Slack channel's read of the alarms, and the governance stack's
#: documented exceptions (AWS_ConfigRole, the prefixes Config and CloudTrail name their files under, replication).
PINNED["operations"] = {
    *PINNED["web"],
    # A worker's containers find their queue in QUEUE_URL (a URL, not a secret).
    "AwsSolutions-ECS2",
    # HTTP only (no domain in the example), as the default spec.
    *(f"{p}-ALBHttpToHttpsRedirection" for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")),
    # The job's schedule and its tasks' tags; the registry login for GuardDuty's agent (ecr:GetAuthorizationToken).
    "AwsSolutions-SQS3",
    "AwsSolutions-IAM5[Resource::arn:aws:ecs:ap-northeast-1:111122223333:task/<ClusterC2E21B66>/*]",
    "AwsSolutions-IAM5[Resource::*]",
    # AWS Chatbot describes the alarms its messages are about.
    "AwsSolutions-IAM5[Resource::arn:aws:cloudwatch:ap-northeast-1:111122223333:alarm:*]",
    # AWS Config: its documented role policy, and the files it names under its prefix.
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole]",
    "AwsSolutions-IAM5[Resource::<GovernanceLogsDCF0B7AA.Arn>/config/AWSLogs/111122223333/*]",
    # The trail's events go to S3 only unless trail_to_cloudwatch_logs (a second bill per GB).
    *(f"{p}-CloudTrailCloudWatchLogsEnabled" for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")),
}

#: A real application (issue 15): production's findings but the HTTP redirect's, the prefixes the workloads and the
#: log router write under, the stores' backups (their services' own, not an AWS Backup plan) and replication, and the
#: Aurora monitoring streams.
_PACKS = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
PINNED["complete"] = {
    "AwsSolutions-SQS3",
    "AwsSolutions-IAM5[Resource::arn:aws:ecs:ap-northeast-1:111122223333:task/<ClusterC2E21B66>/*]",
    # ECR login token and X-Ray (the tracing sidecar): no resource-level permission exists.
    "AwsSolutions-IAM5[Resource::*]",
    # The queue URLs and topic ARNs producers are told (not secrets), the collector's OTLP endpoint.
    "AwsSolutions-ECS2",
    # Objects under the prefixes the access entries and the log router name.
    *(f"AwsSolutions-IAM5[Resource::<StoreuploadsBucket47A62822.Arn>/{prefix}/*]" for prefix in ("incoming", "logs/api", "reports")),
    # Enhanced Monitoring names each stream after the DB instance's resource ID.
    "AwsSolutions-IAM5[Resource::arn:aws:logs:ap-northeast-1:111122223333:log-group:RDSOSMetrics:log-stream:*]",
    *(f"{p}-{r}" for p in _PACKS for r in ("VPCNoUnrestrictedRouteToIGW", "VPCDefaultSecurityGroupClosed")),
    # Log buckets write SSE-S3; the uploads bucket's replication is the owner's choice of a second region.
    *(f"{p}-{r}" for p in _PACKS for r in ("S3DefaultEncryptionKMS", "S3BucketReplicationEnabled")),
    # The HTTP listener only redirects to HTTPS; no web ACL named.
    *(f"{p}-ELBv2ACMCertificateRequired" for p in _PACKS),
    "NIST.800.53.R5-ALBWAFEnabled",
    "PCI.DSS.321-ALBWAFEnabled",
    # DynamoDB point-in-time recovery, Aurora's automated backups, EFS's automatic backups: no AWS Backup plan.
    *(f"{p}-{r}" for p in ("NIST.800.53.R5", "HIPAA.Security") for r in ("DynamoDBInBackupPlan", "RDSInBackupPlan", "EFSInBackupPlan")),
}
