"""scripts/docs_numbers.py: which typed numbers have a source, and marking them (issue 35)."""

from __future__ import annotations


def test_mark_wraps_numbers_that_the_sections_linked_evidence_writes(load_script, tmp_path,
                                                                     monkeypatch):  # fmt: skip
    script = load_script("docs_numbers")
    results = tmp_path / "results"
    (results / "clip").mkdir(parents=True)
    (results / "clip" / "README.md").write_text("| 0 | 0.1655 | 0.4594 (mean) | 10.45 |\n")
    (results / "other").mkdir()
    (results / "other" / "table.md").write_text("| 0.9265 |\n")
    monkeypatch.setattr(script, "RESULTS", results)
    page = tmp_path / "page.md"
    page.write_text(
        "# One\n\nSee [clip](../results/clip/README.md): mean 0.4594, seed 0.1655, `0.4594` in\n"
        "code, 0.9265 (linked only below), 0.995 a setting, 0.12 too short, 0.45 not there,\n"
        "and 0.10455 longer than 10.45.\n\n"
        "## Two\n\n[other](../results/other/table.md) 0.9265 and 0.4594 (not linked here).\n"
    )  # fmt: skip
    marked, left = script.mark(page, {0.995})
    text = page.read_text()
    assert "mean <!-- evidence:clip/README.md -->0.4594<!-- /evidence -->," in text
    assert "seed <!-- evidence:clip/README.md -->0.1655<!-- /evidence -->," in text
    assert "`0.4594` in" in text  # code is not a claim
    assert "code, 0.9265 (linked" in text
    assert "<!-- evidence:other/table.md -->0.9265<!-- /evidence --> and 0.4594 (not" in text
    assert "0.10455 longer than <!-- evidence:clip/README.md -->10.45<!-- /evidence -->." in text
    assert (marked, left) == (4, 5)  # the setting 0.995 is not counted
    unmarked = [m.group(0) for _, m in script.unmarked_numbers(page, {0.995})]
    assert unmarked == ["0.9265", "0.12", "0.45", "0.10455", "0.4594"]
    assert [n.value for n in script.marked_numbers(page)] == ["0.4594", "0.1655", "10.45",
                                                              "0.9265"]  # fmt: skip


def test_significant_digits(load_script):
    module = load_script("docs_numbers")
    assert [module.significant_digits(v) for v in ("0.4594", "0.05", "12.44", "1.5e-05")] == [
        4,
        1,
        4,
        2,
    ]


def test_a_json_evidence_file_holds_the_number_rounded(load_script):
    script = load_script("docs_numbers")
    text = '{"curve": [{"step": 40, "train_loss": 0.21983469, "x": 27.85371}]}'
    assert script.written_in("0.2198", text, rounded=True)
    assert script.written_in("27.85", text, rounded=True)
    assert script.written_in("40", text)  # as a token
    assert not script.written_in("0.2198", text)  # not as written
    assert not script.written_in("0.2199", text, rounded=True)
    assert not script.written_in("0.22", text + ' "y": 0.23', rounded=False)
    # the digits of a run id are no number (and one with a huge "exponent" must not overflow)
    assert not script.written_in("7.1", '{"run": "1580e1966553647b"}', rounded=True)
    assert not script.written_in("0.50", '{"run": "0a0.5c"}', rounded=True)
