"""Storage and logging families: ``storage`` (ephemeral size, read-only root, EFS and scratch volumes, with the
sidecars' ``mount_points``) and ``logging`` (FireLens destinations)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_platform.copilot.report import Recorder, Status
from ecs_platform.copilot.target import Target
from ecs_platform.copilot.values import spec_name

FARGATE_EPHEMERAL_GIB = 20


def storage(m: Mapping[str, Any], t: Target, rec: Recorder, sidecar_names: Mapping[str, str]) -> None:
    """``storage``: ephemeral -> ephemeral_storage_gib, readonly_fs -> readonly_root_filesystem, volumes -> volumes
    (EFS ones with a file system store of ``storage:``, empty ones as scratch paths)."""
    value = m.get("storage")
    if not isinstance(value, Mapping):
        return
    if "ephemeral" in value:
        gib = value["ephemeral"]
        if isinstance(gib, int) and gib <= FARGATE_EPHEMERAL_GIB:
            rec.mapped("storage.ephemeral", f"Fargate's default {FARGATE_EPHEMERAL_GIB} GiB (no {t.at('ephemeral_storage_gib')} needed)")
        elif isinstance(gib, int) and gib <= 200:
            t.entry["ephemeral_storage_gib"] = gib
            rec.mapped("storage.ephemeral", t.at("ephemeral_storage_gib"))
        else:
            rec.not_mapped("storage.ephemeral", f"{gib!r}; allowed: 20..200 GiB")
    if "readonly_fs" in value:
        t.main["readonly_root_filesystem"] = bool(value["readonly_fs"])
        rec.mapped("storage.readonly_fs", t.at(f"containers[{t.main['name']}].readonly_root_filesystem"))
    volumes = value.get("volumes")
    if isinstance(volumes, Mapping):
        mounts = _sidecar_mounts(m, rec, sidecar_names)
        for name, spec in volumes.items():
            _volume(str(name), spec, t, rec, mounts.get(str(name), []))
        for name, mount_list in mounts.items():
            if name not in volumes:
                for path, _, _ in mount_list:
                    rec.not_mapped(path, f"volume {name!r} is not one of storage.volumes; allowed: {', '.join(map(str, volumes))}")
    elif volumes is not None:
        rec.not_mapped("storage.volumes", "not a mapping; allowed: {name: {path: ..., efs: ...}}")


def _sidecar_mounts(m: Mapping[str, Any], rec: Recorder, names: Mapping[str, str]) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """The sidecars' mount_points by volume: (report field, container, mount)."""
    found: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for original, spec in (m.get("sidecars") or {}).items():
        if not isinstance(spec, Mapping) or "mount_points" not in spec:
            continue
        path = f"sidecars.{original}.mount_points"
        if not isinstance(spec["mount_points"], list):
            rec.not_mapped(path, "not a list; allowed: [{source_volume: ..., path: ...}]")
            continue
        for mount in spec["mount_points"]:
            if isinstance(mount, Mapping) and mount.get("source_volume"):
                found.setdefault(str(mount["source_volume"]), []).append(
                    (path, names.get(str(original), spec_name(str(original))), dict(mount))
                )
    return found


def _volume(name: str, spec: Any, t: Target, rec: Recorder, mounts: list[tuple[str, str, dict[str, Any]]]) -> None:
    prefix = f"storage.volumes.{name}"
    if not isinstance(spec, Mapping) or not spec.get("path"):
        rec.not_mapped(prefix, "no path; allowed: {path: /mount/path, efs: ...}")
        return
    efs = spec.get("efs")
    if not efs:
        _scratch(name, spec, t, rec, mounts)
        return
    store = _efs_store(name, efs, t, rec, prefix)
    if store is None:
        return
    volume_name = spec_name(name)
    volumes = t.entry.setdefault("volumes", [])
    volumes.append({"name": volume_name, "path": str(spec["path"]), "read_only": bool(spec.get("read_only", True))})
    volumes[-1]["efs"] = store
    rec.mapped(f"{prefix}.path", t.at(f"volumes[{volume_name}].path"))
    if "read_only" in spec:
        rec.mapped(f"{prefix}.read_only", t.at(f"volumes[{volume_name}].read_only"))
    for field_path, container, mount in mounts:
        mount_name = spec_name(f"{volume_name}-{container}")
        volumes.append(
            {
                "name": mount_name,
                "path": str(mount.get("path", spec["path"])),
                "container": container,
                "read_only": bool(mount.get("read_only", True)),
                "efs": store,
            }
        )
        rec.mapped(field_path, t.at(f"volumes[{mount_name}]") + f" (the {container} container's mount of {store})")


def _efs_store(name: str, efs: Any, t: Target, rec: Recorder, prefix: str) -> str | None:
    """The file system store a volume mounts: an existing one by ID, or a new one for Copilot's managed EFS."""
    shared = t.ctx.shared.stores
    subnets = "web" if t.kind == "services" else "batch"
    if efs is True or (isinstance(efs, Mapping) and "id" not in efs):
        store = spec_name(f"{t.name}-{name}")
        shared.setdefault(store, {"name": store, "type": "efs", "subnets": subnets})
        rec.approximated(
            f"{prefix}.efs",
            f"storage[{store}]: a new EFS file system (KMS, TLS and IAM authorization required) with an access point for "
            f"{t.name}; Copilot's managed file system and its data are not moved: copy the data over (e.g. AWS DataSync)"
            + (
                "; uid/gid: the access point uses the platform's POSIX user"
                if isinstance(efs, Mapping) and ("uid" in efs or "gid" in efs)
                else ""
            ),
        )
        return store
    if not isinstance(efs, Mapping):
        rec.not_mapped(f"{prefix}.efs", "not true or a mapping; allowed: efs: true or efs: {id: fs-...}")
        return None
    fs_id = efs["id"]
    if isinstance(fs_id, Mapping):
        rec.not_mapped(f"{prefix}.efs", "the file system comes from a CloudFormation export (from_cfn): give its ID (fs-...)")
        return None
    existing = next((s["name"] for s in shared.values() if s.get("file_system_id") == fs_id), None)
    store = existing or spec_name(name)
    while existing is None and store in shared:
        store = spec_name(f"{t.name}-{store}")
    shared.setdefault(store, {"name": store, "type": "efs", "file_system_id": str(fs_id), "subnets": subnets})
    rec.mapped(f"{prefix}.efs.id", f"storage[{store}].file_system_id (an existing file system: its mount targets stay its owner's)")
    if "root_dir" in efs:
        if str(efs["root_dir"]).strip("/"):
            rec.not_mapped(
                f"{prefix}.efs.root_dir",
                "each workload mounts an access point of its own at the file system's root; move the data or mount the whole file system",
            )
        else:
            rec.mapped(f"{prefix}.efs.root_dir", "the root (the access point's)")
    auth = efs.get("auth")
    if isinstance(auth, Mapping):
        if "iam" in auth:
            status: Status = "mapped" if auth["iam"] else "approximated"
            rec.add(f"{prefix}.efs.auth.iam", status, "IAM authorization is always required here (the task role is granted the mount)")
        if "access_point_id" in auth:
            rec.not_mapped(f"{prefix}.efs.auth.access_point_id", "the platform creates an access point for each workload that mounts it")
    elif auth is not None:
        rec.not_mapped(f"{prefix}.efs.auth", "not a mapping; allowed: {iam: true}")
    return store


def _scratch(name: str, spec: Mapping[str, Any], t: Target, rec: Recorder, mounts: list[tuple[str, str, dict[str, Any]]]) -> None:
    """An empty volume (no efs): a writable scratch path in each container that mounts it."""
    path = str(spec["path"])
    _writable(t.main, path)
    rec.approximated(
        f"storage.volumes.{name}",
        f"{t.at('containers[' + t.main['name'] + '].writable_paths')}: {path} (a scratch volume of the container; "
        "containers no longer share it: pass data through EFS or the network)"
        if mounts
        else f"{t.at('containers[' + t.main['name'] + '].writable_paths')}: {path} (a writable scratch volume)",
    )
    for field_path, container, mount in mounts:
        for c in t.containers:
            if c["name"] == container:
                _writable(c, str(mount.get("path", path)))
        rec.approximated(field_path, f"{t.at('containers[' + container + '].writable_paths')} (its own scratch volume, not shared)")


def _writable(container: dict[str, Any], path: str) -> None:
    paths = container.setdefault("writable_paths", ["/tmp"])  # noqa: S108  # the spec's default scratch path, kept
    if path not in paths:
        paths.append(path)


DESTINATIONS = {
    "cloudwatch": "cloudwatch",
    "cloudwatch_logs": "cloudwatch",
    "s3": "s3",
    "firehose": "firehose",
    "kinesis_firehose": "firehose",
}


def logging(m: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    """``logging``: a FireLens destination by its Name option -> log_routing; the rest is the platform's."""
    value = m.get("logging")
    if not isinstance(value, Mapping):
        return
    if "retention" in value:
        rec.approximated(
            "logging.retention",
            f"{value['retention']} days -> logs.retention_days (365 by default): the platform keeps every log group at least "
            "365 days (NIST 800-53, PCI DSS)",
        )
    destination = value.get("destination")
    if isinstance(destination, Mapping):
        _destination(destination, t, rec)
    elif destination is not None:
        rec.not_mapped("logging.destination", "not a mapping; allowed: {Name: cloudwatch|s3|firehose, ...}")
    for key, why in (
        ("image", "the platform runs its own Fluent Bit image (log_routing)"),
        ("enableMetadata", "the platform's FireLens configuration adds the ECS metadata"),
        ("secretOptions", "the platform's destinations need no credentials (IAM grants the task role)"),
        ("configFilePath", "the platform writes the Fluent Bit configuration for its destination; a custom file is not read"),
        ("env_file", "the log router takes no environment file"),
        ("variables", "the log router takes no variables"),
        ("secrets", "the log router takes no secrets"),
    ):
        if key in value:
            rec.not_mapped(f"logging.{key}", why)


def _destination(destination: Mapping[str, Any], t: Target, rec: Recorder) -> None:
    name = str(destination.get("Name", destination.get("name", ""))).lower()
    kind = DESTINATIONS.get(name)
    where = t.at("log_routing")
    if kind == "cloudwatch":
        t.entry["log_routing"] = {"destination": "cloudwatch"}
        options = [k for k in destination if k.lower() != "name"]
        note = f"{where}: {{destination: cloudwatch}}, the workload's log group"
        if options:
            rec.approximated("logging.destination", f"{note}; {', '.join(options)} not kept (the platform names the group and streams)")
        else:
            rec.mapped("logging.destination", note)
    elif kind == "s3":
        store = spec_name(f"{t.name}-logs")
        t.ctx.shared.stores.setdefault(store, {"name": store, "type": "s3"})
        routing = {"destination": "s3", "bucket": store}
        t.entry["log_routing"] = routing
        bucket = destination.get("bucket", "its bucket")
        rec.approximated(
            "logging.destination",
            f"{where}: {routing}: a new bucket the platform owns (KMS, versioned, TLS only) instead of {bucket}; other options not kept",
        )
    elif kind == "firehose":
        stream = destination.get("delivery_stream")
        if not stream:
            rec.not_mapped("logging.destination", "no delivery_stream option; allowed: {Name: firehose, delivery_stream: name}")
            return
        t.entry["log_routing"] = {"destination": "firehose", "delivery_stream": str(stream)}
        others = [k for k in destination if k.lower() not in ("name", "delivery_stream", "region")]
        status: Status = "approximated" if others else "mapped"
        rec.add(
            "logging.destination",
            status,
            f"{where}: {{destination: firehose, delivery_stream: {stream}}}" + (f"; {', '.join(others)} not kept" if others else ""),
        )
    else:
        rec.not_mapped(
            "logging.destination",
            f"FireLens output {name or '(no Name)'!r}: the platform routes to cloudwatch, s3 or firehose only; the logs go to "
            "CloudWatch (awslogs); forward them from there, or set log_routing to firehose and deliver from the stream",
        )
