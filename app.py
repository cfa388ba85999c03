#!/usr/bin/env python3
"""The only entry point: read the spec named by ``-c spec=PATH``, build its stage, run cdk-nag.

A bad spec, or a construct that refuses its input, ends with a message naming the field,
the value and what is allowed, and exit status 1; nothing is synthesized.
"""

from __future__ import annotations

from aws_cdk import App

from ecs_platform.app_builder import add_platform
from ecs_platform.errors import report_and_exit
from ecs_platform.spec import load_spec

DEFAULT_SPEC = "specs/default.yaml"


def main() -> None:
    app = App()
    spec_path = app.node.try_get_context("spec") or DEFAULT_SPEC
    with report_and_exit(spec_path, app.outdir):
        spec = load_spec(spec_path)
        add_platform(app, spec)
        app.synth()


if __name__ == "__main__":
    main()
