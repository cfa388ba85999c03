"""The ``ecs-platform`` command: operations on a deployed platform.

ecs-platform run-task JOB [--count N] [--wait] [--stack STACK | --spec PATH] [--region R] [--timeout SECONDS]
ecs-platform preflight [ASSEMBLY] [--region R]
ecs-platform cost [--spec PATH] [--env NAME] [--json] [--governance]
ecs-platform status [--spec PATH] [--env NAME] [--region R] [--json]
ecs-platform diagram [--spec PATH] [--env NAME] [--format mermaid|svg|png] [--output FILE]
ecs-platform import copilot DIR --out PATH [--env NAME] [--region R] [--availability-zones A,B] [--account ID]

Nothing here imports CDK (or Node): the commands talk to AWS through boto3 only, and start
fast. Each subcommand lives in its own module, imported only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

#: The spec the commands read when given none (as ``make`` and app.py).
DEFAULT_SPEC = "specs/default.yaml"


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """``--spec PATH`` (default: :data:`DEFAULT_SPEC`) and ``--env NAME``, as the commands that read a spec take them."""
    parser.add_argument("--spec", metavar="PATH", default=DEFAULT_SPEC, help=f"the spec (default: {DEFAULT_SPEC})")
    parser.add_argument("--env", metavar="NAME", help="the environment, for a spec of several")


#: subcommand -> (module, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "run-task": ("ecs_platform.cli.run_task", "start a deployed batch job on demand, optionally wait for its exit codes"),
    "preflight": ("ecs_platform.cli.preflight", "compare a synthesized assembly with what is deployed: refuse what would fail or harm it"),
    "cost": ("ecs_platform.cli.cost", "estimate what an environment of a spec costs a month, at its minimum and maximum scale"),
    "status": ("ecs_platform.cli.status", "what a deployed environment is doing: deployments, stopped tasks and why, alarms, job runs"),
    "diagram": ("ecs_platform.cli.diagram", "the spec's architecture as a Mermaid flowchart (or SVG/PNG where a renderer is installed)"),
    "import": ("ecs_platform.cli.import_copilot", "an AWS Copilot workspace's manifests as a spec, with a report of every field"),
}


def _usage() -> str:
    lines = ["usage: ecs-platform COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<10} {description}" for name, (_, description) in COMMANDS.items()]
    lines += ["", "ecs-platform COMMAND --help shows a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``ecs-platform COMMAND ...`` to the command's ``main(argv)``; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_usage(), file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"ecs-platform: error: unknown command {command!r}; allowed: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    from importlib import import_module

    status: int = import_module(COMMANDS[command][0]).main(rest)
    return status
