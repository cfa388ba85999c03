"""Small readers of synthesized templates, shared by the tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.conftest import Synthesized


def one(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The only resource of a mapping; fails if there are none or several."""
    assert len(resources) == 1, f"expected exactly one resource, got {sorted(resources)}"
    return next(iter(resources.values()))


def tags_of(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource["Properties"].get("Tags", [])}


def import_to_resource(synth: Synthesized, value: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Follow ``{"Fn::ImportValue": export}`` from the workloads stack to the network resource it names."""
    export = value["Fn::ImportValue"]
    network = synth.network_json
    for output in network["Outputs"].values():
        if output.get("Export", {}).get("Name") == export:
            logical_id = output["Value"]["Ref"]
            return logical_id, network["Resources"][logical_id]
    raise AssertionError(f"no output of the network stack exports {export}")
