"""Where each number typed in README.md and docs/ comes from (issue 35: no number typed by hand
without committed evidence behind it).

A number typed from committed evidence carries a marker that ``tests/test_docs.py`` checks:

- ``<!-- result:FOLDER/ROW/COLUMN -->VALUE<!-- /result -->``: a cell of ``results/FOLDER``'s
  report (its ``table.json``), rounded to the digits typed;
- ``<!-- evidence:PATH -->VALUE<!-- /evidence -->``: VALUE as it is written in the committed
  file ``results/PATH`` (a report's ``README.md`` or ``table.md``, a benchmark record), or, in
  a JSON file (a report's ``runs.json``: every run's curve), a number there rounded to VALUE's
  digits;
- ``<!-- runs:PROTOCOL/BUDGET -->N<!-- /runs -->``: a budget's run count.

``python scripts/docs_numbers.py`` lists every marked number with its source, and counts the
numbers still typed without one (decimals with two or more digits after the point, outside code
and links, that are neither a setting of a protocol's runs nor a published number of one;
``--unmarked`` lists them with their lines). ``--mark`` wraps each unmarked number of four or
more significant digits (``--digits``) that is written, as the same token, in a results file
linked from the same section of the page (the text between two headings; for fewer than four
digits, the same paragraph) in an ``evidence`` marker pointing at the nearest such link; what
it cannot attribute stays unmarked and listed.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
MARKED = re.compile(
    r"<!-- (?P<kind>result|evidence|runs):(?P<source>[^>]*?) -->(?P<value>[^<]*)<!-- /(?P=kind) -->"
)
# a decimal with at least two digits after the point, not part of a longer dotted token (a
# version, a file name) or of a word; the second number of a range (0.94-1.09) counts too
NUMBER = re.compile(r"(?<![\w./])-?\d+\.\d{2,}(?:e[-+]?\d+)?(?![\w/]|\.\d)")
_CODE_BLOCK = re.compile(r"```.*?```", re.S)
_CODE_SPAN = re.compile(r"`[^`]*?`")  # a span may wrap onto the next line
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_RESULTS_LINK = re.compile(r"\]\((?:\.\./)?results/([^)#\s]+)\)")
_HEADING = re.compile(r"^#{1,6} ", re.M)


def _floats(value: object) -> Iterator[float]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _floats(item)
    elif isinstance(value, float):
        yield value


def known_values() -> tuple[set[float], set[float]]:
    """(every float setting of every protocol's runs and the long-term problems' tolerance,
    every published number): typed numbers that are not results of ours."""
    from inertia.data import LONG_TERM_TOLERANCE
    from inertia.protocols import PROTOCOLS

    settings = {
        value
        for protocol in PROTOCOLS.values()
        for budget in protocol.budgets.values()
        for run in budget.plan().values()
        for value in _floats(run.overrides)
    } | {LONG_TERM_TOLERANCE}
    published = {value for protocol in PROTOCOLS.values() for value in protocol.published.values()}
    return settings, published


def significant_digits(value: str) -> int:
    mantissa = value.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa)


def pages() -> list[Path]:
    """README.md and the docs pages."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Number:
    """A number typed on a page: where, what, and its source (empty: none)."""

    page: str
    line: int
    value: str
    kind: str = ""
    source: str = ""


def _masked(text: str, patterns: tuple[re.Pattern[str], ...]) -> str:
    """``text`` with what ``patterns`` match blanked out (same length, so offsets and lines
    stay)."""
    for pattern in patterns:
        text = pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    return text


_CODE = (_CODE_BLOCK, _CODE_SPAN)


def _name(page: Path) -> str:
    """The page's path from the repository root (its own path if it lies elsewhere)."""
    return page.relative_to(ROOT).as_posix() if page.is_relative_to(ROOT) else str(page)


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def marked_numbers(page: Path) -> Iterator[Number]:
    """The numbers typed with a marker (markers shown as code are examples, not claims)."""
    text = _masked(page.read_text(), _CODE)
    for match in MARKED.finditer(text):
        yield Number(_name(page), _line(text, match.start()),
                     match["value"], match["kind"], match["source"])  # fmt: skip


def unmarked_numbers(
    page: Path,
    known: AbstractSet[float] = frozenset(),
) -> Iterator[tuple[int, re.Match[str]]]:
    """(offset, match) of each number typed without a marker, other than the ``known`` values
    (settings, published numbers)."""
    masked = _masked(page.read_text(), (*_CODE, _LINK_TARGET, MARKED))
    for match in NUMBER.finditer(masked):
        if float(match.group(0)) not in known:
            yield match.start(), match


# a JSON number, not digits inside a word (a run id such as "1580e1966553647b" is no number)
_JSON_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")


def written_in(value: str, text: str, rounded: bool = False) -> bool:
    """Whether ``value`` is written in ``text`` as a whole token (not inside a longer number);
    with ``rounded`` (a JSON file, whose numbers carry every digit), whether a number of
    ``text`` rounds to ``value`` at the digits typed (0.2198 stands for 0.219834...)."""
    if re.search(rf"(?<![\d.]){re.escape(value)}(?!\d|\.\d)", text) is not None:
        return True
    if not rounded:
        return False
    typed = Decimal(value)
    exponent = typed.as_tuple().exponent
    assert isinstance(exponent, int)
    tolerance = Decimal(5) * Decimal(10) ** (exponent - 1)
    return any(abs(Decimal(number) - typed) <= tolerance for number in _JSON_NUMBER.findall(text))


def _evidence_files(folder: Path) -> list[Path]:
    """The human-readable evidence of a results folder or file: its README.md and table.md."""
    if folder.is_file():
        return [folder] if folder.suffix == ".md" else []
    return [path for name in ("README.md", "table.md") if (path := folder / name).is_file()]


def _linked_evidence(text: str, start: int, end: int, offset: int) -> list[Path]:
    """The results files linked in ``text[start:end]``, nearest to ``offset`` first (the links
    before it, closest first, then those after it)."""
    links = [(m.start(), m.group(1)) for m in _RESULTS_LINK.finditer(text, start, end)]
    ordered = sorted(links, key=lambda link: (link[0] > offset, abs(link[0] - offset)))
    found: list[Path] = []
    for _, target in ordered:
        path = RESULTS / target
        folder = path if path.is_dir() else path.parent
        for file in [*_evidence_files(path), *_evidence_files(folder)]:
            if file not in found:
                found.append(file)
    return found


def _around(text: str, offset: int, separator: re.Pattern[str]) -> tuple[int, int]:
    """The span of ``text`` between the separators before and after ``offset``."""
    before = [m.end() for m in separator.finditer(text, 0, offset)]
    after = separator.search(text, offset)
    return (before[-1] if before else 0), (after.start() if after else len(text))


_PARAGRAPH = re.compile(r"\n\s*\n")


def mark(page: Path, known: set[float], digits: int = 4) -> tuple[int, int]:
    """Wrap each unmarked number of ``page`` (``digits`` or more significant digits, not
    ``known``) that a results file linked nearby writes in an evidence marker: the nearest such
    link of its section (between two headings), or, for numbers of fewer than four significant
    digits, which match by chance more often, of its paragraph. (marked, left) counts."""
    text = page.read_text()
    marked = left = 0
    pieces: list[str] = []
    cursor = 0
    contents: dict[Path, str] = {}
    for offset, match in unmarked_numbers(page, known):
        value = match.group(0)
        precise = significant_digits(value)
        if precise < digits:
            left += 1
            continue
        start, end = _around(text, offset, _HEADING if precise >= 4 else _PARAGRAPH)
        source = next(
            (
                file for file in _linked_evidence(text, start, end, offset)
                if written_in(value, contents.setdefault(file, file.read_text()))
            ),
            None,
        )  # fmt: skip
        if source is None:
            left += 1
            continue
        relative = source.relative_to(RESULTS).as_posix()
        pieces += [text[cursor:offset], f"<!-- evidence:{relative} -->{value}<!-- /evidence -->"]
        cursor = offset + len(value)
        marked += 1
    pieces.append(text[cursor:])
    if marked:
        page.write_text("".join(pieces))
    return marked, left


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--unmarked", action="store_true", help="list the unmarked numbers")
    parser.add_argument("--mark", action="store_true",
                        help="mark the numbers that linked evidence writes")  # fmt: skip
    parser.add_argument("--digits", type=int, default=4,
                        help="--mark: the fewest significant digits a number needs (fewer "
                        "digits match by chance more often: read the diff)")  # fmt: skip
    parser.add_argument("--page", action="append", default=[],
                        help="--mark: only this page (repeatable; default: all)")  # fmt: skip
    args = parser.parse_args(argv)
    settings, published = known_values()
    known = settings | published
    if args.mark:
        chosen = [ROOT / name for name in args.page] or pages()
        for page in chosen:
            done, left = mark(page, known, args.digits)
            print(f"{_name(page)}: {done} marked, {left} left", file=sys.stderr)
    print("| page | line | number | source |")
    print("|---|---|---|---|")
    for page in pages():
        for number in marked_numbers(page):
            where = (f"results/{number.source}" if number.kind != "runs"
                     else f"protocol {number.source}")  # fmt: skip
            print(f"| {number.page} | {number.line} | {number.value} | {where} |")
    print()
    print("| page | numbers typed without a source |")
    print("|---|---|")
    for page in pages():
        text = page.read_text()
        unmarked = list(unmarked_numbers(page, known))
        print(f"| {_name(page)} | {len(unmarked)} |")
        if args.unmarked:
            for offset, match in unmarked:
                print(f"|   line {_line(text, offset)} | {match.group(0)} |")


if __name__ == "__main__":
    main()
