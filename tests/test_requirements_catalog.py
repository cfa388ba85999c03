"""docs/requirements.md, the requirement catalog, stays in step with the code and the tests.

- Every requirement ID cited in ``ecs_platform/``, ``tests/``, ``specs/*.yaml`` or ``README.md``
  (``SEC-2``, ranges such as ``IAM-1..4``, lists such as ``SEC-4/5``, and test names such as
  ``test_sec2_...``) has a row in the catalog.
- Every test a row names (``tests/...py::test_name``, optionally ``[case]``) exists.
- Every module path and symbol the catalog names exists.
- Every ID of the source catalog has a row (only where that file is present: the repository
  is also cloned without it).

Plain text only: no CDK, no synthesis.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "docs" / "requirements.md"
#: The source catalog that docs/requirements.md restates. It lives outside the repository, so clones may lack it.
SOURCE_CATALOG = Path(os.environ.get("ECS_PLATFORM_REQUIREMENTS_SOURCE", ROOT.parent / "shared" / "requirements.md"))

GROUPS = ("ARCH", "USE", "BP", "HA", "SEC", "IAM", "OBS", "LIM", "CLI", "COST")
_GROUP = "|".join(GROUPS)

#: An ID as text cites it: ``SEC-2``, a range ``IAM-1..4`` or a list ``SEC-4/5``. Letters or
#: digits right before the group would make it another word (``SHA-256``); ``_HA-3`` counts.
CITED_ID = re.compile(rf"(?<![A-Za-z0-9])({_GROUP})-(\d+)(?:(\.\.|/)(\d+))?")
#: A test function's name, and an ID in it: ``test_sec2_...``, ``test_use3_cli9_...``.
TEST_FUNCTION = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+(test_\w+)[ \t]*\(", re.MULTILINE)
NAME_ID = re.compile(rf"(?<=_)({_GROUP.lower()})(\d+)(?=_|$)")
#: A catalog row: ``| SEC-2 | requirement | where it is built | proved by |``.
ROW = re.compile(rf"^\|[ \t]*((?:{_GROUP})-\d+)[ \t]*\|(.*)\|[ \t]*$", re.MULTILINE)
#: A test reference: ``tests/unit/test_x.py::test_y`` or ``...::test_y[case]``, in backticks.
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)(?:\[[^\]`]*\])?`")
#: A module and the symbols after it: ``ecs_platform/x.py`` (``Name``, ``Name.attribute``: words).
MODULE_SYMBOLS = re.compile(r"`(ecs_platform/[\w/]+\.py)`[ \t]*\(([^()]*)\)")
#: Any repository path the catalog names in backticks.
REPO_PATH = re.compile(r"`((?:ecs_platform|tests|specs)/[\w/.-]+\.(?:py|yaml|json))`")
IDENTIFIER = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
NO_TEST = "no test yet"


@dataclass(frozen=True)
class Row:
    """One requirement of the catalog: its ID and the text of its three other cells."""

    id: str
    requirement: str
    built: str
    proved_by: str


# --- reading the catalog and the sources ---------------------------------------------------


def row_ids(text: str) -> list[str]:
    """The IDs of the requirement rows of a markdown table, in order (any number of columns)."""
    return [match.group(1) for match in ROW.finditer(text)]


def catalog_rows(text: str) -> list[Row]:
    """The requirement rows of a catalog, in order (cells split on ``|``; cells never contain one)."""
    rows = []
    for match in ROW.finditer(text):
        cells = [cell.strip() for cell in match.group(2).split("|")]
        assert len(cells) == 3, f"{match.group(1)}: {len(cells) + 1} cells; allowed: 4 (ID, requirement, where built, proved by)"
        rows.append(Row(match.group(1), *cells))
    return rows


def ids_cited_in(text: str) -> set[str]:
    """Every ID ``text`` cites, with ranges (``IAM-1..4``) and lists (``SEC-4/5``) expanded."""
    ids = set()
    for group, first, separator, last in CITED_ID.findall(text):
        low, high = int(first), int(last or first)
        numbers = range(low, high + 1) if separator == ".." else {low, high}
        ids.update(f"{group}-{number}" for number in numbers)
    return ids


def ids_in_test_names(text: str) -> set[str]:
    """Every ID the names of the test functions in ``text`` carry: ``test_sec1_ha2_x`` -> SEC-1, HA-2."""
    return {f"{group.upper()}-{number}" for name in TEST_FUNCTION.findall(text) for group, number in NAME_ID.findall(name)}


def citing_files() -> Iterator[Path]:
    """The files whose IDs must resolve in the catalog (not this one: its IDs are examples)."""
    yield from sorted((ROOT / "ecs_platform").rglob("*.py"))
    yield from sorted(path for path in (ROOT / "tests").rglob("*.py") if path != Path(__file__).resolve())
    yield from sorted((ROOT / "specs").glob("*.yaml"))
    yield ROOT / "README.md"


def cited_ids() -> dict[str, list[str]]:
    """Every cited ID, with the files that cite it (relative paths)."""
    cited: dict[str, list[str]] = {}
    for path in citing_files():
        text = path.read_text(encoding="utf-8")
        ids = ids_cited_in(text) | (ids_in_test_names(text) if path.suffix == ".py" else set())
        for requirement in ids:
            cited.setdefault(requirement, []).append(str(path.relative_to(ROOT)))
    return cited


def missing_rows(rows: list[Row], cited: dict[str, list[str]]) -> dict[str, list[str]]:
    """The cited IDs without a row, with the files that cite them."""
    listed = {row.id for row in rows}
    return {requirement: files for requirement, files in sorted(cited.items()) if requirement not in listed}


@cache
def defined_tests(path: Path) -> frozenset[str]:
    """The names of the test functions defined in ``path`` (top level or in a class)."""
    return frozenset(TEST_FUNCTION.findall(path.read_text(encoding="utf-8")))


def unresolved_test_refs(cell: str) -> list[str]:
    """The test references in ``cell`` whose file or function does not exist."""
    broken = []
    for file, function in TEST_REF.findall(cell):
        path = ROOT / file
        if not path.is_file():
            broken.append(f"{file}::{function} (no such file)")
        elif function not in defined_tests(path):
            broken.append(f"{file}::{function} (no such test function)")
    return broken


def unresolved_symbols(text: str) -> list[str]:
    """The symbols named after a module (``ecs_platform/x.py`` (``Name.attribute``)) that the module lacks."""
    missing = []
    for module, names in MODULE_SYMBOLS.findall(text):
        path = ROOT / module
        if not path.is_file():
            continue  # test_every_path_the_catalog_names_exists reports it
        source = path.read_text(encoding="utf-8")
        for symbol in re.findall(r"`([^`]+)`", names):
            if IDENTIFIER.fullmatch(symbol) and not all(re.search(rf"\b{re.escape(part)}\b", source) for part in symbol.split(".")):
                missing.append(f"{module}: {symbol}")
    return missing


@pytest.fixture(scope="module")
def catalog() -> str:
    return CATALOG.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rows(catalog: str) -> list[Row]:
    return catalog_rows(catalog)


# --- the catalog itself --------------------------------------------------------------------


def test_each_id_has_exactly_one_row_with_every_cell_filled(rows: list[Row]) -> None:
    """Given the catalog, when its rows are read, then no ID has two rows and no cell is empty."""
    ids = [row.id for row in rows]
    assert rows, f"{CATALOG} has no requirement rows"
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    assert [row.id for row in rows if not (row.requirement and row.built and row.proved_by)] == []


def test_every_row_names_a_test_or_says_there_is_none(rows: list[Row]) -> None:
    """Given the catalog, then each "proved by" cell names at least one test, or says "no test yet"."""
    assert [row.id for row in rows if not TEST_REF.search(row.proved_by) and row.proved_by.lower() != NO_TEST] == []


# --- the catalog against the repository ----------------------------------------------------


def test_every_cited_id_has_a_row(rows: list[Row]) -> None:
    """Given the IDs cited by the code, the tests, the example specs and the README,
    when each is looked up in the catalog,
    then every one has a row."""
    assert missing_rows(rows, cited_ids()) == {}, f"cited but not in {CATALOG.relative_to(ROOT)}: add a row for each"


def test_every_test_a_row_names_exists(rows: list[Row]) -> None:
    """Given the tests each row's "proved by" cell names,
    when each file is opened,
    then it defines that test function (a parametrized case is checked by its function)."""
    broken = {row.id: refs for row in rows if (refs := unresolved_test_refs(row.proved_by))}
    assert broken == {}


def test_every_test_the_notes_name_exists(catalog: str) -> None:
    """Given the whole catalog (notes included), then every test it names exists."""
    assert unresolved_test_refs(catalog) == []


def test_every_path_the_catalog_names_exists(catalog: str) -> None:
    """Given the module, test and spec paths the catalog names, then each file exists."""
    assert sorted({path for path in REPO_PATH.findall(catalog) if not (ROOT / path).is_file()}) == []


def test_every_symbol_the_catalog_names_is_in_its_module(catalog: str) -> None:
    """Given ``module.py`` (``Name``, ``Name.attribute``) in "where it is built",
    then each name (every dotted part) appears in that module, so a rename shows up here."""
    assert unresolved_symbols(catalog) == []


def test_every_id_of_the_source_catalog_has_a_row(rows: list[Row]) -> None:
    """Given the source catalog (skipped where it is absent),
    when its IDs are compared with the catalog's rows,
    then every source ID has a row."""
    if not SOURCE_CATALOG.is_file():
        pytest.skip(f"{SOURCE_CATALOG} is not present")
    source = set(row_ids(SOURCE_CATALOG.read_text(encoding="utf-8")))
    assert source, f"{SOURCE_CATALOG} has no requirement rows"
    assert sorted(source - {row.id for row in rows}) == []


# --- the helpers, on small examples ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see SEC-2.", {"SEC-2"}),
        ("IAM-1..4", {"IAM-1", "IAM-2", "IAM-3", "IAM-4"}),
        ("SEC-4/5 and USE-1/2", {"SEC-4", "SEC-5", "USE-1", "USE-2"}),
        ('"desired_count_is_1_HA-3"', {"HA-3"}),
        ("SHA-256, UTF-8, GMT-9, XARCH-1", set()),
    ],
)
def test_ids_cited_in_text(text: str, expected: set[str]) -> None:
    """Given a text, when its IDs are read, then ranges and lists are expanded and other words are not IDs."""
    assert ids_cited_in(text) == expected


def test_ids_in_test_names() -> None:
    """Given test functions, when the IDs in their names are read, then each ``_<group><number>`` counts."""
    source = "def test_sec1_ha2_subnets() -> None:\n    pass\n\n\nasync def test_defaults_ha3(x):\n    pass\ndef helper_sec9(): ...\n"
    assert ids_in_test_names(source) == {"SEC-1", "HA-2", "HA-3"}


def test_a_missing_row_and_a_renamed_test_are_reported() -> None:
    """Given a catalog with one row, whose test does not exist,
    when it is checked against two cited IDs,
    then the ID without a row and the broken reference are both reported."""
    catalog = "| ID | r | b | p |\n|---|---|---|---|\n| SEC-2 | r | b | `tests/test_requirements_catalog.py::test_no_such_name[case]` |\n"
    rows = catalog_rows(catalog)
    assert missing_rows(rows, {"SEC-1": ["a.py"], "SEC-2": ["b.py"]}) == {"SEC-1": ["a.py"]}
    assert unresolved_test_refs(rows[0].proved_by) == ["tests/test_requirements_catalog.py::test_no_such_name (no such test function)"]
