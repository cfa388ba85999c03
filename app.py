#!/usr/bin/env python3
"""The only entry point: read the spec named by ``-c spec=PATH``, build a stage per environment (only
``-c env=NAME``'s when given), run cdk-nag.

A bad spec, or a construct that refuses its input, ends with a message naming the field,
the value and what is allowed, and exit status 1; nothing is synthesized. The spec is read
and checked before CDK (and Node) load, so a bad one is refused in a fraction of a second.
"""

from __future__ import annotations

import json
import os

from ecs_platform.errors import report_and_exit
from ecs_platform.spec import load_specs, select_environment
from ecs_platform.spec.images import image_tags

DEFAULT_SPEC = "specs/default.yaml"


def requested() -> tuple[str, str | None, dict[str, str]]:
    """The spec, environment and image tags the CDK CLI was asked for (``-c spec=... -c env=... -c image_tag[:workload]=...``,
    passed in ``CDK_CONTEXT_JSON``)."""
    context = json.loads(os.environ.get("CDK_CONTEXT_JSON") or "{}")
    environment = str(context["env"]) if context.get("env") else None
    return str(context.get("spec") or DEFAULT_SPEC), environment, image_tags(context)


def main() -> None:
    spec_path, environment, tags = requested()
    with report_and_exit(spec_path, os.environ.get("CDK_OUTDIR", "cdk.out")):
        specs = load_specs(spec_path, image_tags=tags)
        select_environment(specs, environment, source=spec_path)  # an unknown one is refused before CDK starts
        from ecs_platform.app_builder import build_platform_app  # loads aws_cdk and starts Node: only for a valid spec

        app, _ = build_platform_app(specs, environment=environment, spec_file=spec_path, outdir=os.environ.get("CDK_OUTDIR"))
        app.synth()


if __name__ == "__main__":
    main()
