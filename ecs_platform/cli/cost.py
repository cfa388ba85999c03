"""``ecs-platform cost``: what one environment of a spec costs a month, before it is deployed (COST-1).

Prints a line per workload (services, workers, jobs) and per platform item (NAT gateways, load
balancers, public IPv4 addresses, KMS keys, logs, Container Insights, EC2 capacity), each at the
minimum and the maximum scale, the total, the Fargate hours, every assumption, what the price file
could not price, and the largest drivers. ``--json`` prints the same as one JSON object.

The figures come from :mod:`ecs_platform.cost` and the price file of the spec's region
(``ecs_platform/prices/<region>.json``, public list prices with their sources). Nothing here calls AWS.
The spec models (pydantic, YAML) load only once the arguments are parsed, so ``--help`` is fast.

    python -m ecs_platform.cli.cost ...   (or: ecs-platform cost ...)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ecs_platform.cost import CostEstimate, CostLine

DEFAULT_SPEC = "specs/default.yaml"
DRIVERS = 5

EXIT_OK = 0
EXIT_ERROR = 1  # the spec is invalid, or its region has no price file
EXIT_USAGE = 2  # bad arguments


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecs-platform cost",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Estimate what one environment of a spec costs a month, at the minimum and the maximum scale\n"
            "of each workload, from the public list prices of its region (ecs_platform/prices/<region>.json).\n"
            "Every figure that is not a list price is a stated assumption, printed with the estimate."
        ),
        epilog="exit status:\n  0  estimated\n  1  the spec is invalid, or its region has no price file\n  2  bad arguments",
    )
    parser.add_argument("--spec", metavar="PATH", default=DEFAULT_SPEC, help=f"the spec file (default: {DEFAULT_SPEC})")
    parser.add_argument("--env", metavar="NAME", help="the environment, for a spec of several environments")
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    parser.add_argument(
        "--governance",
        action="store_true",
        default=None,
        help="add AWS Config, GuardDuty and CloudTrail as if the spec had governance: (default: when it has)",
    )
    return parser


def _money(value: float, priced: bool = True) -> str:
    return f"{value:>10,.2f}" if priced else f"{'n/p':>10}"


def _row(label: str, line: CostLine, width: int) -> str:
    return f"  {label:<{width}} {_money(line.min_usd, line.priced)} {_money(line.max_usd, line.priced)}  {line.basis}"


def render(estimate: CostEstimate) -> str:
    """The estimate as text: workloads, platform, total, Fargate hours, assumptions, unpriced items, drivers."""
    from ecs_platform.cost import one_line

    lines = [
        f"Monthly cost estimate of {estimate.app} {estimate.environment} in {estimate.region} "
        f"({estimate.currency}, list prices of {estimate.price_date}; sources: ecs_platform/prices/{estimate.region}.json)",
        "",
    ]
    all_lines = estimate.lines()
    width = max([24, *(len(line.name) for line in all_lines)])
    header = f"  {'':<{width}} {'min':>10} {'max':>10}"
    lines += [f"Workloads{header[9:]}"] if estimate.workloads else ["Workloads: none"]
    for workload in estimate.workloads:
        lines.append(_row(workload.label, workload.line(), width))
        size = f"{workload.cpu / 1024:g} vCPU / {workload.memory / 1024:g} GB {workload.architecture} on {workload.capacity}"
        lines.append(f"  {'':<{width}} {'':>10} {'':>10}  {size}")
    lines += ["", f"Platform{header[8:]}"]
    lines += [_row(line.name, line, width) for line in estimate.platform]
    lines += ["", f"  {'Total':<{width}} {_money(estimate.total_min)} {_money(estimate.total_max)}", ""]
    lines.append("Fargate hours a month (vCPU-hours / GB-hours)")
    for end, by_arch in estimate.fargate_hours().items():
        for arch, options in by_arch.items():
            used = [
                f"{option.replace('_', '-')} {h['vcpu_hours']:,.1f} / {h['gb_hours']:,.1f}"
                for option, h in options.items()
                if h["vcpu_hours"]
            ]
            if used:
                lines.append(f"  {end} {arch}: {', '.join(used)}")
    lines += ["", "Assumptions"]
    lines += [f"  {assumption.name}: {assumption.text}" for assumption in estimate.assumptions]
    if estimate.unpriced:
        lines += ["", "Not priced (counted as 0; see the price file's notes)"]
        lines += [f"  {item}" for item in estimate.unpriced]
    drivers = estimate.largest_drivers(DRIVERS)
    lines += ["", "Largest drivers (at the maximum)"]
    lines += [f"  {line.name}: ${line.min_usd:,.2f}–${line.max_usd:,.2f}" for line in drivers]
    lines += ["", one_line(estimate)[0].upper() + one_line(estimate)[1:] + "."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``ecs-platform cost ...``: returns the exit status (see the epilog of ``--help``)."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or argparse's one-line error after the usage
        return int(exit_.code or 0)
    from ecs_platform.cost import PriceError, estimate  # only here: the spec models load pydantic and YAML
    from ecs_platform.spec import SpecError, load_spec

    try:
        spec = load_spec(args.spec, environment=args.env)
        result = estimate(spec, governance=args.governance)
    except (SpecError, PriceError) as error:  # the spec's problems, one per line
        print(f"error: {error}", file=err)
        return EXIT_ERROR
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), file=out)
    else:
        print(render(result), file=out)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
