"""AppTopic and QueueWorker.grant_send: producers and consumers of the platform's own topics and worker queues
(issue 15; IAM-5 exact grants, IAM-6 confused deputy, SEC-3 customer-managed keys)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from ecs_platform.constructs import (
    AppTopic,
    AppTopicProps,
    Cluster,
    ClusterProps,
    ConstructError,
    ContainerProps,
    EncryptionKey,
    EncryptionKeyProps,
    QueueWorker,
    QueueWorkerProps,
    TaskRole,
)
from ecs_platform.constructs.acknowledge import acknowledge, acknowledge_rule
from tests.unit.support import ACCOUNT, REGION, logical_id, nag_app, new_app, new_stack, of_type, plain_vpc, synth

BUSYBOX = ecs.ContainerImage.from_registry("busybox:1.36")
SNS = "sns.amazonaws.com"


@dataclass
class Scenario:
    template: Template
    ids: dict[str, str]
    report: dict[str, Any]


def _worker(stack: Stack, log_key: kms.IKey, messaging_key: kms.IKey) -> QueueWorker:
    vpc = plain_vpc(stack)
    acknowledge(vpc, "AwsSolutions-VPC7", "Test fixture: the VPC is not under review here.")
    for rule in ("VPCFlowLogsEnabled", "VPCDefaultSecurityGroupClosed"):
        acknowledge_rule(vpc, rule, "Test fixture: the VPC is not under review here.")
    cluster = Cluster(stack, "Cluster", props=ClusterProps(vpc=vpc)).cluster
    return QueueWorker(
        stack,
        "Worker",
        props=QueueWorkerProps(
            cluster=cluster,
            encryption_key=log_key,
            messaging_key=messaging_key,
            vpc_subnets=ec2.SubnetSelection(subnet_group_name="Private"),
            containers=[ContainerProps(name="worker", image=BUSYBOX)],
        ),
    )


def _fifo_queue(stack: Stack, construct_id: str, key: kms.IKey) -> sqs.Queue:
    queue = sqs.Queue(stack, construct_id, fifo=True, encryption=sqs.QueueEncryption.KMS, encryption_master_key=key, enforce_ssl=True)
    acknowledge(queue, "AwsSolutions-SQS3", "Test fixture: a FIFO queue a topic delivers to; its dead-letter queue is not under test.")
    return queue


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given, in one stack with the cdk-nag packs registered, a log key, a messaging key and:

    - a queue worker (its own queue, encrypted with the messaging key);
    - ``orders``: a standard topic subscribed by the worker's queue, filtered on ``kind`` in created/paid, raw;
    - ``ledger.fifo``: a FIFO topic, content-based deduplication, subscribed by a FIFO queue (the queue's own key
      found from the queue), with SNS's envelope;
    - a publisher task role granted publishing to ``orders``, and a sender task role granted sending to the worker.
    """
    app = nag_app()
    stack = new_stack(app)
    log_key = EncryptionKey(stack, "LogKey", props=EncryptionKeyProps(description="logs"))
    messaging_key = EncryptionKey(stack, "MessagingKey", props=EncryptionKeyProps(description="messages", for_log_groups=False))
    worker = _worker(stack, log_key, messaging_key)
    orders = AppTopic(stack, "Orders", props=AppTopicProps(topic_name="orders", encryption_key=messaging_key))
    orders.subscribe_queue(worker.queue, worker.queue_key, filter_policy={"kind": ["created", "paid"]})
    ledger = AppTopic(
        stack,
        "Ledger",
        props=AppTopicProps(topic_name="ledger.fifo", encryption_key=messaging_key, fifo=True, content_based_deduplication=True),
    )
    ledger_queue = _fifo_queue(stack, "LedgerQueue", messaging_key)
    ledger.subscribe_queue(ledger_queue, raw_message_delivery=False)
    publisher = TaskRole(stack, "Publisher")
    orders.grant_publish(publisher)
    sender = TaskRole(stack, "Sender")
    worker.grant_send(sender)
    assert worker.queue_key is messaging_key
    ids = {
        "orders": logical_id(orders),
        "ledger": logical_id(ledger),
        "key": logical_id(messaging_key),
        "queue": logical_id(worker.queue),
        "ledger_queue": logical_id(ledger_queue),
        "publisher": logical_id(publisher),
        "sender": logical_id(sender),
    }
    # When synthesized (the packs' findings are errors: synthesis itself proves nag-clean)
    assembly = app.synth()
    template = Template.from_json(assembly.get_stack_artifact(stack.artifact_id).template)
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    return Scenario(template, ids, report)


def _policy_statements(template: Template, role_id: str) -> list[dict[str, Any]]:
    (policy,) = [p for p in of_type(template, "AWS::IAM::ManagedPolicy").values() if p["Properties"]["Roles"] == [{"Ref": role_id}]]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def _queue_policy(template: Template, queue_id: str) -> tuple[str, dict[str, Any]]:
    ((policy_id, policy),) = [
        (k, v) for k, v in of_type(template, "AWS::SQS::QueuePolicy").items() if v["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    return policy_id, policy


def _key_arn(scenario: Scenario) -> dict[str, Any]:
    return {"Fn::GetAtt": [scenario.ids["key"], "Arn"]}


def _by_name(name: str) -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"


def _sns_statements(policy_document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in policy_document["Statement"] if s.get("Principal") == {"Service": SNS}]


# --- the topic -----------------------------------------------------------------------------------


def test_sec3_topics_are_named_and_encrypted_with_the_customer_managed_key(scenario: Scenario) -> None:
    """SEC-3: each topic has its name and the messaging key; the FIFO topic is FIFO with content-based deduplication."""
    topics = of_type(scenario.template, "AWS::SNS::Topic")
    orders = topics[scenario.ids["orders"]]["Properties"]
    ledger = topics[scenario.ids["ledger"]]["Properties"]
    assert orders["TopicName"] == "orders" and orders["KmsMasterKeyId"] == _key_arn(scenario)
    assert "FifoTopic" not in orders and "ContentBasedDeduplication" not in orders
    assert ledger["TopicName"] == "ledger.fifo" and ledger["KmsMasterKeyId"] == _key_arn(scenario)
    assert ledger["FifoTopic"] is True and ledger["ContentBasedDeduplication"] is True


def test_topic_policy_only_denies_publishing_without_tls(scenario: Scenario) -> None:
    """The topic policy (which replaces SNS's default) denies publishing without TLS and allows nothing: this
    account's roles publish through their own policies, nobody else may."""
    for name in ("orders", "ledger"):
        (policy,) = [
            p
            for p in of_type(scenario.template, "AWS::SNS::TopicPolicy").values()
            if p["Properties"]["Topics"] == [{"Ref": scenario.ids[name]}]
        ]
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
        assert statement["Action"] == "sns:Publish" and statement["Resource"] == {"Ref": scenario.ids[name]}
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# --- publishers and senders ----------------------------------------------------------------------


def test_iam5_a_publisher_may_publish_to_the_topic_and_use_its_key_through_sns_only(scenario: Scenario) -> None:
    """IAM-5: exactly sns:Publish on the topic, and Decrypt/GenerateDataKey on the topic's key via SNS in this region."""
    assert _policy_statements(scenario.template, scenario.ids["publisher"]) == [
        {"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": scenario.ids["orders"]}},
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": {"StringEquals": {"kms:ViaService": f"sns.{REGION}.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": _key_arn(scenario),
        },
    ]


def test_iam5_a_sender_may_send_to_the_workers_queue_and_use_its_key_through_sqs_only(scenario: Scenario) -> None:
    """IAM-5: exactly sqs:SendMessage on the worker's queue (no GetQueueUrl: the URL is given), and
    Decrypt/GenerateDataKey on the queue's key via SQS in this region."""
    assert _policy_statements(scenario.template, scenario.ids["sender"]) == [
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": {"Fn::GetAtt": [scenario.ids["queue"], "Arn"]}},
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": _key_arn(scenario),
        },
    ]


# --- subscriptions -------------------------------------------------------------------------------


def test_the_workers_queue_subscribes_to_orders_raw_and_filtered(scenario: Scenario) -> None:
    """The subscription delivers raw messages whose ``kind`` is created or paid, to the worker's queue, after its policy."""
    subscriptions = {
        k: v
        for k, v in of_type(scenario.template, "AWS::SNS::Subscription").items()
        if v["Properties"]["TopicArn"] == {"Ref": scenario.ids["orders"]}
    }
    ((_, subscription),) = subscriptions.items()
    assert subscription["Properties"] == {
        "Protocol": "sqs",
        "TopicArn": {"Ref": scenario.ids["orders"]},
        "Endpoint": {"Fn::GetAtt": [scenario.ids["queue"], "Arn"]},
        "FilterPolicy": {"kind": ["created", "paid"]},
        "RawMessageDelivery": True,
    }
    policy_id, _ = _queue_policy(scenario.template, scenario.ids["queue"])
    assert policy_id in subscription["DependsOn"]


def test_the_fifo_queue_subscribes_to_the_fifo_topic_with_the_envelope(scenario: Scenario) -> None:
    """Without raw delivery the queue receives SNS's JSON envelope; no filter policy when none is given."""
    ((_, subscription),) = [
        (k, v)
        for k, v in of_type(scenario.template, "AWS::SNS::Subscription").items()
        if v["Properties"]["TopicArn"] == {"Ref": scenario.ids["ledger"]}
    ]
    props = subscription["Properties"]
    assert props["Endpoint"] == {"Fn::GetAtt": [scenario.ids["ledger_queue"], "Arn"]}
    assert props["RawMessageDelivery"] is False and "FilterPolicy" not in props


@pytest.mark.parametrize(("queue", "topic"), [("queue", "orders"), ("ledger_queue", "ledger")])
def test_iam6_a_queue_lets_sns_send_for_its_topic_only(scenario: Scenario, queue: str, topic: str) -> None:
    """IAM-6: the queue's policy allows SNS sqs:SendMessage on this queue, only from its topic of this account;
    the rest of the policy only denies non-TLS requests."""
    _, policy = _queue_policy(scenario.template, scenario.ids[queue])
    document = policy["Properties"]["PolicyDocument"]
    assert _sns_statements(document) == [
        {
            "Action": "sqs:SendMessage",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": {"Ref": scenario.ids[topic]}}},
            "Effect": "Allow",
            "Principal": {"Service": SNS},
            "Resource": {"Fn::GetAtt": [scenario.ids[queue], "Arn"]},
        }
    ]
    assert [s["Effect"] for s in document["Statement"] if s not in _sns_statements(document)] == ["Deny"]


def test_iam6_the_queues_key_lets_sns_use_it_for_the_subscribed_topics_only(scenario: Scenario) -> None:
    """IAM-6, SEC-3: the queues' key lets SNS generate and decrypt data keys, once per topic, each statement limited to
    that topic of this account (named by its ARN, not a reference, so a key of another stack makes no cycle)."""
    key = of_type(scenario.template, "AWS::KMS::Key")[scenario.ids["key"]]
    statements = _sns_statements(key["Properties"]["KeyPolicy"])
    assert statements == [
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": _by_name(name)}},
            "Effect": "Allow",
            "Principal": {"Service": SNS},
            "Resource": "*",
        }
        for name in ("orders", "ledger.fifo")
    ]


def test_synthesis_is_nag_clean_without_acknowledgements_of_the_topics(scenario: Scenario) -> None:
    """Every pack ran with no unacknowledged finding, and nothing of the topics, subscriptions or grants is acknowledged
    (only the test fixture's VPC and FIFO queue are, and the worker's QUEUE_URL environment variable, AwsSolutions-ECS2)."""
    reports = scenario.report["pluginReports"]
    assert {"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"} <= {p["pluginName"] for p in reports}
    assert [v for p in reports for v in p.get("violations", [])] == []
    acknowledged = {c["constructPath"] for p in reports for v in p.get("suppressedViolations", []) for c in v["violatingConstructs"]}
    assert all(path.startswith(("Test/Vpc", "Test/LedgerQueue", "Test/Worker/Task/TaskDefinition")) for path in acknowledged), sorted(
        acknowledged
    )


def test_the_queue_worker_keeps_its_key_without_grant_send() -> None:
    """A worker nobody sends to grants nothing to anyone but itself: no statement names sqs:SendMessage."""
    app = new_app()
    stack = new_stack(app)
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="logs and messages"))
    worker = _worker(stack, key, key)
    assert worker.queue_key is key
    (template,) = synth(app, stack)
    actions = json.dumps([p["Properties"]["PolicyDocument"] for p in of_type(template, "AWS::IAM::ManagedPolicy").values()])
    assert "sqs:SendMessage" not in actions


# --- stacks --------------------------------------------------------------------------------------


def test_a_key_a_topic_and_a_queue_in_three_stacks_form_no_cycle() -> None:
    """The key (platform stack), the topic (topics stack) and the subscribed queue (workers stack): the workers'
    stack refers to the topic and the key, the topics' to the key, and the key's stack to nobody (its SNS
    statement names the topic by ARN): synthesis succeeds with those dependencies only."""
    app = new_app()
    platform, topics, workers = (new_stack(app, name) for name in ("Platform", "Topics", "Workers"))
    key = EncryptionKey(platform, "MessagingKey", props=EncryptionKeyProps(description="messages", for_log_groups=False))
    topic = AppTopic(topics, "Orders", props=AppTopicProps(topic_name="orders", encryption_key=key))
    queue = sqs.Queue(workers, "Queue", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key, enforce_ssl=True)
    topic.subscribe_queue(queue)
    publisher = TaskRole(workers, "Publisher")
    topic.grant_publish(publisher)
    platform_template, topics_template, workers_template = synth(app, platform, topics, workers)
    assert platform.dependencies == []
    assert topics.dependencies == [platform]
    assert set(workers.dependencies) == {platform, topics}
    topics_template.resource_count_is("AWS::SNS::Subscription", 0)
    workers_template.resource_count_is("AWS::SNS::Subscription", 1)
    (key_resource,) = of_type(platform_template, "AWS::KMS::Key").values()
    (statement,) = _sns_statements(key_resource["Properties"]["KeyPolicy"])
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == _by_name("orders")


# --- refusals ------------------------------------------------------------------------------------


def _stack() -> tuple[App, Stack, kms.Key]:
    app = new_app()
    stack = new_stack(app)
    return app, stack, kms.Key(stack, "Key")


@pytest.mark.parametrize(
    ("name", "fifo", "message"),
    [
        ("", False, "is not a standard topic name"),
        ("bad name", False, "is not a standard topic name"),
        ("x" * 257, False, "is not a standard topic name"),
        ("orders.fifo", False, "(no '.fifo' suffix)"),
        ("orders", True, "is not a FIFO topic name"),
        ("x" * 252 + ".fifo", True, "1-251 of [A-Za-z0-9_-] followed by '.fifo'"),
    ],
)
def test_fails_when_the_topic_name_breaks_snss_rules(name: str, fifo: bool, message: str) -> None:
    """Topic names: 1-256 of [A-Za-z0-9_-], with '.fifo' (counted) if and only if the topic is FIFO."""
    _, stack, key = _stack()
    with pytest.raises(ConstructError, match=r"Test/Topic: topic_name: .*" + re.escape(message)):
        AppTopic(stack, "Topic", props=AppTopicProps(topic_name=name, encryption_key=key, fifo=fifo))


def test_the_longest_topic_names_are_accepted() -> None:
    """256 characters, the '.fifo' suffix included, is the longest name of either kind."""
    _, stack, key = _stack()
    AppTopic(stack, "Standard", props=AppTopicProps(topic_name="x" * 256, encryption_key=key))
    AppTopic(stack, "Fifo", props=AppTopicProps(topic_name="x" * 251 + ".fifo", encryption_key=key, fifo=True))


def test_fails_when_a_standard_topic_asks_for_content_based_deduplication() -> None:
    """Content-based deduplication is a FIFO topic's feature; the refusal names the construct."""
    _, stack, key = _stack()
    with pytest.raises(ConstructError, match="content_based_deduplication: true on a standard topic; allowed: with fifo only"):
        AppTopic(stack, "Topic", props=AppTopicProps(topic_name="orders", encryption_key=key, content_based_deduplication=True))


def test_fails_when_fifo_and_standard_are_mixed() -> None:
    """SNS delivers a standard topic's messages to standard queues only; a FIFO topic's go to FIFO queues only here
    (their order and deduplication would be lost otherwise)."""
    _, stack, key = _stack()
    standard = AppTopic(stack, "Orders", props=AppTopicProps(topic_name="orders", encryption_key=key))
    fifo = AppTopic(stack, "Ledger", props=AppTopicProps(topic_name="ledger.fifo", encryption_key=key, fifo=True))
    fifo_queue = _fifo_queue(stack, "FifoQueue", key)
    standard_queue = sqs.Queue(stack, "StandardQueue", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key)
    with pytest.raises(
        ConstructError, match=r"Test/Orders: subscribe_queue: Test/FifoQueue is a FIFO queue; allowed: standard queues only"
    ):
        standard.subscribe_queue(fifo_queue)
    with pytest.raises(
        ConstructError, match=r"Test/Ledger: subscribe_queue: Test/StandardQueue is a standard queue; allowed: FIFO queues only"
    ):
        fifo.subscribe_queue(standard_queue)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({}, "is not a map"),
        ([("kind", ["a"])], "is not a map"),
        ({"kind": "created"}, "kind: 'created' is not a list of strings"),
        ({"kind": []}, "kind: \\[\\] is not a list of strings"),
        ({"kind": ["created", 1]}, "has a value that is not a string"),
        ({"AWS.kind": ["a"]}, "attribute name 'AWS.kind' is invalid"),
        ({"bad name": ["a"]}, "attribute name 'bad name' is invalid"),
        ({f"k{i}": ["a"] for i in range(6)}, "6 attributes; allowed: at most 5"),
        ({"a": [str(i) for i in range(13)], "b": [str(i) for i in range(12)]}, "156 combinations of values; allowed: at most 150"),
    ],
)
def test_fails_when_the_filter_policy_is_not_attribute_names_to_string_lists(policy: Any, message: str) -> None:
    """A filter policy is a non-empty map of valid message attribute names to non-empty lists of strings, within SNS's
    limits of 5 attributes and 150 combinations of values."""
    _, stack, key = _stack()
    topic = AppTopic(stack, "Orders", props=AppTopicProps(topic_name="orders", encryption_key=key))
    queue = sqs.Queue(stack, "Queue", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key)
    with pytest.raises(ConstructError, match=f"Test/Orders: filter_policy: .*{message}"):
        topic.subscribe_queue(queue, filter_policy=policy)


def test_fails_when_the_queue_or_its_key_is_imported() -> None:
    """SNS could not deliver to a queue whose policy, or whose key's policy, this app cannot write."""
    _, stack, key = _stack()
    topic = AppTopic(stack, "Orders", props=AppTopicProps(topic_name="orders", encryption_key=key))
    imported = sqs.Queue.from_queue_arn(stack, "Imported", f"arn:aws:sqs:{REGION}:{ACCOUNT}:elsewhere")
    with pytest.raises(
        ConstructError, match="Test/Imported is imported, its policy cannot let this topic send; allowed: a queue of this app"
    ):
        topic.subscribe_queue(imported)
    queue = sqs.Queue(stack, "Queue")
    foreign = kms.Key.from_key_arn(stack, "Foreign", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000")
    with pytest.raises(ConstructError, match="the queue's key Test/Foreign is imported, its policy cannot let SNS use it"):
        topic.subscribe_queue(queue, foreign)


def test_fails_when_a_queue_subscribes_twice() -> None:
    """One subscription per topic and queue: a second would deliver every message twice."""
    _, stack, key = _stack()
    topic = AppTopic(stack, "Orders", props=AppTopicProps(topic_name="orders", encryption_key=key))
    queue = sqs.Queue(stack, "Queue", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key)
    topic.subscribe_queue(queue)
    with pytest.raises(ConstructError, match="Test/Queue is subscribed already; allowed: once per queue"):
        topic.subscribe_queue(queue, filter_policy={"kind": ["paid"]})
