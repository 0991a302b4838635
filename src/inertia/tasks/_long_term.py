"""RNNs on the long-term-dependency problems (Sutskever et al. 2013, section 4, Tables 4 and 5).

Each minibatch is a fresh draw of sequences (:mod:`inertia.data._long_term`); the reported error is
measured on a fixed sample of ``eval_cases`` sequences of the same distribution, drawn from the
run's seed (so every model and optimizer of one seed is scored on the same sequences).

Models (the ``cell`` option): the cells of :class:`inertia.nn.RecurrentNetwork` (``tanh``, the
paper's; ``relu``, ``leaky-tanh``, ``leaky-relu``; ``lstm``, the baseline); with
``output_biases_only``, Table 5's baseline that learns only the output biases (output weights
zero and frozen).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor, nn

from inertia.data import LONG_TERM_PROBLEMS, LongTermProblem, LossReduction
from inertia.nn import CellName, RecurrentNetwork
from inertia.tasks._base import AbstractTask, Problem, TaskConfig
from inertia.tasks._data import SampledBatches, SplitEvaluation

__all__ = [
    "INPUT_SCALES",
    "LongTermDependencies",
    "LongTermOptions",
    "gradient_diagnostics",
    "recurrent_diagnostics",
]

# Table 4: input-to-hidden scale 0.001 where most inputs are irrelevant distractors (addition,
# multiplication), 0.1 for memorization; the problems the table does not list follow the same rule.
INPUT_SCALES: dict[str, float] = {
    name: 0.1 if name.startswith(("memorization", "noiseless")) else 0.001
    for name in LONG_TERM_PROBLEMS
}

_EVALUATION_CHUNK = 500


class LongTermOptions(TaskConfig):
    """Attributes:
    problem: one of ``inertia.data.LONG_TERM_PROBLEMS``.
    length: T, the minimum sequence length (the gap, for memorization).
    cell: the recurrent cell of :class:`inertia.nn.RecurrentNetwork` (``tanh``, the paper's;
        ``relu``, ``leaky-tanh``, ``leaky-relu``; ``lstm``, the baseline).
    output_biases_only: Table 5's "biases" baseline: learn only the output biases (the output
        weights zero and frozen).
    readout_only: learn only the output layer (weights and biases); the recurrent layer stays
        at its initialization, an echo-state network trained by gradient descent (Jaeger 2001).
        With Table 4's initialization it asks whether the initial states, which on
        memorization already hold the symbols (``scripts/table5_state_probe.py``), can be read
        at the paper's rates; issue 39's ``readout`` budget of ``table5``.
    hidden: hidden units (100 in the paper).
    initialization: ``echo-state`` (Table 4) or ``small-random`` (every weight N(0, std²)).
    input_scale: input-to-hidden scale of the echo-state initialization (0 = Table 4's value
        for the problem, :data:`INPUT_SCALES`).
    small_random_std: the std of ``small-random`` (0.01).
    centering: subtract the input mean and start the output bias at the average output.
    eval_cases: sequences in the fixed sample on which the error is measured.
    loss_reduction: ``per-output`` (the authors': the matching loss averaged over the scored
        outputs, 1/2 on the squared error; SPEC 4.1) or ``per-sequence`` (inertia 0.2: summed
        over a sequence's scored steps, averaged over sequences, no 1/2);
        :meth:`inertia.data.LongTermProblem.loss`.
    hidden_biases: trained hidden bias vectors of the ``tanh`` and ``lstm`` cells: 1 (the
        authors' RNN has one; ``nn.RNN``'s ``bias_hh`` stays zero and frozen) or 2 (torch's
        ``bias_ih`` and ``bias_hh`` both trained, which moves the effective bias twice as far
        per update; inertia 0.2). The leaky and rectifier cells have one.
    data_seed: the seed of the training sequences, where it should differ from the run's
        ``seed`` (which then draws only the initial weights and the evaluation sequences;
        issue 20's seed-swap study); none: the run's seed draws both.
    """

    name: Literal["long-term"] = "long-term"
    # the names come from the registry of problem objects, so the Literal is built from it;
    # pydantic reads it at run time, a static checker cannot
    problem: Literal[tuple(LONG_TERM_PROBLEMS)] = "addition"  # type: ignore[valid-type]
    length: int = Field(80, ge=10)
    cell: CellName = "tanh"
    output_biases_only: bool = False
    readout_only: bool = False
    hidden: int = Field(100, ge=1)
    initialization: Literal["echo-state", "small-random"] = "echo-state"
    input_scale: float = Field(0.0, ge=0)
    small_random_std: float = Field(0.01, gt=0)
    centering: bool = True
    eval_cases: int = Field(2000, ge=1)
    loss_reduction: LossReduction = "per-output"
    hidden_biases: Literal[1, 2] = 1
    data_seed: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _one_frozen_part(self) -> LongTermOptions:
        if self.output_biases_only and self.readout_only:
            raise ValueError(
                "long-term options 'output_biases_only' and 'readout_only' exclude each other "
                "(the first trains the output biases alone, the second the whole output layer)"
            )
        return self


_DIAGNOSTIC_CASES = 100  # sequences of the evaluation sample the gradient diagnostics use


def recurrent_diagnostics(model: nn.Module) -> dict[str, float]:
    """What issue 39 asks to follow along a run: the spectral radius of the hidden-to-hidden
    matrix (Table 4 starts it at 1.1) and the Frobenius norms of the input-to-hidden and
    hidden-to-hidden matrices (Table 4 starts the input weights at 0.001 or 0.1 N(0, 1))."""
    assert isinstance(model, RecurrentNetwork)
    weight_ih, weight_hh, _ = model.recurrent_weights()
    radius = torch.linalg.eigvals(weight_hh.detach().double()).abs().max()
    return {
        "spectral_radius_hh": float(radius),
        "norm_ih": float(weight_ih.detach().norm()),
        "norm_hh": float(weight_hh.detach().norm()),
    }


def gradient_diagnostics(
    model: nn.Module, inputs: Tensor, targets: Tensor, loss: Callable[[Tensor, Tensor], Tensor]
) -> dict[str, float]:
    """The training loss's gradient on fixed sequences (its norm over every trained parameter,
    and over the input-to-hidden and hidden-to-hidden matrices: exploding gradients show here),
    and the hidden units' saturation (the fraction of tanh states beyond ±0.95 over every step
    and sequence). The parameters' ``.grad`` are left as they were."""
    assert isinstance(model, RecurrentNetwork)
    weight_ih, weight_hh, _ = model.recurrent_weights()
    trained = [p for p in model.parameters() if p.requires_grad]
    with torch.enable_grad():
        value = loss(model(inputs), targets)
        gradients = torch.autograd.grad(value, trained, allow_unused=True)
    by_parameter = {id(p): g for p, g in zip(trained, gradients, strict=True)}

    def norm(parameters: Sequence[Tensor]) -> float:
        found = [by_parameter[id(p)] for p in parameters if by_parameter.get(id(p)) is not None]
        return (
            float(torch.linalg.vector_norm(torch.stack([g.norm() for g in found])))
            if found
            else 0.0
        )

    with torch.no_grad():
        states = model.hidden_states(inputs)
    return {
        "grad_norm": norm(trained),
        "grad_norm_ih": norm([weight_ih]),
        "grad_norm_hh": norm([weight_hh]),
        "saturation": float((states.abs() > 0.95).float().mean()),
    }


def _seed(generator: torch.Generator) -> int:
    return int(torch.randint(0, 2**62, (1,), generator=generator))


def _evaluation_sample(
    problem: LongTermProblem, length: int, cases: int, seed: int
) -> tuple[list[Tensor], list[Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    inputs, targets = [], []
    for start in range(0, cases, _EVALUATION_CHUNK):
        batch = problem.sample(min(_EVALUATION_CHUNK, cases - start), length, generator)
        inputs.append(batch.inputs)
        targets.append(batch.targets)
    return inputs, targets


class LongTermDependencies(AbstractTask[LongTermOptions]):
    """The pathological problems of Hochreiter & Schmidhuber (1997) for a 100-unit RNN."""

    name = "long-term"
    description = (
        "RNNs on the long-term-dependency problems (Sutskever et al. Tables 4-5): "
        + ", ".join(sorted(LONG_TERM_PROBLEMS))
    )
    Options = LongTermOptions

    def build(
        self, options: LongTermOptions, generator: torch.Generator, data_dir: str | None
    ) -> Problem:
        problem = LONG_TERM_PROBLEMS[options.problem]
        length = options.length
        evaluation_seed, statistics_seed = _seed(generator), _seed(generator)
        statistics = torch.Generator().manual_seed(statistics_seed)
        shift = problem.input_mean(length, statistics) if options.centering else None
        cell = options.cell
        network = RecurrentNetwork(
            problem.input_size(length),
            options.hidden,
            problem.output_size(length),
            cell=cell,
            readout="all",  # the problem scores each sequence's target step (or every step)
            input_shift=shift,
        )
        if options.initialization == "echo-state":
            scale = options.input_scale or INPUT_SCALES[options.problem]
            network.echo_state_init_(input_scale=scale, generator=generator)
        else:
            network.small_random_init_(options.small_random_std, generator=generator)
        with torch.no_grad():
            if options.centering:
                network.center_outputs_(problem.average_output(length, statistics))
            else:
                network.output.bias.zero_()
            if options.output_biases_only:
                network.output.weight.zero_()
                for name, parameter in network.named_parameters():
                    parameter.requires_grad_(name == "output.bias")
            elif options.readout_only:
                for name, parameter in network.named_parameters():
                    parameter.requires_grad_(name.startswith("output."))
            elif options.hidden_biases == 1 and cell in ("tanh", "lstm"):
                hidden_bias = network.rnn.get_parameter("bias_hh_l0")
                hidden_bias.zero_()
                hidden_bias.requires_grad_(False)
        inputs, targets = _evaluation_sample(problem, length, options.eval_cases, evaluation_seed)
        reduction = options.loss_reduction

        def loss(outputs: Tensor, batch_targets: Tensor) -> Tensor:
            return problem.loss(outputs, batch_targets, reduction)

        def metrics(outputs: Tensor, batch_targets: Tensor) -> dict[str, Tensor]:
            batch = outputs.shape[0]
            return {
                "error": problem.errors(outputs, batch_targets),
                "loss": loss(outputs, batch_targets) * batch,
            }

        evaluation = SplitEvaluation({"train": (inputs, targets)}, metrics, problem.error_name)

        def diagnostics(model: nn.Module) -> dict[str, float]:
            # the evaluation's own sequences, wherever and in whatever dtype it placed them
            placed_inputs, placed_targets = evaluation.splits["train"]
            probe = (placed_inputs[0][:_DIAGNOSTIC_CASES], placed_targets[0][:_DIAGNOSTIC_CASES])
            return {**recurrent_diagnostics(model), **gradient_diagnostics(model, *probe, loss)}

        if cell != "lstm":
            evaluation.diagnostics = diagnostics

        def sample_batch(batch: int, draw: torch.Generator) -> tuple[Tensor, Tensor]:
            sequences = problem.sample(batch, length, draw)
            return sequences.inputs, sequences.targets

        return Problem(
            model=network,
            loss=loss,
            batches=SampledBatches(sample_batch, seed=options.data_seed),
            # the training error: on a fixed sample of the training distribution
            evaluation=evaluation,
            dataset=f"{options.problem} T={length}",
            sparse_init_nonlinearity="tanh",
        )
