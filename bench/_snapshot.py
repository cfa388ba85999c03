"""Measure a copy of the code, taken once when a benchmark starts.

Other work edits the tree while a benchmark runs for minutes; importing ``ecs_platform``
from a copy keeps every synthesis of one run on the same code. Importing this module
copies ``ecs_platform/``, ``specs/`` and ``cdk.json`` to a temporary directory and puts it
first on ``sys.path``; worker processes inherit the copy through ``BENCH_SNAPSHOT``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

from _common import ROOT

SNAPSHOT = os.environ.get("BENCH_SNAPSHOT", "")
if not SNAPSHOT:
    SNAPSHOT = tempfile.mkdtemp(prefix="bench-snapshot-")
    atexit.register(shutil.rmtree, SNAPSHOT, ignore_errors=True)
    shutil.copytree(ROOT / "ecs_platform", Path(SNAPSHOT) / "ecs_platform", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "specs", Path(SNAPSHOT) / "specs")
    for name in ("cdk.json", "cdk.context.json"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, Path(SNAPSHOT) / name)
    os.environ["BENCH_SNAPSHOT"] = SNAPSHOT
sys.path.insert(0, SNAPSHOT)
