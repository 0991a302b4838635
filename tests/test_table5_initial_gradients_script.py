"""scripts/table5_initial_gradients.py: the gradient of each parameter of the initial network
(issue 39)."""

from __future__ import annotations

import pytest
import torch

SHORT = ["--set", "task.length=20", "--cases", "64"]


def test_the_table_has_each_seed_and_parameter(load_script, capsys):
    script = load_script("table5_initial_gradients")
    script.main(["--seeds", "0", "1", *SHORT])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| seed | loss | ‖∂L/∂rnn.weight_ih_l0‖ | ‖∂L/∂rnn.weight_hh_l0‖")
    assert "rnn.bias_hh_l0" not in lines[0]  # the authors' single hidden bias: frozen, no gradient
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| 0", "| 1"]


def test_the_norms_are_the_gradient_of_the_first_minibatches(load_script):
    from inertia.experiments import RunConfig, from_mapping, merge, nest, prepare

    script = load_script("table5_initial_gradients")
    config = from_mapping(RunConfig, merge(nest(script.DEFAULTS), {"task": {"length": 20}}))
    loss, norms = script.initial_gradients(config, 64)
    prepared = prepare(config)  # the same seed: the same network and the same sequences
    prepared.problem.batches.start(config.seed, torch.device("cpu"), torch.float32)
    inputs, targets = prepared.problem.batches.next(64)
    value = prepared.problem.loss(prepared.model(inputs), targets)
    value.backward()
    assert loss == pytest.approx(float(value.detach()))
    weight = prepared.model.rnn.weight_ih_l0
    assert norms["rnn.weight_ih_l0"] == pytest.approx(float(weight.grad.norm()))


def test_a_bad_setting_is_one_line(load_script):
    script = load_script("table5_initial_gradients")
    with pytest.raises(SystemExit, match=r"table5_initial_gradients: .*task\.length"):
        script.main(["--set", "task.length=-1"])


def test_the_radius_rate_is_the_derivative_along_the_negative_gradient(load_script):
    """The first-order change of the spectral radius along −g matches a finite difference, for
    a real leading eigenvalue and for a complex pair."""
    script = load_script("table5_initial_gradients")
    generator = torch.Generator()
    for seed in range(4):  # leading eigenvalues: two complex pairs, then two real ones
        generator.manual_seed(seed)
        weight = torch.randn(12, 12, generator=generator, dtype=torch.float64) / 12**0.5
        gradient = torch.randn(12, 12, generator=generator, dtype=torch.float64)
        step = 1e-6
        radius = torch.linalg.eigvals(weight).abs().max()
        moved = torch.linalg.eigvals(weight - step * gradient).abs().max()
        expected = float((moved - radius) / step)
        assert script.radius_rate(weight, gradient) == pytest.approx(expected, rel=1e-3, abs=1e-6)
