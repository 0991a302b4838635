"""Numbers that docs type about the protocols must be the protocols' own: every run count is
marked ``<!-- runs:PROTOCOL/BUDGET -->N<!-- /runs -->`` and checked here."""

from __future__ import annotations

import re
from pathlib import Path

from inertia.protocols import PROTOCOLS

ROOT = Path(__file__).parents[1]
MARKER = re.compile(r"<!-- runs:([\w.-]+)/([\w-]+) -->(\d+)<!-- /runs -->")


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
