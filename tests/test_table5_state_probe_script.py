"""scripts/table5_state_probe.py: a Table 5 network's output layer refitted on its hidden states
(issue 39)."""

from __future__ import annotations

import json

import pytest
import torch

from inertia.experiments import RunConfig, from_mapping, train

FIT = ["--fit-cases", "400"]


@pytest.fixture(scope="module")
def probe(load_script):
    return load_script("table5_state_probe")


def _run(folder, problem: str, length: int, steps: int = 30, **task) -> RunConfig:
    config = from_mapping(
        RunConfig,
        {
            "task": {"name": "long-term", "problem": problem, "length": length,
                     "eval_cases": 200, **task},
            "optimizer": {"name": "nag", "lr": 1e-3, "momentum": 0.9,
                          "momentum_schedule": "rnn"},
            "batch_size": 20, "steps": steps, "eval_every": steps, "checkpoint_every": steps,
        },
    )  # fmt: skip
    train(config, folder)
    return config


def test_ridge_recovers_a_linear_read_out(probe):
    generator = torch.Generator().manual_seed(0)
    states = torch.randn(500, 6, generator=generator, dtype=torch.float64)
    weights = torch.randn(6, 3, generator=generator, dtype=torch.float64)
    targets = states @ weights + torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    fitted = probe.ridge(states, targets, penalty=1e-12)
    assert torch.allclose(fitted[:-1], weights, atol=1e-8)
    assert torch.allclose(fitted[-1], torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64))
    # a large penalty shrinks the weights, never the (unpenalised) bias
    shrunk = probe.ridge(states, targets, penalty=1e6)
    assert shrunk[:-1].abs().max() < 1e-4
    assert torch.allclose(shrunk[-1], targets.mean(0), atol=1e-3)


def test_a_state_that_holds_the_symbols_is_read_perfectly(probe):
    """States that are the one-hot symbols themselves: the refitted read-outs make no error;
    states drawn independently of the symbols leave them at chance."""
    generator = torch.Generator().manual_seed(1)
    k, cases, classes = 5, 2000, 2
    targets = torch.randint(0, classes, (k, cases), generator=generator).double()
    position = torch.eye(k, dtype=torch.float64)[:, None, :].expand(k, cases, k)
    symbol = torch.nn.functional.one_hot(targets.long(), classes).double()
    states = torch.cat([symbol, position], -1)
    fit, scored = (states[:, :1000], targets[:, :1000]), (states[:, 1000:], targets[:, 1000:])
    shared, each = probe.readout_errors("memorization-5bit", fit, scored, penalty=1e-6)
    assert (shared, each) == (0.0, 0.0)
    noise = torch.randn(k, cases, 7, generator=generator, dtype=torch.float64)
    fit, scored = (noise[:, :1000], targets[:, :1000]), (noise[:, 1000:], targets[:, 1000:])
    shared, each = probe.readout_errors("memorization-5bit", fit, scored, penalty=1e-6)
    assert 2.0 < shared < 3.0  # chance: 2.5 of 5
    assert 2.0 < each < 3.0


def test_the_probe_recomputes_the_runs_own_error(probe, tmp_path):
    folders = [tmp_path / "mem5", tmp_path / "add"]
    _run(folders[0], "memorization-5bit", 20)
    _run(folders[1], "addition", 20)
    out = tmp_path / "report"
    probe.main([str(f) for f in folders] + ["--out", str(out), *FIT])
    record = json.loads((out / "probe.json").read_text())
    rows = {row["problem"]: row for row in record["runs"]}
    for row in rows.values():
        assert row["net_final"] == pytest.approx(row["recorded"])
        assert row["column"] == "0.9N"
    assert rows["memorization-5bit"]["per_step_final"] is not None
    assert rows["addition"]["per_step_final"] is None
    # the per-step read-outs are fitted on more freedom than the shared one: they hold at least
    # as much on the sequences they were fitted to; on fresh ones nearly so
    assert (
        rows["memorization-5bit"]["per_step_final"]
        <= rows["memorization-5bit"]["shared_final"] + 0.1
    )
    text = (out / "README.md").read_text()
    assert "equals the run's recorded `train_error` in 2 of 2 runs" in text
    assert (out / "probe.png").stat().st_size > 10_000
    assert record["provenance"]["fit_cases"] == 400


def test_the_initial_network_is_the_runs_initialization(probe, tmp_path):
    """'initial' is the network the run started from: a run of zero effective updates (lr 0
    is refused, so compare with the run's first evaluation instead)."""
    folder = tmp_path / "run"
    config = _run(folder, "memorization-20bit", 30, steps=20)
    first = json.loads((folder / "result.json").read_text())["curve"][0]
    assert first["step"] == 0
    row = probe.probe_run(folder, 300, 1e-4)
    assert row.net_initial == pytest.approx(first["train_error"])
    assert row.seed == config.seed


def test_a_readout_run_keeps_its_states(probe, tmp_path):
    """Trained alone, the output layer leaves the recurrent layer as it was: the refit reads the
    trained network's states exactly as the initial network's."""
    folder = tmp_path / "run"
    _run(folder, "memorization-5bit", 20, readout_only=True, loss_reduction="per-sequence")
    row = probe.probe_run(folder, 300, 1e-4)
    assert row.column == "readout 0.9N, summed loss"
    assert (row.shared_final, row.per_step_final) == (row.shared_initial, row.per_step_initial)
    assert row.net_final != row.net_initial


def test_folders_it_cannot_read_are_one_line_errors(probe, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        probe.main([str(tmp_path / "missing"), "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("table5_state_probe: ")
    assert "result.json" in message
    assert "\n" not in message
    folder = tmp_path / "run"
    _run(folder, "addition", 20, steps=10)
    (folder / "checkpoint.pt").unlink()
    with pytest.raises(SystemExit):
        probe.main([str(folder), "--out", str(tmp_path / "out")])
    assert "checkpoint.pt" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        probe.main([str(folder), "--out", str(tmp_path / "out"), "--fit-cases", "0"])
    assert "--fit-cases" in capsys.readouterr().err


def test_extend_keeps_the_rows_of_runs_whose_weights_are_gone(probe, tmp_path, capsys):
    """A run folder lives only as long as its checkpoint: a record extended over sessions keeps
    every earlier row, its session, title and note, and replaces the row of a run probed again."""
    first, second = tmp_path / "first", tmp_path / "second"
    _run(first, "addition", 20, steps=10)
    _run(second, "memorization-5bit", 20, steps=10)
    out = tmp_path / "record"
    note = tmp_path / "note.md"
    note.write_text("What it shows: the first session's reading.\n")
    titled = ["--title", "Probe record", "--note", str(note)]
    probe.main([str(first), "--out", str(out), *titled, *FIT])
    kept = json.loads((out / "probe.json").read_text())["runs"][0]
    (first / "checkpoint.pt").unlink()  # the next session no longer has this run's weights
    probe.main([str(second), "--out", str(out), "--extend", *FIT])
    record = json.loads((out / "probe.json").read_text())
    assert [row["run"] for row in record["runs"]] == ["first", "second"]
    assert record["runs"][0] == kept
    assert [row["session"] for row in record["runs"]] == [0, 1]
    assert len(record["sessions"]) == 2
    assert "first" in record["sessions"][0]["command"]
    assert "second" in record["sessions"][1]["command"]
    text = (out / "README.md").read_text()
    assert text.startswith("# Probe record\n")
    assert "What it shows: the first session's reading." in text
    assert "in 2 of 2 runs" in text
    assert "Session 2: `python" in text
    # probed again, a run replaces its row rather than adding a second
    probe.main([str(second), "--out", str(out), "--extend", *FIT])
    record = json.loads((out / "probe.json").read_text())
    assert [row["run"] for row in record["runs"]] == ["first", "second"]
    assert [row["session"] for row in record["runs"]] == [0, 2]
    # without --extend the record is the given runs' alone
    probe.main([str(second), "--out", str(out), *FIT])
    assert [r["run"] for r in json.loads((out / "probe.json").read_text())["runs"]] == ["second"]
    capsys.readouterr()
    # rows fitted otherwise would not compare: refused in one line, the record untouched
    before = (out / "probe.json").read_text()
    with pytest.raises(SystemExit):
        probe.main([str(second), "--out", str(out), "--extend", "--fit-cases", "300"])
    message = capsys.readouterr().err.strip()
    assert "fit_cases" in message
    assert "--fit-cases 400" in message
    assert "\n" not in message
    assert (out / "probe.json").read_text() == before
    (out / "probe.json").write_text("{not json")
    with pytest.raises(SystemExit):
        probe.main([str(second), "--out", str(out), "--extend", *FIT])
    assert "is not a probe record" in capsys.readouterr().err
