"""The ``ecs-platform`` command: operations on a deployed platform.

ecs-platform run-task JOB [--count N] [--wait] [--stack STACK | --spec PATH] [--region R] [--timeout SECONDS]
ecs-platform preflight [ASSEMBLY] [--region R]

Nothing here imports CDK (or Node): the commands talk to AWS through boto3 only, and start
fast. Each subcommand lives in its own module, imported only when it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

#: subcommand -> (module, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "run-task": ("ecs_platform.cli.run_task", "start a deployed batch job on demand, optionally wait for its exit codes"),
    "preflight": ("ecs_platform.cli.preflight", "compare a synthesized assembly with what is deployed: refuse what would fail or harm it"),
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
