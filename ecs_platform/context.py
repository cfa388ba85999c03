"""The CDK context the constructs are built and tested with.

``FEATURE_FLAGS`` are the feature flags of the pinned aws-cdk-lib that a new CDK project
gets (``cdk init``), which every template of this project is synthesized and tested with.
An app that uses the constructs passes them to its ``App``, as ``app.py`` does::

    app = App(context={**FEATURE_FLAGS, **availability_zones_context(account, region, zones)})

No dependencies besides the standard library.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib.resources import files
from types import MappingProxyType
from typing import Any

FEATURE_FLAGS: Mapping[str, Any] = MappingProxyType(
    json.loads(files("ecs_platform").joinpath("feature_flags.json").read_text(encoding="utf-8"))
)
"""The feature flags of every synthesis here (read-only; copy with ``dict(FEATURE_FLAGS)``)."""


def availability_zones_context(account: str, region: str, zones: Sequence[str]) -> dict[str, list[str]]:
    """Context that tells CDK the AZs of ``account`` and ``region``, so a stack of a concrete account
    needs no AWS lookup (and no credentials) at synthesis: ``ec2.Vpc`` reads the stack's AZs even
    when it is given its own."""
    return {f"availability-zones:account={account}:region={region}": list(zones)}
