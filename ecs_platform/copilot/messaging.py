"""Topics and subscriptions: each worker's ``subscribe.topics`` joined to the topic its service publishes.

Copilot names a topic by its service and name (``api`` publishes ``orders``); here it is the topic ``api-orders`` of
``topics:``, the publishing service its publisher and the worker a subscriber. SNS filter policies are kept where the
spec can say them (attributes matched against lists of exact strings); an attribute matched by an operator
(anything-but, numeric, prefix, exists) is dropped, so the worker receives more messages, never fewer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ecs_platform.copilot.manifests import Manifest
from ecs_platform.copilot.report import Recorder, Status
from ecs_platform.copilot.target import Shared
from ecs_platform.copilot.task import topic_name
from ecs_platform.copilot.values import spec_name


def topic_names(manifests: Sequence[Manifest]) -> dict[tuple[str, str], str]:
    """(Copilot service, topic) -> the spec's topic name: the topic's own name where no other service has a topic
    of that name (Copilot names a topic by both), ``<service>-<topic>`` where two would collide."""
    pairs: set[tuple[str, str]] = set()
    for m in manifests:
        service = str(m.data.get("name") or m.name)
        publish = m.data.get("publish")
        for topic in (publish.get("topics") if isinstance(publish, Mapping) else None) or []:
            if isinstance(topic, Mapping) and topic.get("name"):
                pairs.add((service, str(topic["name"])))
        subscribe = m.data.get("subscribe")
        for topic in (subscribe.get("topics") if isinstance(subscribe, Mapping) else None) or []:
            if isinstance(topic, Mapping) and topic.get("name") and topic.get("service"):
                pairs.add((str(topic["service"]), str(topic["name"])))
    plain = Counter(spec_name(topic) for _, topic in pairs)
    return {(s, topic): spec_name(topic) if plain[spec_name(topic)] == 1 else topic_name(s, topic) for s, topic in sorted(pairs)}


def subscriptions(shared: Shared, recorders: Mapping[str, Recorder], at: Mapping[str, str], names: Mapping[tuple[str, str], str]) -> None:
    """Add each worker's subscriptions to the spec's topics and report ``subscribe.topics`` of each worker.
    ``recorders`` and ``at`` are by worker name: its manifest's recorder, and how the report names its place."""
    by_worker: dict[str, list[tuple[Status, str, str]]] = {}
    for worker, topic, service, policy in shared.subscriptions:
        name = names.get((service, topic)) or topic_name(service, topic)
        entry = shared.topics.setdefault(name, {"name": name, "publishers": [], "subscribers": []})
        kept, dropped = filter_policy(policy)
        subscriber: dict[str, Any] = {"worker": worker, "raw_message_delivery": False}
        if kept:
            subscriber["filter_policy"] = kept
        entry["subscribers"].append(subscriber)
        status: Status = "approximated" if dropped or not entry["publishers"] else "mapped"
        note = f"topics[{name}] ({service}'s {topic})"
        if kept:
            note += f" with filter_policy {kept}"
        if dropped:
            note += (
                f"; filter on {', '.join(dropped)} dropped (SNS operators the spec cannot say): "
                "the worker gets those messages too and must skip them"
            )
        if not entry["publishers"]:
            note += f"; no workload of the workspace publishes it ({service} has no publish.topics {topic}): the topic has no publisher"
        by_worker.setdefault(worker, []).append((status, note, name))
    for worker, found in by_worker.items():
        worst: Status = "approximated" if any(s == "approximated" for s, _, _ in found) else "mapped"
        notes = "; ".join(n for _, n, _ in found)
        recorders[worker].add(
            "subscribe.topics",
            worst,
            f"{notes}; subscribed to {at[worker]}'s queue in the SNS envelope (raw_message_delivery: false), as Copilot delivered",
        )


def filter_policy(policy: Mapping[str, Any]) -> tuple[dict[str, list[str]], list[str]]:
    """The attributes matched by exact strings (kept) and the others (dropped: dropping an attribute of an AND only
    lets more messages through)."""
    kept: dict[str, list[str]] = {}
    dropped: list[str] = []
    for attribute, values in policy.items():
        if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
            kept[str(attribute)] = list(values)
        elif isinstance(values, str):
            kept[str(attribute)] = [values]
        else:
            dropped.append(str(attribute))
    return kept, dropped
