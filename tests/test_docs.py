"""Numbers that docs type about the protocols must be the protocols' own: every run count is
marked ``<!-- runs:PROTOCOL/BUDGET -->N<!-- /runs -->``, and a result typed from a committed
report ``<!-- result:FOLDER/ROW/COLUMN -->VALUE<!-- /result -->`` (FOLDER under results/, the
cell's ``ours`` in its table.json, as many digits as typed); both are checked here."""

from __future__ import annotations

import re
from pathlib import Path

from inertia.protocols import PROTOCOLS

ROOT = Path(__file__).parents[1]
MARKER = re.compile(r"<!-- runs:([\w.-]+)/([\w-]+) -->(\d+)<!-- /runs -->")
RESULT = re.compile(r"<!-- result:([\w.-]+)/([^/]+)/([^/]+?) -->([-\d.e]+)<!-- /result -->")


def test_run_counts_typed_in_the_docs_are_the_protocols_own():
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for protocol, budget, count in MARKER.findall(path.read_text()):
            planned = len(PROTOCOLS[protocol].budget(budget).plan())
            found.append((path.name, protocol, budget, int(count), planned))
    assert len(found) >= 14
    assert [f for f in found if f[3] != f[4]] == []


def test_the_api_reference_covers_every_public_module_and_is_built_strictly():
    """Issue 38: the reference is generated from the docstrings (mkdocs.yml, built with
    --strict in the README's test command, so a broken reference fails CI); every subpackage of
    inertia has a page."""
    import pkgutil

    import yaml

    import inertia

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "mkdocs.yml").read_text())
    assert config["strict"] is True
    pages = {next(iter(entry.values())) for entry in config["nav"]}
    modules = {
        info.name
        for info in pkgutil.iter_modules(inertia.__path__)
        if not info.name.startswith("_") and info.ispkg
    }
    for module in modules:
        page = root / config["docs_dir"] / f"{module}.md"
        assert f"{module}.md" in pages, module
        assert f"::: inertia.{module}" in page.read_text(), module
    readme = (root / "README.md").read_text()
    command = readme.split("<!-- test-command -->")[1].split("<!-- /test-command -->")[0]
    assert "mkdocs build --strict" in command


def _typed_results() -> list[tuple[str, str, str, str, str]]:
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for folder, row, column, typed in RESULT.findall(path.read_text()):
            found.append((path.name, folder, row, column, typed))
    return found


def test_results_typed_in_the_docs_are_their_reports_numbers():
    """Each marked number equals its report's cell rounded to the digits typed (7.436 stands
    for 7.4355...; a typed 5e-05 for 5e-05 exactly)."""
    import json
    from decimal import Decimal

    found = _typed_results()
    assert len(found) >= 4
    wrong = []
    for page, folder, row, column, typed in found:
        report = json.loads((ROOT / "results" / folder / "table.json").read_text())
        cells = {(c["row"], c["column"]): c["ours"] for c in report["cells"]}
        value = cells.get((row, column))
        exponent = Decimal(typed).as_tuple().exponent
        assert isinstance(exponent, int)
        if value is None or abs(Decimal(str(value)) - Decimal(typed)) > Decimal(5) * Decimal(
            10
        ) ** (exponent - 1):
            wrong.append((page, folder, row, column, typed, value))
    assert wrong == []


def test_numbers_typed_from_evidence_are_written_there(load_script):
    """Issue 35: a number marked ``<!-- evidence:PATH -->VALUE<!-- /evidence -->`` is written,
    as the same token, in the committed file results/PATH (a report's table.md or README.md,
    a benchmark record), or, in a JSON file (runs.json), is a number there rounded."""
    script = load_script("docs_numbers")
    found, wrong = 0, []
    contents: dict[Path, str] = {}
    for page in script.pages():  # markers shown as code are examples: not listed
        for number in script.marked_numbers(page):
            if number.kind != "evidence":
                continue
            found += 1
            source, value = number.source, number.value
            file = ROOT / "results" / source
            if file not in contents:
                contents[file] = file.read_text() if file.is_file() else ""
            if not script.written_in(value, contents[file], rounded=file.suffix == ".json"):
                wrong.append((page.name, source, value))
    assert found >= 50
    assert wrong == []


def test_no_page_types_a_number_without_a_source(load_script):
    """Issue 35: no decimal of two or more places is typed without a marker naming its source
    (scripts/docs_numbers.py counts them), other than a protocol's setting or a published
    number; the pages reached zero one by one, and stay there."""
    script = load_script("docs_numbers")
    known = set.union(*script.known_values())
    unmarked = {
        page.relative_to(ROOT).as_posix(): [match.group(0) for _, match in found]
        for page in script.pages()
        if (found := list(script.unmarked_numbers(page, known)))
    }
    assert unmarked == {}, "mark these numbers with their source (scripts/docs_numbers.py --mark)"
