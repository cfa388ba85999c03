"""Logical IDs that survive a change of the construct tree.

CloudFormation identifies a resource by its logical ID, which CDK derives from the
construct path. When the code moves a construct (a refactoring, not a change of the
platform), the stacks keep the resource's earlier logical ID here: a new one would make
CloudFormation create a second resource and delete the first, and some (a DNS record of
the same name) cannot exist twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from aws_cdk import CfnElement, Stack
from constructs import IConstruct

_HIDDEN = "Default"
_HIDDEN_FROM_HUMAN = "Resource"


def make_unique_id(components: Sequence[str]) -> str:
    """The logical ID CDK gives a resource at ``components`` (its path below the stack): the
    same rule as aws-cdk-lib's ``makeUniqueId``."""
    parts = [c for c in components if c != _HIDDEN]
    if not parts:
        raise ValueError("no path components to make an ID of")
    if len(parts) == 1 and len(re.sub(r"[^A-Za-z0-9]", "", parts[0])) <= 255:
        return re.sub(r"[^A-Za-z0-9]", "", parts[0])
    digest = hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()[:8].upper()
    human: list[str] = []
    for part in parts:
        if not human or not human[-1].endswith(part):
            human.append(part)
    return "".join(re.sub(r"[^A-Za-z0-9]", "", p) for p in human if p != _HIDDEN_FROM_HUMAN)[:240] + digest


def path_below_stack(construct: IConstruct) -> list[str]:
    """The IDs of ``construct``'s path below its stack."""
    scopes = construct.node.scopes
    stack = Stack.of(construct)
    return [scope.node.id for scope in scopes[scopes.index(stack) + 1 :]]


def keep_beside_parent(construct: IConstruct, child_ids: Sequence[str]) -> None:
    """The resources of ``construct``'s children ``child_ids`` keep the logical IDs they had as
    siblings of ``construct`` (their path without ``construct``'s own ID)."""
    stack = Stack.of(construct)
    depth = len(path_below_stack(construct)) - 1
    for child_id in child_ids:
        child = construct.node.try_find_child(child_id)
        if child is None:
            continue
        for element in child.node.find_all():
            if isinstance(element, CfnElement):
                path = path_below_stack(element)
                legacy = make_unique_id(path[:depth] + path[depth + 1 :])
                stack.rename_logical_id(stack.get_logical_id(element), legacy)
