"""RNNs on the long-term-dependency problems (Sutskever et al. 2013, section 4, Tables 4 and 5).

Each minibatch is a fresh draw of sequences (:mod:`inertia.data._long_term`); the reported error is
measured on a fixed sample of ``eval_cases`` sequences of the same distribution, drawn from the
run's seed (so every model and optimizer of one seed is scored on the same sequences).

Models (the ``model`` of a run): the cells of :class:`inertia.nn.RecurrentNetwork` (``tanh``, the
paper's; ``relu``, ``leaky-tanh``, ``leaky-relu``; ``lstm``, the baseline) and ``biases``, Table
5's baseline that learns only the output biases (output weights zero and frozen).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from inertia.data import LONG_TERM_PROBLEMS, LongTermProblem
from inertia.nn import CELLS, RecurrentNetwork
from inertia.tasks._base import AbstractTask, Problem

__all__ = ["INPUT_SCALES", "LongTermDependencies", "LongTermOptions"]

# Table 4: input-to-hidden scale 0.001 where most inputs are irrelevant distractors (addition,
# multiplication), 0.1 for memorization; the problems the table does not list follow the same rule.
INPUT_SCALES: dict[str, float] = {
    "addition": 0.001,
    "addition-sum": 0.001,
    "multiplication": 0.001,
    "xor": 0.001,
    "temporal-order": 0.001,
    "temporal-order-3": 0.001,
    "random-permutation": 0.001,
    "memorization-5bit": 0.1,
    "memorization-20bit": 0.1,
    "noiseless-memorization": 0.1,
}

_EVALUATION_CHUNK = 500


@dataclasses.dataclass(frozen=True)
class LongTermOptions:
    """Attributes:
    problem: one of ``inertia.data.LONG_TERM_PROBLEMS``.
    length: T, the minimum sequence length (the gap, for memorization).
    hidden: hidden units (100 in the paper).
    initialization: ``echo-state`` (Table 4) or ``small-random`` (every weight N(0, std²)).
    input_scale: input-to-hidden scale of the echo-state initialization (0 = Table 4's value
        for the problem, :data:`INPUT_SCALES`).
    small_random_std: the std of ``small-random`` (0.01).
    centering: subtract the input mean and start the output bias at the average output.
    eval_cases: sequences in the fixed sample on which the error is measured.
    """

    problem: str = "addition"
    length: int = 80
    hidden: int = 100
    initialization: str = "echo-state"
    input_scale: float = 0.0
    small_random_std: float = 0.01
    centering: bool = True
    eval_cases: int = 2000

    def __post_init__(self) -> None:
        if self.problem not in LONG_TERM_PROBLEMS:
            raise ValueError(
                f"long-term option 'problem' must be one of {sorted(LONG_TERM_PROBLEMS)}, "
                f"got {self.problem!r}"
            )
        checks = [
            ("length", self.length >= 10, ">= 10"),
            ("hidden", self.hidden >= 1, ">= 1"),
            ("input_scale", self.input_scale >= 0, ">= 0 (0 = Table 4's value)"),
            ("small_random_std", self.small_random_std > 0, "> 0"),
            ("eval_cases", self.eval_cases >= 1, ">= 1"),
        ]
        for key, ok, requirement in checks:
            if not ok:
                raise ValueError(
                    f"long-term option {key!r} must be {requirement}, got {getattr(self, key)!r}"
                )
        if self.initialization not in ("echo-state", "small-random"):
            raise ValueError(
                "long-term option 'initialization' must be 'echo-state' or 'small-random', "
                f"got {self.initialization!r}"
            )


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


class LongTermDependencies(AbstractTask):
    """The pathological problems of Hochreiter & Schmidhuber (1997) for a 100-unit RNN."""

    name = "long-term"
    description = (
        "RNNs on the long-term-dependency problems (Sutskever et al. Tables 4-5); models: "
        + ", ".join((*CELLS, "biases"))
    )
    models = (*CELLS, "biases", "default")
    Options = LongTermOptions

    def build(self, model, options, generator, data_dir):  # type: ignore[no-untyped-def]
        problem = LONG_TERM_PROBLEMS[options.problem]
        length = options.length
        evaluation_seed, statistics_seed = _seed(generator), _seed(generator)
        statistics = torch.Generator().manual_seed(statistics_seed)
        shift = problem.input_mean(length, statistics) if options.centering else None
        cell = "tanh" if model in ("default", "biases") else model
        network = RecurrentNetwork(
            problem.input_size(length),
            options.hidden,
            problem.output_size(length),
            cell=cell,
            readout=problem.readout,
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
            if model == "biases":
                network.output.weight.zero_()
                for name, parameter in network.named_parameters():
                    parameter.requires_grad_(name == "output.bias")
        inputs, targets = _evaluation_sample(problem, length, options.eval_cases, evaluation_seed)

        def metrics(outputs: Tensor, batch_targets: Tensor) -> dict[str, Tensor]:
            batch = outputs.shape[0]
            return {
                "error": problem.errors(outputs, batch_targets),
                "loss": problem.loss(outputs, batch_targets) * batch,
            }

        def sample_batch(batch: int, draw: torch.Generator) -> tuple[Tensor, Tensor]:
            sequences = problem.sample(batch, length, draw)
            return sequences.inputs, sequences.targets

        return Problem(
            model=network,
            train_inputs=inputs,
            train_targets=targets,
            loss=problem.loss,
            metrics=metrics,
            error_name=problem.error_name,
            sparse_init_nonlinearity="tanh",
            dataset=f"{options.problem} T={length}",
            sample_batch=sample_batch,
        )
