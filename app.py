#!/usr/bin/env python3
"""The only entry point: read the spec named by ``-c spec=PATH``, build its stage, run cdk-nag.

A bad spec, or a construct that refuses its input, ends with a message naming the field,
the value and what is allowed, and exit status 1; nothing is synthesized. The spec is read
and checked before CDK (and Node) load, so a bad one is refused in a fraction of a second.
"""

from __future__ import annotations

import json
import os

from ecs_platform.errors import report_and_exit
from ecs_platform.spec import load_spec

DEFAULT_SPEC = "specs/default.yaml"


def requested_spec() -> str:
    """The spec the CDK CLI was asked for (``-c spec=...``, passed in ``CDK_CONTEXT_JSON``)."""
    context = json.loads(os.environ.get("CDK_CONTEXT_JSON") or "{}")
    return str(context.get("spec") or DEFAULT_SPEC)


def main() -> None:
    spec_path = requested_spec()
    with report_and_exit(spec_path, os.environ.get("CDK_OUTDIR", "cdk.out")):
        spec = load_spec(spec_path)
        from ecs_platform.app_builder import build_app  # loads aws_cdk and starts Node: only for a valid spec

        app, _ = build_app(spec, outdir=os.environ.get("CDK_OUTDIR"))
        app.synth()


if __name__ == "__main__":
    main()
