"""Importing AWS Copilot workspaces (issue 16): manifests in, one spec and a report of every field out.

Plain Python, PyYAML and the spec layer: no CDK import (``ecs-platform import copilot`` starts fast)."""

from ecs_platform.copilot.mapping import import_workspace
from ecs_platform.copilot.report import CopilotImportError, ImportResult, ReportLine, render_report

__all__ = ["CopilotImportError", "ImportResult", "ReportLine", "import_workspace", "render_report"]
