"""Compare the CloudFormation templates of two cloud assemblies: what a change does to them.

A refactoring must leave every template as it was; a feature lists what it changes. This
module synthesizes every example spec of a checkout (any commit: it runs that checkout's
``app.py`` as the CDK CLI does) and compares two such snapshots stack by stack, resource by
resource, property by property::

    python -m tests.template_diff snapshot OUT [--root CHECKOUT] [--spec specs/x.yaml ...]
    python -m tests.template_diff compare BEFORE AFTER
    python -m tests.template_diff freeze SNAPSHOT OUT

``compare`` prints one line per difference and exits 1 when there is any. ``freeze`` keeps the
templates of a snapshot, by stack name, as one ``<spec>.json.gz`` per spec: what the upgrade
test (tests/edits/test_upgrade.py) deploys the current templates over.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Difference:
    """One difference: ``where`` (``spec/stack/LogicalId.Properties.Path``) and ``what`` changed."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def stack_templates(outdir: Path, *, by_name: bool = False) -> dict[str, dict[str, Any]]:
    """Every stack template of an assembly (nested stage assemblies included), by display name (or stack name)."""
    found: dict[str, dict[str, Any]] = {}
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    for artifact in manifest.get("artifacts", {}).values():
        props = artifact.get("properties", {})
        if artifact["type"] == "cdk:cloud-assembly":
            found.update(stack_templates(outdir / props["directoryName"], by_name=by_name))
        elif artifact["type"] == "aws:cloudformation:stack":
            key = props.get("stackName") if by_name else artifact.get("displayName", props.get("stackName"))
            found[key] = json.loads((outdir / props["templateFile"]).read_text(encoding="utf-8"))
    return found


def freeze(snapshot_dir: Path, out: Path) -> list[Path]:
    """Each spec's templates of a snapshot, by stack name, as ``out/<spec>.json.gz`` (stable bytes)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for outdir in sorted(p for p in snapshot_dir.iterdir() if (p / "manifest.json").exists()):
        target = out / f"{outdir.name}.json.gz"
        text = json.dumps(stack_templates(outdir, by_name=True), sort_keys=True, separators=(",", ":"))
        target.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
        written.append(target)
    return written


def thawed(frozen: Path) -> dict[str, dict[str, Any]]:
    """The templates ``freeze`` kept for one spec, by stack name."""
    templates: dict[str, dict[str, Any]] = json.loads(gzip.decompress(frozen.read_bytes()))
    return templates


def _context(root: Path, spec: Path) -> str:
    """What the CDK CLI gives the app: cdk.json's context (older checkouts keep the feature flags there) and the spec."""
    cdk_json = json.loads((root / "cdk.json").read_text(encoding="utf-8"))
    return json.dumps({**cdk_json.get("context", {}), "spec": str(spec)})


def snapshot(root: Path, out: Path, specs: Sequence[Path] = ()) -> list[Path]:
    """Synthesize each spec (default: every ``specs/*.yaml`` of ``root``) with ``root``'s app.py into ``out/<spec name>``."""
    chosen = list(specs) or sorted((root / "specs").glob("*.yaml"))
    written = []
    for spec in chosen:
        outdir = out / spec.stem
        env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": _context(root, spec.resolve())}
        result = subprocess.run([sys.executable, "app.py"], cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{spec}: synthesis failed:\n{result.stderr[-3000:]}")
        written.append(outdir)
    return written


def _walk(before: Any, after: Any, where: str) -> Iterator[Difference]:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after)):
            if key not in after:
                yield Difference(f"{where}.{key}", "removed")
            elif key not in before:
                yield Difference(f"{where}.{key}", f"added: {_short(after[key])}")
            else:
                yield from _walk(before[key], after[key], f"{where}.{key}")
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from _walk(b, a, f"{where}[{i}]")
    elif before != after:
        yield Difference(where, f"{_short(before)} -> {_short(after)}")


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "..."


def compare_templates(before: Mapping[str, Any], after: Mapping[str, Any], where: str) -> Iterator[Difference]:
    """Differences between two templates: sections, then resources and outputs by logical ID."""
    for section in sorted(set(before) | set(after)):
        b, a = before.get(section, {}), after.get(section, {})
        if section in ("Resources", "Outputs") and isinstance(b, Mapping) and isinstance(a, Mapping):
            for logical_id in sorted(set(b) | set(a)):
                if logical_id not in a:
                    yield Difference(f"{where}/{logical_id}", f"removed ({b[logical_id].get('Type', section[:-1])})")
                elif logical_id not in b:
                    yield Difference(f"{where}/{logical_id}", f"added ({a[logical_id].get('Type', section[:-1])})")
                else:
                    yield from _walk(b[logical_id], a[logical_id], f"{where}/{logical_id}")
        else:
            yield from _walk(b, a, f"{where}/{section}")


def compare_assemblies(before: Path, after: Path, name: str = "") -> list[Difference]:
    """Differences between the stacks of two assemblies (stacks matched by display name)."""
    b, a = stack_templates(before), stack_templates(after)
    prefix = f"{name}/" if name else ""
    found: list[Difference] = []
    for stack in sorted(set(b) | set(a)):
        if stack not in a:
            found.append(Difference(f"{prefix}{stack}", "stack removed"))
        elif stack not in b:
            found.append(Difference(f"{prefix}{stack}", "stack added"))
        else:
            found += compare_templates(b[stack], a[stack], f"{prefix}{stack}")
    return found


def compare_snapshots(before: Path, after: Path) -> list[Difference]:
    """Differences between two snapshot directories (one assembly per spec)."""
    names = sorted({p.name for p in before.iterdir() if p.is_dir()} | {p.name for p in after.iterdir() if p.is_dir()})
    found: list[Difference] = []
    for name in names:
        if not (before / name).is_dir() or not (after / name).is_dir():
            found.append(Difference(name, "spec missing in " + ("before" if not (before / name).is_dir() else "after")))
            continue
        found += compare_assemblies(before / name, after / name, name)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.template_diff", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    snap = commands.add_parser("snapshot", help="synthesize every example spec of a checkout")
    snap.add_argument("out", type=Path)
    snap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app.py synthesizes (default: this one)")
    snap.add_argument("--spec", type=Path, action="append", default=[], help="a spec (default: every specs/*.yaml of the root)")
    comp = commands.add_parser("compare", help="compare two snapshots; exit 1 on any difference")
    comp.add_argument("before", type=Path)
    comp.add_argument("after", type=Path)
    keep = commands.add_parser("freeze", help="keep a snapshot's templates as <spec>.json.gz, by stack name")
    keep.add_argument("snapshot", type=Path)
    keep.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "freeze":
        for target in freeze(args.snapshot, args.out):
            print(f"wrote {target}")
        return 0
    if args.command == "snapshot":
        for outdir in snapshot(args.root.resolve(), args.out.resolve(), args.spec):
            print(f"wrote {outdir}")
        return 0
    differences = compare_snapshots(args.before, args.after)
    for difference in differences:
        print(difference)
    print(f"{len(differences)} difference(s)")
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
