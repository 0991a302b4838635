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
