"""One workload manifest -> one entry of the spec's ``services``, ``workers`` or ``jobs``, every field reported.

Each kind runs the families it has, in the manifest reference's order: Load Balanced Web Service (a service with a
public ALB of its own), Backend Service (an internal service: Service Connect, or an internal ALB with ``http``),
Worker Service (a queue worker and its topic subscriptions), Scheduled Job (a job on a schedule).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_platform.copilot import containers, storage, task, traffic
from ecs_platform.copilot.manifests import BACKEND, JOB, WEB, WORKER
from ecs_platform.copilot.report import Recorder
from ecs_platform.copilot.target import Context, Target
from ecs_platform.copilot.values import schedule, spec_name, whole_seconds

KIND = {WEB: "services", BACKEND: "services", WORKER: "workers", JOB: "jobs"}
DESCRIPTION = {
    WEB: "a service",
    BACKEND: "an internal service",
    WORKER: "a queue worker (its own KMS-encrypted queue with a dead-letter queue; its containers find the queue's URL in "
    "QUEUE_URL, where Copilot's read COPILOT_QUEUE_URI)",
    JOB: "a job (EventBridge Scheduler runs it; ecs-platform run-task starts it on demand)",
}


def workload(kind: str, copilot_name: str, m: Mapping[str, Any], ctx: Context, rec: Recorder) -> Target:
    """The spec entry of workload manifest ``m`` (already merged with the environment's values, if any)."""
    name = ctx.names[copilot_name]
    t = Target(KIND[kind], name, {"name": name, "containers": [{"name": name}]}, ctx)
    if "name" in m:
        renamed = name != m["name"]
        note = f": {name} (spec names are unique, lowercase letters, digits and '-')" if renamed else ""
        rec.add("name", "approximated" if renamed else "mapped", t.at("name") + note)
    sidecars = containers.sidecars(m, t, rec)
    containers.image(m, t, rec)
    containers.command(m, t.main, t, rec)
    if "variables" in m:
        containers.variables(m["variables"], t.main, t, rec, "variables")
    if "secrets" in m:
        containers.secrets(m["secrets"], t.main, t, rec, "secrets")
    task.env_file(m, rec)
    task.size(m, t, rec)
    task.platform(m, t, rec)
    task.exec_access(m, t, rec)
    storage.storage(m, t, rec, sidecars)
    storage.logging(m, t, rec)
    task.observability(m, t, rec)
    task.taskdef_overrides(m, t, rec)
    task.network(m, t, rec)
    task.publish(m, t, rec, copilot_name)
    notes = []
    if kind in (WEB, BACKEND):
        notes.append(_service(kind, m, t, rec, sidecars))
    elif kind == WORKER:
        traffic.worker_count(m, t, rec)
        traffic.deployment(m, t, rec)
        subscribe(m, t, rec)
    else:
        job(m, t, rec)
    exact = all(ok for _, ok in notes)
    text = f"{t.kind}[{name}]: {DESCRIPTION[kind]}" + "".join(f"; {n}" for n, _ in notes)
    if not (isinstance(m.get("storage"), Mapping) and "readonly_fs" in m["storage"]):
        text += (
            "; root file system read-only with a writable /tmp (the platform's default; Copilot's was writable: add "
            "writable_paths where the app writes, or readonly_root_filesystem: false)"
        )
        exact = False
    rec.add("type", "mapped" if exact else "approximated", text)
    return t


def _service(kind: str, m: Mapping[str, Any], t: Target, rec: Recorder, sidecars: Mapping[str, str]) -> tuple[str, bool]:
    has_lb = traffic.load_balancer(m, t, rec, public=kind == WEB, sidecars=sidecars)
    traffic.nlb(m, rec)
    t.service_connect = traffic.connect(m, t, rec, has_lb=has_lb)
    if "count" not in m:
        t.entry["desired_count"] = 2 if t.ctx.env is not None and t.ctx.env.production else 1
    traffic.service_count(m, t, rec)
    traffic.deployment(m, t, rec)
    note, exact = traffic.exposure_note(t)
    if "count" not in m:
        note += f"; desired_count {t.entry['desired_count']} (Copilot's default count is 1; at least 2 in production, HA-3)"
    return note, exact


def job(m: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    """``on.schedule``, ``timeout`` and ``retries``: the job's schedule and the supervision of each run."""
    on = m.get("on")
    expression: str | None = None
    if isinstance(on, Mapping) and "schedule" in on:
        expression, how = schedule(str(on["schedule"]))
        if expression is not None:
            t.entry["schedule"] = expression
            rec.mapped("on.schedule", f"{t.at('schedule')}: {how}")
        elif not how:
            rec.mapped("on.schedule", "none: no schedule (run it with ecs-platform run-task)")
        else:
            rec.not_mapped("on.schedule", f"{how}; the job is imported without a schedule (on demand)")
    elif on is not None:
        rec.not_mapped("on", "no schedule; allowed: on: {schedule: ...}")
    for key, spec_key, low, high in (("timeout", "timeout_seconds", 60, 604800), ("retries", "retries", 0, 10)):
        if key not in m:
            continue
        raw = m[key]
        number = raw if key == "retries" and isinstance(raw, int) else whole_seconds(raw)
        if number is None:
            rec.not_mapped(key, f"{raw!r} is not {'a number' if key == 'retries' else 'a duration such as 1h'}")
            continue
        if expression is None:
            rec.not_mapped(key, f"{key} supervises scheduled runs only, and the job has no schedule here")
            continue
        clamped = min(max(number, low), high)
        if key == "retries" and clamped == 0:
            rec.mapped(key, "no retries")
            continue
        t.entry[spec_key] = clamped
        if clamped == number:
            rec.mapped(key, t.at(spec_key))
        else:
            rec.approximated(key, f"{t.at(spec_key)}: {clamped} ({number} is outside {low}..{high})")


def subscribe(m: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    """``subscribe``: the worker's own queue (timeout, dead letter) and its topic subscriptions, which
    :func:`ecs_platform.copilot.messaging.subscriptions` joins to the publishers' topics."""
    queue: dict[str, Any] = {}
    t.entry["queue"] = queue
    value = m.get("subscribe")
    if not isinstance(value, Mapping):
        return
    own = value.get("queue")
    if isinstance(own, Mapping):
        _queue(own, queue, t, rec)
    topics = value.get("topics")
    if isinstance(topics, list):
        for topic in topics:
            if isinstance(topic, Mapping) and topic.get("name") and topic.get("service"):
                policy = topic.get("filter_policy")
                t.ctx.shared.subscriptions.append(
                    (t.name, str(topic["name"]), str(topic["service"]), policy if isinstance(policy, dict) else {})
                )


def _queue(own: Mapping[str, Any], queue: dict[str, Any], t: Target, rec: Recorder) -> None:
    if "timeout" in own:
        seconds = whole_seconds(own["timeout"])
        if seconds is not None and 0 <= seconds <= 43200:
            queue["visibility_timeout_seconds"] = seconds
            rec.mapped("subscribe.queue.timeout", t.at("queue.visibility_timeout_seconds"))
        else:
            rec.not_mapped("subscribe.queue.timeout", f"{own['timeout']!r}; allowed: 0s..12h")
    dead_letter = own.get("dead_letter")
    if isinstance(dead_letter, Mapping) and "tries" in dead_letter:
        tries = dead_letter["tries"]
        if isinstance(tries, int) and 1 <= tries <= 1000:
            queue["max_receive_count"] = tries
            rec.mapped("subscribe.queue.dead_letter.tries", t.at("queue.max_receive_count"))
        else:
            rec.not_mapped("subscribe.queue.dead_letter.tries", f"{tries!r}; allowed: 1..1000")
    for key, why in (
        ("delay", "the queue delivers at once (SQS's default); delay messages when sending them (DelaySeconds)"),
        ("retention", "the queue keeps messages SQS's default 4 days"),
        ("fifo", "the worker's queue is a standard queue: ordering and deduplication are not kept"),
    ):
        if key in own:
            rec.not_mapped(f"subscribe.queue.{key}", why)


def copilot_name(m: Mapping[str, Any], folder: str) -> str:
    return str(m.get("name") or folder)


def unique_names(found: list[tuple[str, str]]) -> dict[str, str]:
    """Copilot names -> spec names, unique (a suffix where two would collide)."""
    names: dict[str, str] = {}
    for original, _ in found:
        name = spec_name(original)
        n = 2
        while name in names.values():
            name = spec_name(f"{spec_name(original, 29)}-{n}")
            n += 1
        names[original] = name
    return names
