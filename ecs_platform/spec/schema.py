"""Export the JSON Schema of the spec, for editor completion and validation.

``specs/default.yaml`` points the YAML language server at ``specs/spec.schema.json``;
this module writes that file from the models, so the schema never drifts from the code
(``tests/spec/test_schema.py`` fails when the committed file is stale)::

    python -m ecs_platform.spec.schema specs/spec.schema.json    # or: make schema
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecs_platform.spec.models import SpecFile

#: JSON Schema dialect pydantic 2 generates.
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: Where the committed schema lives, relative to the repository root.
DEFAULT_PATH = Path("specs/spec.schema.json")

TITLE = "ecs-platform spec"
DESCRIPTION = (
    "A platform on Amazon ECS: its environments, network, cluster, web services, jobs and workers. "
    "Generated from ecs_platform/spec/models.py by `make schema`; do not edit by hand. "
    "Cross-field rules (Fargate CPU/memory pairs, unique names, certificates, LIM-1..3) are "
    "checked by `ecs_platform.spec.load_spec`, not by this schema alone."
)


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a spec file (:class:`~ecs_platform.spec.models.SpecFile`)."""
    schema = SpecFile.model_json_schema()
    schema["title"] = TITLE
    schema["description"] = DESCRIPTION
    return {"$schema": SCHEMA_DIALECT, **schema}


def render(schema: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, a trailing newline (clean diffs)."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_or_check(target: Path, text: str, *, check: bool = False, regenerate: str = "") -> int:
    """Write a file generated from the models, or with ``check`` only compare it: 0 when the committed file is
    current, 1 with a unified diff (committed -> generated) on stdout when it is stale or missing.

    Shared by the generators of the spec's derived files (this schema, the spec reference).
    """
    if check:
        committed = target.read_text(encoding="utf-8") if target.is_file() else ""
        if committed == text:
            print(f"{target} is up to date")
            return 0
        diff = difflib.unified_diff(
            committed.splitlines(keepends=True), text.splitlines(keepends=True), f"{target} (committed)", f"{target} (generated)"
        )
        sys.stdout.writelines(diff)
        print(f"{target} is stale; regenerate it{' with ' + regenerate if regenerate else ''}", file=sys.stderr)
        return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Write the schema to ``argv[1]`` (default ``specs/spec.schema.json``)."""
    args = list(sys.argv if argv is None else argv)
    target = Path(args[1]) if len(args) > 1 else DEFAULT_PATH
    return write_or_check(target, render(spec_json_schema()))


if __name__ == "__main__":
    raise SystemExit(main())
