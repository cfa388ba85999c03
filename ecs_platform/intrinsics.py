"""Render CloudFormation values with intrinsics as short readable text (no CDK import)."""

from __future__ import annotations

from typing import Any


def render(node: Any) -> str:
    """``{"Ref": "X"}`` -> ``<X>``, ``{"Fn::GetAtt": ["X", "Arn"]}`` -> ``<X.Arn>``, joins joined,
    imports as ``<export>``: the form cdk-nag uses in finding IDs."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        if "Ref" in node:
            return f"<{node['Ref']}>"
        if "Fn::GetAtt" in node:
            return f"<{'.'.join(node['Fn::GetAtt'])}>"
        if "Fn::Join" in node:
            separator, parts = node["Fn::Join"]
            return str(separator).join(render(part) for part in parts)
        if "Fn::ImportValue" in node:
            return f"<{render(node['Fn::ImportValue'])}>"
    return str(node)
