"""Property: every spec the validator accepts synthesizes, cdk-nag clean.

Random valid specs (sizes, counts, schedules, HTTPS, production, AZs, Spot) go through the
same build_app as app.py with the four rule packs: the outcome is an assembly, never a
traceback and never an unacknowledged finding. Invalid specs are covered in-process by
tests/spec/test_fuzz.py.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ecs_platform.app_builder import build_app
from ecs_platform.limits import FARGATE_SIZES
from ecs_platform.spec import parse_spec

pytestmark = pytest.mark.integration

CERT = "arn:aws:acm:ap-northeast-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
names = st.from_regex(r"[a-z][a-z0-9]{2,10}", fullmatch=True)


@st.composite
def sizes(draw: st.DrawFn) -> dict[str, int]:
    cpu = draw(st.sampled_from(sorted(FARGATE_SIZES)))
    return {"cpu": cpu, "memory": draw(st.sampled_from(FARGATE_SIZES[cpu]))}


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    workload_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    n_services = draw(st.integers(min_value=0, max_value=min(2, len(workload_names))))
    services = []
    for name in workload_names[:n_services]:
        https = draw(st.booleans())
        services.append(
            {
                "name": name,
                **draw(sizes()),
                "desired_count": draw(st.integers(min_value=2, max_value=20)),
                "containers": [
                    {
                        "name": "app",
                        "image": "nginx:1.27",
                        "port": draw(st.sampled_from([80, 8080, 3000])),
                        "environment": {"MODE": draw(st.sampled_from(["a", "b"]))},
                    }
                ],
                "load_balancer": {"public": draw(st.booleans()), "https": https, **({"certificate_arn": CERT} if https else {})},
            }
        )
    jobs = [
        {
            "name": name,
            **draw(sizes()),
            "containers": [{"name": "job", "image": "busybox:stable", "command": ["true"]}],
            **draw(st.sampled_from([{}, {"schedule": "rate(1 hour)"}, {"schedule": "cron(0 3 * * ? *)", "timezone": "Asia/Tokyo"}])),
            "count": draw(st.integers(min_value=1, max_value=10)),
            "capacity": draw(st.sampled_from(["FARGATE", "FARGATE_SPOT"])),
        }
        for name in workload_names[n_services:]
    ]
    zones = draw(st.sampled_from([["ap-northeast-1a", "ap-northeast-1c"], ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]]))
    return {
        "app": "fuzz",
        "environment": {"name": "test", "production": draw(st.booleans()), "availability_zones": zones},
        "services": services,
        "jobs": jobs,
    }


# Each example is a full synthesis (seconds): no shrinking, a fixed seed, few examples.
@settings(max_examples=6, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
@given(valid_specs())
def test_every_valid_spec_synthesizes_nag_clean(data: dict[str, Any]) -> None:
    spec = parse_spec(data, source="fuzz")
    with tempfile.TemporaryDirectory() as outdir:
        app, _ = build_app(spec, outdir=outdir)
        app.synth()  # raises on any construct error or unacknowledged cdk-nag finding
        assert len(list(Path(outdir).rglob("*.template.json"))) == 2
