"""``ecs-platform import copilot``: a Copilot workspace's manifests as one spec, with a report of every field (issue 16).

    ecs-platform import copilot DIR --out PATH [--env NAME] [--region R] [--availability-zones A,B] [--account ID]

DIR is the folder holding ``copilot/`` (or ``copilot/`` itself). The report (mapped, approximated and how, not
mapped and why, for each field of each manifest) is printed on standard output; the spec is validated as
``make synth`` would read it (its ``build`` paths relative to PATH) and written only when it is valid. Exit 0
when written; 1 when the workspace cannot be imported or the spec does not validate (nothing is written); 2 for
bad arguments. No CDK import: the command starts fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SOURCES = ("copilot",)


def _parser() -> argparse.ArgumentParser:
    from ecs_platform.copilot.environments import DEFAULT_REGION

    parser = argparse.ArgumentParser(
        prog="ecs-platform import",
        description="Import another tool's configuration as a spec. Sources: copilot (an AWS Copilot workspace).",
    )
    parser.add_argument("source", choices=SOURCES, help="what to import: copilot")
    parser.add_argument("directory", metavar="DIR", type=Path, help="the Copilot workspace (the folder holding copilot/) or copilot/")
    parser.add_argument("--out", metavar="PATH", type=Path, required=True, help="the spec file to write")
    parser.add_argument("--env", metavar="NAME", help="import this environment only (environment:); default: every one (environments:)")
    parser.add_argument(
        "--region",
        default=DEFAULT_REGION,
        help=f"the environments' region (Copilot keeps it outside the manifests; default {DEFAULT_REGION})",
    )
    parser.add_argument(
        "--availability-zones",
        metavar="A,B",
        help="the environments' AZs, comma-separated (default: an environment manifest's subnets', else the region's a and c "
        "in ap-northeast-1, a and b elsewhere)",
    )
    parser.add_argument("--account", metavar="ID", help="the environments' AWS account (default: the deploying credentials')")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exit_:
        return EXIT_OK if exit_.code == 0 else EXIT_USAGE
    from ecs_platform.copilot import CopilotImportError, import_workspace, render_report
    from ecs_platform.spec import SpecError, parse_specs

    out: Path = args.out
    zones = [z.strip() for z in args.availability_zones.split(",") if z.strip()] if args.availability_zones else None
    try:
        result = import_workspace(
            args.directory,
            environment=args.env,
            region=args.region,
            availability_zones=zones,
            account=args.account,
            spec_dir=out.resolve().parent,
        )
    except CopilotImportError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(render_report(result.report), end="")
    try:
        parse_specs(result.spec, source=str(out), base_dir=out.resolve().parent)
    except SpecError as error:
        print(
            f"error: the imported spec does not validate; {out} is not written. Fix the workspace (or write the spec by hand):",
            file=sys.stderr,
        )
        print(str(error), file=sys.stderr)
        return EXIT_FAILED
    header = (
        f"# Imported from the AWS Copilot workspace {args.directory} by `ecs-platform import copilot`.\n"
        "# The import's report lists what was approximated and what was not mapped: review it before deploying.\n"
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(header + yaml.safe_dump(result.spec, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    except OSError as error:
        print(f"error: {out}: cannot be written: {error.strerror}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {out}")
    return EXIT_OK
