"""``ecs-platform diagram``: the spec's architecture as a Mermaid flowchart (ARCH-4, ARCH-7, SEC-1, IAM-5).

The flowchart is read back line by line (nodes, edges and their labels), so each test asserts on what
the diagram draws, not on how it is laid out. The default spec's text is snapshotted as the README
shows it. Rendering SVG/PNG needs the Mermaid CLI and a Chromium: where they are not installed, the
command refuses and says what to install (tested); where they are, every example spec renders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ecs_platform.app_builder import PROJECT_ROOT
from ecs_platform.cli import diagram
from ecs_platform.cli.diagram import label, main, mermaid, node_id
from ecs_platform.spec import Spec, load_spec, load_specs, parse_spec

SPECS = Path(__file__).resolve().parents[2] / "specs"

#: The default spec's diagram, as the README shows it (in a ```mermaid block).
DEFAULT_DIAGRAM = """\
---
title: my-app dev (ap-northeast-1)
---
flowchart TB
  internet(("Internet"))
  scheduler(["EventBridge Scheduler"])
  subgraph vpc["VPC 10.0.0.0/16<br/>2 AZs: ap-northeast-1a, ap-northeast-1c"]
    subgraph public["public subnets, one per AZ"]
      lbo_my_service{{"ALB my-service<br/>public, HTTP"}}
      nat["1 NAT gateway"]
    end
    subgraph web["private web subnets, one per AZ"]
      svc_my_service["service my-service<br/>2 tasks, scales 2-4<br/>FARGATE"]
    end
    subgraph batch["private batch subnets, one per AZ"]
      job_nightly_report[/"job nightly-report<br/>1 task a run<br/>FARGATE"/]
    end
  end
  internet --> lbo_my_service
  lbo_my_service -->|"any path"| svc_my_service
  scheduler -->|"cron(0 3 * * ? *) Asia/Tokyo"| job_nightly_report
"""

#: Words Mermaid's flowchart grammar reserves: an ID that is one of them breaks the chart.
RESERVED = {"end", "subgraph", "graph", "flowchart", "style", "class", "classDef", "click", "call", "href", "linkStyle", "default"}
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
NODE = re.compile(r"^\s*(?:subgraph )?([A-Za-z][A-Za-z0-9_]*)[\[\(\{/]")
EDGE = re.compile(r'^\s*(\w+) (-->|-\.->)(?:\|"([^"]*)"\|)? (\w+)$')


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    text: str | None
    dotted: bool


@dataclass
class Chart:
    """A flowchart read back: node ID -> its label's lines, subgraph -> its nodes, the edges."""

    nodes: dict[str, list[str]]
    members: dict[str, list[str]]
    edges: list[Edge]

    def edges_from(self, source: str) -> list[Edge]:
        return [e for e in self.edges if e.source == source]


def read(text: str) -> Chart:
    nodes: dict[str, list[str]] = {}
    members: dict[str, list[str]] = {}
    open_: list[str] = []
    edges = []
    for line in text.splitlines()[4:]:  # after the front matter and "flowchart TB"
        stripped = line.strip()
        if stripped == "end":
            open_.pop()
        elif edge := EDGE.match(line):
            edges.append(Edge(edge[1], edge[4], edge[3], edge[2] == "-.->"))
        elif node := NODE.match(line):
            nodes[node[1]] = re.search(r'"(.*)"', line).group(1).split("<br/>")  # type: ignore[union-attr]
            if open_:
                members[open_[-1]].append(node[1])
            if stripped.startswith("subgraph "):
                open_.append(node[1])
                members[node[1]] = []
        else:
            raise AssertionError(f"neither a node nor an edge: {line!r}")
    assert not open_, f"subgraphs left open: {open_}"
    return Chart(nodes, members, edges)


@pytest.fixture(scope="module")
def default() -> Spec:
    return load_spec(SPECS / "default.yaml")


def example(name: str, environment: str | None = None) -> Spec:
    (spec,) = load_specs(SPECS / f"{name}.yaml", environment=environment, image_tags={"": "test"})
    return spec


# --- what the diagram draws ----------------------------------------------------------------


def test_the_default_diagram_is_stable_text_as_the_readme_shows_it(default: Spec) -> None:
    """The same spec gives the same text, byte for byte: a change of the diagram shows as a diff of this snapshot."""
    assert mermaid(default) == DEFAULT_DIAGRAM
    assert mermaid(default) == mermaid(load_spec(SPECS / "default.yaml"))


def test_sec1_the_default_spec_draws_its_subnets_load_balancer_service_and_scheduled_job(default: Spec) -> None:
    """SEC-1: the ALB in the public subnets, the service in the private web subnets, the job in the private batch
    subnets, all in the VPC of the spec's AZs; the internet reaches the ALB only, which routes any path to the service."""
    chart = read(mermaid(default))
    assert chart.nodes["vpc"] == ["VPC 10.0.0.0/16", "2 AZs: ap-northeast-1a, ap-northeast-1c"]
    assert chart.members["vpc"] == ["public", "web", "batch"]
    assert chart.members["public"] == ["lbo_my_service", "nat"]
    assert chart.members["web"] == ["svc_my_service"]
    assert chart.members["batch"] == ["job_nightly_report"]
    assert chart.nodes["lbo_my_service"] == ["ALB my-service", "public, HTTP"]
    assert chart.nodes["svc_my_service"] == ["service my-service", "2 tasks, scales 2-4", "FARGATE"]
    assert chart.edges == [
        Edge("internet", "lbo_my_service", None, False),
        Edge("lbo_my_service", "svc_my_service", "any path", False),
        Edge("scheduler", "job_nightly_report", "cron(0 3 * * ? *) Asia/Tokyo", False),
    ]


def test_arch7_service_connect_edges_follow_each_servers_callers() -> None:
    """ARCH-7, SEC-2: one dotted edge caller -> server per name in the server's connect.callers, labelled with the
    name and port the caller uses (TLS: the spec's namespace has it); no other edge between services."""
    spec = example("services")
    chart = read(mermaid(spec))
    expected = {
        (node_id("svc", caller), node_id("svc", server.name), f"{server.connect.name or server.name}:8080 TLS")
        for server in spec.services
        for caller in server.connect.callers
    }
    drawn = {(e.source, e.target, e.text) for e in chart.edges if e.source.startswith("svc_") and e.target.startswith("svc_")}
    assert drawn == expected
    assert ("svc_storefront", "svc_orders", "orders:8080 TLS") in drawn
    assert all(e.dotted for e in chart.edges if e.source.startswith("svc_") and e.target.startswith("svc_"))


def test_arch4_a_shared_load_balancer_routes_each_services_paths() -> None:
    """ARCH-4: one node for the shared ALB, an edge to each of its services with the rule's paths (any path: the
    catch-all); the internal services have no load balancer edge."""
    chart = read(mermaid(example("services")))
    assert chart.nodes["alb_edge"] == ["ALB edge (shared)", "public, HTTPS, test listener :8443"]
    assert {(e.target, e.text) for e in chart.edges_from("alb_edge")} == {
        ("svc_storefront", "any path"),
        ("svc_api", "/api/*"),
        ("svc_search", "/search /search/*"),
    }
    assert chart.edges_from("internet") == [Edge("internet", "alb_edge", None, False)]
    assert chart.nodes["svc_orders"][2] == "FARGATE base 1 weight 1, FARGATE_SPOT weight 3"


def test_a_spec_without_load_balancers_draws_none() -> None:
    """The batch example has jobs and a worker only: no ALB node, no internet, no route edge."""
    chart = read(mermaid(example("batch")))
    assert not [n for n in chart.nodes if n.startswith(("alb_", "lbo_")) or n == "internet"]
    assert not [e for e in chart.edges if e.source == "internet" or e.source.startswith(("alb_", "lbo_"))]
    assert chart.members["web"] == ["webempty"]  # an empty subgraph would render awry


def test_a_worker_is_fed_by_its_queue_and_jobs_by_the_scheduler() -> None:
    chart = read(mermaid(example("batch")))
    assert Edge("queue_thumbnailer", "wrk_thumbnailer", None, False) in chart.edges
    assert chart.nodes["queue_thumbnailer"] == ["SQS queue thumbnailer", "own, with dead-letter queue"]
    scheduled = {e.target: e.text for e in chart.edges_from("scheduler")}
    assert scheduled == {"job_nightly_export": "cron(30 1 * * ? *) Asia/Tokyo", "job_hourly_aggregate": "rate(1 hour)"}
    assert "job_backfill" in chart.members["batch"]  # on demand only: no schedule edge


def test_arch3_workloads_on_ec2_capacity_point_to_their_providers_in_their_subnets() -> None:
    """ARCH-2, ARCH-3: each EC2 capacity provider is drawn in the subnets the spec gives it, and each workload on it
    points there; Fargate workloads point nowhere."""
    chart = read(mermaid(example("ec2")))
    assert "cap_general" in chart.members["web"] and {"cap_gpu", "cap_managed"} <= set(chart.members["batch"])
    runs_on = {(e.source, e.target) for e in chart.edges if e.text == "runs on"}
    assert runs_on == {("svc_web", "cap_general"), ("wrk_thumbnails", "cap_managed"), ("job_render", "cap_gpu")}
    assert chart.nodes["svc_web"][2] == "EC2 general" and chart.nodes["svc_preview"][2] == "FARGATE_SPOT"
    assert chart.nodes["cap_managed"] == ["EC2 capacity managed", "ECS Managed Instances", "2-8 vCPU, 4-32 GiB"]


def test_iam5_access_entries_are_edges_to_the_resources_they_name() -> None:
    """IAM-5: one node per resource (a bucket two workloads use is drawn once), an edge per entry, labelled with its
    level and prefix; the KMS keys are left out; --no-access leaves every resource out."""
    spec = example("access")
    chart = read(mermaid(spec))
    resources = {tuple(chart.nodes[n]): n for n in chart.members["aws"]}
    bucket = resources[("S3 bucket", "orders-uploads")]
    assert {(e.source, e.text) for e in chart.edges if e.target == bucket} == {
        ("svc_api", "read invoices/"),
        ("job_invoice_worker", "write invoices/"),
    }
    assert ("DynamoDB table", "orders") in resources and ("X-Ray",) in resources and ("SQS queue", "invoice-requests") in resources
    assert ("Secrets Manager secret", "orders/api-key-MnOpQr") in resources  # named from its ARN
    assert ("SSM parameters", "/orders/dev/config") in resources and ("SSM parameter", "/orders/dev/endpoint") in resources
    assert not [lines for lines in resources if "KMS" in " ".join(lines)]
    # 15 entries, 17 edges: rds_data names a cluster and its secret, ssm_parameters a parameter and a path.
    assert (len(spec.services[0].access), len(chart.edges_from("svc_api"))) == (15, 17)
    assert not [n for n in read(mermaid(spec, access=False)).nodes if n.startswith("ext_")]


def test_a_multi_environment_spec_draws_the_chosen_environment() -> None:
    chart = read(mermaid(example("environments", "prod")))
    assert chart.nodes["vpc"][1] == "3 AZs: ap-northeast-1a, ap-northeast-1c, ap-northeast-1d"
    assert chart.nodes["nat"] == ["3 NAT gateways"]


# --- identifiers and labels ----------------------------------------------------------------


def test_ids_are_valid_mermaid_identifiers_for_names_with_dashes() -> None:
    """Names with dashes become IDs of letters, digits and '_' that Mermaid's grammar takes; no ID is a reserved
    word, and names that differ only where an ID would merge them (a kind's prefix, '-' and '--') stay apart."""
    spec = tricky_names()
    chart = read(mermaid(spec))
    for node in chart.nodes:
        assert IDENTIFIER.fullmatch(node) and node not in RESERVED, node
    assert {node_id("svc", s.name) for s in spec.services} == {"svc_svc_x", "svc_svc__x", "svc_end", "svc_x_1", "svc_shared_end"}
    assert len({*chart.nodes}) == len(chart.nodes) and "alb_end" in chart.nodes


@pytest.mark.parametrize("name", ["a", "my-service", "a--b", "x9-y"])
def test_node_ids_keep_kind_and_name_apart(name: str) -> None:
    """The first '_' separates the kind from the name: each (kind, name) has its own ID."""
    kind, _, rest = node_id("svc", name).partition("_")
    assert (kind, rest.replace("_", "-")) == ("svc", name)


def test_labels_escape_quotes_and_markup() -> None:
    assert label('say "hi"', "<b>#1</b>") == '"say #quot;hi#quot;<br/>#lt;b#gt;#35;1#lt;/b#gt;"'


# --- the command ---------------------------------------------------------------------------


def test_the_command_prints_the_default_diagram(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(SPECS.parent)
    assert main([]) == 0
    assert capsys.readouterr().out == DEFAULT_DIAGRAM


def test_the_command_writes_a_file_and_leaves_out_access_on_request(tmp_path: Path) -> None:
    out = tmp_path / "access.mmd"
    assert main(["--spec", str(SPECS / "access.yaml"), "--no-access", "--output", str(out)]) == 0
    assert "ext_" not in out.read_text(encoding="utf-8")


def test_fails_when_the_spec_has_several_environments_and_none_is_chosen(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--spec", str(SPECS / "environments.yaml")]) == 2
    assert "has 3 environments (dev, staging, prod); allowed: choose one with --env" in capsys.readouterr().err


def test_fails_when_the_spec_cannot_be_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--spec", "specs/missing.yaml"]) == 2
    assert capsys.readouterr().err.startswith("ecs-platform diagram: error: specs/missing.yaml: 1 problem(s) in the spec:")


def test_fails_when_an_image_format_has_no_output_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--format", "svg"]) == 2
    assert "--format svg writes an image: name the file with --output" in capsys.readouterr().err


def test_fails_when_no_renderer_is_installed_and_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the Mermaid CLI (or without a Chromium for it) svg and png are refused, naming both packages."""
    monkeypatch.setattr(diagram, "PROJECT_ROOT", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("PUPPETEER_EXECUTABLE_PATH", raising=False)
    assert main(["--spec", str(SPECS / "default.yaml"), "--format", "png", "--output", str(tmp_path / "d.png")]) == 2
    err = capsys.readouterr().err
    assert "--format png needs the Mermaid CLI (mmdc), which is not installed" in err
    assert "@mermaid-js/mermaid-cli" in err and "apt-get install chromium" in err and "--format mermaid" in err
    assert not (tmp_path / "d.png").exists()

    (tmp_path / "mmdc").write_text("#!/bin/sh\nexit 1\n")
    (tmp_path / "mmdc").chmod(0o755)
    assert main(["--spec", str(SPECS / "default.yaml"), "--format", "svg", "--output", str(tmp_path / "d.svg")]) == 2
    assert "--format svg needs a Chromium for the Mermaid CLI, which is not installed" in capsys.readouterr().err


RENDERER = diagram.mermaid_cli() is not None and diagram.browser() is not None


@pytest.mark.integration
@pytest.mark.skipif(not RENDERER, reason="needs the Mermaid CLI (npm @mermaid-js/mermaid-cli) and a Chromium (Debian: chromium)")
@pytest.mark.parametrize(
    ("name", "environment"),
    [(path.stem, None) for path in sorted(SPECS.glob("*.yaml")) if path.stem != "environments"] + [("environments", "prod")],
)
def test_every_example_renders_with_the_mermaid_cli(name: str, environment: str | None, tmp_path: Path) -> None:
    """Mermaid itself parses and lays out each example's diagram (what GitHub runs)."""
    out = tmp_path / f"{name}.svg"
    diagram.render(mermaid(example(name, environment)), out, "svg")
    assert out.read_text(encoding="utf-8").lstrip().startswith("<svg")


def tricky_names() -> Spec:
    """The services example with names that are Mermaid keywords or differ only in dashes."""
    data = yaml.safe_load((SPECS / "services.yaml").read_text(encoding="utf-8"))
    data["load_balancers"][0]["name"] = "end"  # a reserved word as a name
    for service, name in zip(data["services"], ["svc-x", "svc--x", "end", "x-1", "shared-end"], strict=True):
        service["name"] = name
        if "load_balancer" in service:
            service["load_balancer"]["shared"] = "end"
    data["services"][3]["connect"]["callers"] = ["svc-x", "svc--x"]
    data["services"][4]["connect"]["callers"] = ["end", "x-1"]
    return parse_spec(data)


@pytest.mark.integration
@pytest.mark.skipif(not RENDERER, reason="needs the Mermaid CLI (npm @mermaid-js/mermaid-cli) and a Chromium (Debian: chromium)")
def test_names_that_are_mermaid_keywords_render(tmp_path: Path) -> None:
    out = tmp_path / "tricky.svg"
    diagram.render(mermaid(tricky_names()), out, "svg")
    assert "svc--x" in out.read_text(encoding="utf-8")


def test_the_readme_shows_the_default_specs_diagram_as_the_command_draws_it() -> None:
    """The picture a user reads first is the one `make diagram` draws today (a change of either fails here)."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```mermaid\n{DEFAULT_DIAGRAM}```" in readme


def test_topics_publishers_filtered_subscriptions_and_worker_callers_are_drawn() -> None:
    """specs/complete.yaml: the api publishes to its topic, the topic feeds the worker's queue with its filter, and the
    worker calls the gRPC service through Service Connect (an edge from the worker's node, not a stray service node)."""
    text = mermaid(example("complete"))
    topic, queue = node_id("topic", "order-events"), node_id("queue", "fulfilment")
    assert f'{node_id("svc", "api")} -->|"publishes"| {topic}' in text
    assert f'{topic} -->|"event: order_placed or order_paid"| {queue}' in text
    assert f'{node_id("wrk", "fulfilment")} -.->|"pricing:50051"| {node_id("svc", "pricing")}' in text
    assert node_id("svc", "fulfilment") not in text
