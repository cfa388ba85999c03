"""Images of a spec as plain data, before validation: tags from outside the spec, build contexts on disk.

CI rolls out a new image without editing the spec: ``-c image_tag=<tag>`` sets the tag of every
image of a platform repository (``{repository: ...}``), ``-c image_tag:<workload>=<tag>`` those of
one workload (and skips the build of its ``{build: ...}`` images: the tag names an image an earlier
build published). The tag lands in the task definition, so a new tag is a new revision and the
service rolls. A ``build`` directory is relative to the spec file; it must exist with its Dockerfile.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

Issue = tuple[str, str]

#: The context key of the tag of every platform repository image; ``image_tag:<workload>`` for one workload's.
IMAGE_TAG = "image_tag"
_WORKLOADS = ("services", "jobs", "workers")


def image_tags(context: Mapping[str, Any]) -> dict[str, str]:
    """The image tags a CDK context gives: ``{"": tag}`` for ``image_tag``, ``{workload: tag}`` for ``image_tag:<workload>``."""
    found = {}
    for key, value in context.items():
        if key == IMAGE_TAG:
            found[""] = str(value)
        elif key.startswith(f"{IMAGE_TAG}:"):
            found[key.split(":", 1)[1]] = str(value)
    return found


def _images(data: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(workload name, path, image mapping) of every ``{build}`` or ``{repository}`` image of ``data``."""
    for kind in _WORKLOADS:
        items = data.get(kind)
        if not isinstance(items, list):
            continue
        for i, workload in enumerate(items):
            containers = workload.get("containers") if isinstance(workload, Mapping) else None
            if not isinstance(containers, list):
                continue
            for j, container in enumerate(containers):
                image = container.get("image") if isinstance(container, Mapping) else None
                if isinstance(image, dict):
                    yield str(workload.get("name", "")), f"{kind}[{i}].containers[{j}].image", image


def with_tags(data: Mapping[str, Any], tags: Mapping[str, str]) -> dict[str, Any]:
    """``data`` with the context's tags set: a workload's own tag wins over ``image_tag``; only a workload's own
    tag replaces a build (``image_tag`` alone never skips one)."""
    result = copy.deepcopy(dict(data))
    for workload, _, image in _images(result):
        own = tags.get(workload)
        if "repository" in image and (own or tags.get("")):
            image["tag"] = own or tags[""]
        elif "build" in image and own:
            image["tag"] = own
    return result


def build_issues(data: Mapping[str, Any], base: Path) -> list[Issue]:
    """A ``build`` context that does not exist, or lacks its Dockerfile (unless a tag skips the build)."""
    issues = []
    for _, path, image in _images(data):
        build = image.get("build")
        if not isinstance(build, str) or image.get("tag"):
            continue
        directory = (base / build).resolve()
        dockerfile = image.get("dockerfile") or "Dockerfile"
        if not directory.is_dir():
            issues.append((f"{path}.build", f"{build!r} is not a directory next to the spec ({directory}); allowed: the build context"))
        elif not isinstance(dockerfile, str) or not (directory / dockerfile).is_file():
            issues.append(
                (
                    f"{path}.dockerfile" if image.get("dockerfile") else f"{path}.build",
                    f"{build!r} has no {dockerfile}; allowed: a build context with its Dockerfile (or name it with dockerfile:)",
                )
            )
    return issues


def with_absolute_builds(data: Mapping[str, Any], base: Path) -> dict[str, Any]:
    """``data`` with every ``build`` directory made absolute (synthesis may run from another directory)."""
    result = copy.deepcopy(dict(data))
    for _, _, image in _images(result):
        if isinstance(image.get("build"), str):
            image["build"] = str((base / image["build"]).resolve())
    return result
