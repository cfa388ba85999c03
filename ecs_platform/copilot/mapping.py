"""A Copilot workspace -> one spec, and the report of every manifest field (issue 16).

The spec is built from the manifests once for the shared settings and once for each environment (each workload
manifest with its ``environments.<env>`` values applied, as Copilot deploys it, and with what the environment
manifest says: certificates, network). With one environment (``environment=``) that environment's build is the spec
(``environment:``). With every environment, the shared build is the spec's body and each environment's
``overrides:`` are what its build changes of it (named lists as mappings by name), so an environment's values and
its manifest's consequences (HTTPS, a production task count) land where the spec merges them.

The report has one line a field: the shared value's line (with what differs in an environment, where it does) and
one line for each field under ``environments.<env>``, named with the environment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ecs_platform.copilot import messaging
from ecs_platform.copilot.environments import DEFAULT_REGION, EnvironmentResult, environment
from ecs_platform.copilot.manifests import NOT_ECS, Manifest, Workspace, read_workspace, with_environment
from ecs_platform.copilot.messaging import topic_names
from ecs_platform.copilot.report import UNKNOWN_FIELD, CopilotImportError, ImportResult, Recorder, ReportLine, Status, covers, leaves, worse
from ecs_platform.copilot.target import Context, Target
from ecs_platform.copilot.values import spec_name
from ecs_platform.copilot.workloads import KIND, copilot_name, unique_names, workload
from ecs_platform.spec.models import Spec

Lines = dict[str, tuple[Status, str]]


@dataclass
class Build:
    """The spec's body (everything but the environments) from the manifests in one environment (or none)."""

    body: dict[str, Any]
    lines: dict[str, Lines]
    """Report lines by manifest path."""


def import_workspace(
    directory: Path,
    *,
    environment: str | None = None,
    region: str = DEFAULT_REGION,
    availability_zones: Sequence[str] | None = None,
    account: str | None = None,
    spec_dir: Path | None = None,
) -> ImportResult:
    """The spec of the Copilot workspace at ``directory`` and the report of every field of its manifests.

    ``environment``: only that environment (``environment:`` in the spec); None: every environment
    (``environments:``). Copilot keeps the region, the AZs and the account outside its manifests: they are given
    here (the AZs default to the region's a and c in ap-northeast-1, a and b elsewhere, unless an environment
    manifest's subnets name them). ``spec_dir``: the folder the spec is written to, which ``build`` paths are
    relative to (default: the workspace root). Raises CopilotImportError for what cannot be imported."""
    workspace = read_workspace(Path(directory))
    root = workspace.root.resolve()
    report: list[ReportLine] = []
    app = _application(workspace, report)
    envs = _environments(workspace, environment, region=region, zones=availability_zones, account=account, report=report)
    ecs = [m for m in workspace.workloads if m.type not in NOT_ECS]
    names = unique_names([(copilot_name(m.data, m.name), m.type) for m in ecs])
    kinds = {names[copilot_name(m.data, m.name)]: KIND[m.type] for m in ecs}

    def build(env: EnvironmentResult | None, named_as: str | None) -> Build:
        ctx = Context(app, root, (spec_dir or root).resolve(), names, kinds, env.info if env else None, named_as)
        ctx.copilot_app = workspace.application
        ctx.topic_names = topic_names(ecs)
        return _build(ecs, ctx, env)

    chosen = [e for e in envs if environment is None or e.info.name == environment]
    plain = {e.info.name: build(e, None) for e in chosen}
    if environment is not None:
        only = chosen[0]
        spec = {"app": app, "environment": only.entry, **plain[only.info.name].body}
        base = plain[only.info.name]
        named = plain
    else:
        base = build(None, None)
        named = {e.info.name: build(e, e.info.name) for e in chosen}
        entries = []
        for env in chosen:
            entry = dict(env.entry)
            changes = diff(base.body, plain[env.info.name].body)
            if changes:
                entry["overrides"] = changes
            entries.append(entry)
        spec = {"app": app, "environments": entries, **base.body}
    imported = [e.info.name for e in chosen]
    for env in envs:
        if env in chosen:
            report += env.lines
        else:
            report.append(ReportLine(env.manifest, "", "not mapped", f"only environment {environment} is imported (--env)"))
    for m in workspace.workloads:
        if m.type in NOT_ECS:
            report += _not_imported(m)
        else:
            report += _workload_report(
                m,
                base.lines[m.path],
                {e: plain[e].lines[m.path] for e in imported},
                {e: named[e].lines[m.path] for e in imported},
                single=environment is not None,
                known=[e.info.name for e in envs],
            )
    report += [ReportLine(path, "", "not mapped", _other_reason(path)) for path in workspace.others]
    return ImportResult(spec, report)


def _application(workspace: Workspace, report: list[ReportLine]) -> str:
    name = workspace.application
    if name is None:
        name = workspace.root.resolve().name
        report.append(
            ReportLine(
                "copilot/.workspace",
                "application",
                "approximated",
                f"no .workspace file with application: the app is named after the folder, {spec_name(name)}",
            )
        )
        return spec_name(name)
    app = spec_name(name)
    report.append(
        ReportLine(
            "copilot/.workspace",
            "application",
            "mapped" if app == name else "approximated",
            "app" + ("" if app == name else f": {app} (lowercase letters, digits and '-')"),
        )
    )
    return app


def _environments(
    workspace: Workspace, wanted: str | None, *, region: str, zones: Sequence[str] | None, account: str | None, report: list[ReportLine]
) -> list[EnvironmentResult]:
    manifests = {str(m.data.get("name") or m.name): m for m in workspace.environments}
    if manifests:
        names = list(manifests)
    else:
        names = sorted({str(e) for m in workspace.workloads for e in (m.data.get("environments") or {})}) or ["dev"]
        report.append(
            ReportLine(
                "copilot/environments",
                "",
                "approximated",
                f"no environment manifests: environments {', '.join(names)} "
                + ("named by the workloads' environments: sections" if names != ["dev"] else "(one, named dev)")
                + "; run copilot env show or add copilot/environments/<env>/manifest.yml to import their settings",
            )
        )
    if wanted is not None and wanted not in manifests:
        allowed = ", ".join(manifests) if manifests else "none (no copilot/environments/<env>/manifest.yml)"
        raise CopilotImportError(f"--env {wanted}: no environment manifest copilot/environments/{wanted}/manifest.yml; allowed: {allowed}")
    found = [environment(manifests.get(n), n, region=region, zones=zones, account=account) for n in names]
    return sorted(found, key=lambda e: e.entry["production"])  # delivery order: production last


def _build(ecs: Sequence[Manifest], ctx: Context, env: EnvironmentResult | None) -> Build:
    recorders: dict[str, Recorder] = {}
    targets: list[tuple[Target, Recorder, dict[str, Any]]] = []
    for m in ecs:
        data = with_environment(m.data, env.info.name if env else None, ctx.copilot_app)
        rec = Recorder(m.path)
        targets.append((workload(m.type, copilot_name(m.data, m.name), data, ctx, rec), rec, data))
        recorders[m.path] = rec
    workers = {t.name: (rec, t.at("queue")) for t, rec, _ in targets if t.kind == "workers"}
    messaging.subscriptions(ctx.shared, {k: v[0] for k, v in workers.items()}, {k: v[1] for k, v in workers.items()}, ctx.topic_names)
    _callers([(t, rec) for t, rec, _ in targets])
    body: dict[str, Any] = {}
    if env is not None and env.network:
        body["network"] = dict(env.network)
    if ctx.shared.service_connect:
        body["service_connect"] = {"namespace": f"{ctx.app}.local"}
    if ctx.shared.stores:
        body["storage"] = list(ctx.shared.stores.values())
    if ctx.shared.topics:
        body["topics"] = [{k: v for k, v in topic.items() if v} for topic in ctx.shared.topics.values()]
    for kind in ("services", "workers", "jobs"):
        entries = [t.entry for t, _, _ in targets if t.kind == kind]
        if entries:
            body[kind] = entries
    lines = {
        m.path: {line.field: (line.status, line.note) for line in rec.finish(data)} for (_, rec, data), m in zip(targets, ecs, strict=True)
    }
    return Build(body, lines)


def _callers(targets: Sequence[tuple[Target, Recorder]]) -> None:
    """Every service in Service Connect with a port admits every other service and worker: Copilot let any of them
    call it. Narrow the list to the real callers (SEC-2). A service no one could call gets an internal ALB."""
    for t, rec in targets:
        if t.kind != "services" or not t.service_connect:
            continue
        serving = next((c for c in t.containers if c.get("port")), None)
        if serving is None:
            continue
        callers = [o.name for o, _ in targets if o is not t and o.kind in ("services", "workers")]
        if callers:
            t.entry.setdefault("connect", {})["callers"] = callers
            rec.amend(
                "type",
                "approximated",
                f"{t.at('connect.callers')}: {callers}: Copilot let every service call it; narrow the "
                "list to the workloads that do (SEC-2)",
            )
        elif "load_balancer" not in t.entry:
            t.entry["load_balancer"] = {"public": False, "https": False}
            t.service_connect = False
            rec.amend(
                "type",
                "approximated",
                f"{t.at('load_balancer')}: an internal ALB over HTTP (no other service or worker could "
                "call it through Service Connect, and jobs cannot join it)",
            )


def diff(base: Any, changed: Any, model: type[BaseModel] | None = Spec) -> Any:
    """What ``changed`` changes of ``base``, as an environment's overrides say it (named lists as mappings by name;
    a key gone takes the spec's default, read from ``model``). None when nothing changes."""
    if base == changed:
        return None
    if isinstance(base, Mapping) and isinstance(changed, Mapping):
        out = {}
        fields = model.model_fields if model is not None else {}
        for key, value in changed.items():
            inner = _model(fields[key].annotation) if key in fields else None
            if key not in base:
                out[key] = value
            elif (sub := diff(base[key], value, inner)) is not None:
                out[key] = sub
        for key in base:
            if key not in changed:
                out[key] = _default(fields.get(key), base[key])
        return out or None
    if _named(base) and _named(changed) and [i["name"] for i in base] == [i["name"] for i in changed]:
        by_name = {}
        for old, new in zip(base, changed, strict=True):
            if (sub := diff(old, new, model)) is not None:
                by_name[new["name"]] = sub
        return by_name or None
    return changed


def _model(annotation: Any) -> type[BaseModel] | None:
    """The model inside a field's annotation (``list[ServiceSpec]``, ``ScalingSpec | None``), if one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model(arg)
        if found is not None:
            return found
    return None


def _default(field: FieldInfo | None, old: Any) -> Any:
    """The spec's default of a field an environment's build no longer sets (null when it has none); of a model,
    the defaults of the keys the shared value sets."""
    if field is None or field.is_required():
        return None
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        dumped = value.model_dump(mode="json")
        return {k: dumped.get(k) for k in old} if isinstance(old, Mapping) else dumped
    return value


def _named(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, Mapping) and isinstance(i.get("name"), str) for i in value)


def _workload_report(
    m: Manifest, base: Lines, plain: Mapping[str, Lines], named: Mapping[str, Lines], *, single: bool, known: Sequence[str]
) -> list[ReportLine]:
    """The manifest's lines: each shared field once (with what differs in an environment) and each field of
    ``environments.<env>`` once, named with the environment."""
    section = m.data.get("environments") or {}
    overridden = {e: list(leaves(v)) for e, v in section.items() if isinstance(v, Mapping)}
    out: list[ReportLine] = []
    for field, (status, note) in base.items():
        for env, env_lines in plain.items():
            touched = [leaf for leaf in overridden.get(env, []) if covers(leaf, field) or covers(field, leaf)]
            if touched:
                if single:
                    status, note = "mapped", f"{env} deploys its own value (environments.{env}.{touched[0]}) instead"
                continue
            other = env_lines.get(field)
            if other is None or other == (status, note):
                continue
            if single:
                status, note = other
            else:
                extra = [part for part in other[1].split("; ") if part not in note.split("; ")] or [other[1]]
                status, note = worse(status, other[0]), f"{note} [in {env}: {'; '.join(extra)}]"
        out.append(ReportLine(m.path, field, status, note))
    for env, value in section.items():
        prefix = f"environments.{env}"
        if env not in named:
            why = (
                f"only environment {next(iter(named))} is imported (--env)"
                if env in known
                else f"no environment manifest copilot/environments/{env}/manifest.yml; allowed: {', '.join(known)}"
            )
            out.append(ReportLine(m.path, prefix, "not mapped", why))
            continue
        lines = named[env]
        for leaf in leaves(value) if isinstance(value, Mapping) else [""]:
            inside = [(f, s, n) for f, (s, n) in lines.items() if leaf and covers(leaf, f)]
            if not inside:
                owner = next(((f, s, n) for f, (s, n) in lines.items() if leaf and covers(f, leaf)), None)
                inside = [(leaf, owner[1], owner[2])] if owner else [(leaf, "not mapped", UNKNOWN_FIELD)]
            out += [ReportLine(m.path, f"{prefix}.{f}" if f else prefix, s, n) for f, s, n in inside]
    return out


def _not_imported(m: Manifest) -> list[ReportLine]:
    lines = [ReportLine(m.path, "type", "not mapped", f"not imported: a {m.type} is {NOT_ECS[m.type]}")]
    lines += [ReportLine(m.path, str(key), "not mapped", "not imported with the workload (see type)") for key in m.data if key != "type"]
    return lines


def _other_reason(path: str) -> str:
    if "/addons/" in path:
        return (
            "a CloudFormation addon: not imported; the platform owns buckets, tables, Aurora clusters and file systems "
            "(storage:) and grants them (access:); other resources stay in their stack, granted by ARN in access:"
        )
    if "pipeline" in path:
        return "a Copilot pipeline: not imported; the spec's delivery: builds a CodePipeline (or a GitHub Actions role)"
    if "/overrides/" in path:
        return "Copilot CDK or YAML patch overrides: not imported; the spec's overrides: set CloudFormation properties by path"
    return "not a manifest this importer reads"
