"""Hyperparameter optimization through unrolled training (Liao et al. 2018, section 5.3; SPEC
7.4; Maclaurin et al. 2015).

The inner problem trains an MNIST MLP 784-50-50-50-10 (tanh) for T = 100 steps of SGD with
momentum in Maclaurin et al.'s form, with a learning rate and a momentum per parameter tensor:

    v_{t+1} = β v_t − (1 − β) ∇ℓ(w_t),    w_{t+1} = w_t + α v_{t+1},
    α = exp(h_lr),  β = sigmoid(h_mu)  (initial h_lr = −1, h_mu = 0),

from the same initial weights (N(0, 1)·e⁻³, weights and biases) and the same minibatch order
(batch 200) at every meta-iteration. The meta-objective is the cross-entropy of the trained MLP
on the 10,000 training images (lrjconan/RBP's choice) or on the 50,000 validation images; the
hyperparameters (h_lr, h_mu) are the task's model parameters, trained by the runner's optimizer
(Adam, lr 0.05, ×0.1 at meta-iteration 50 in the paper). The ``gradient`` option is the method
of :class:`inertia.implicit.Unrolled` (``bptt``, ``tbptt``, ``rbp``, ``cg_rbp``,
``neumann_rbp``; K = 50).

Split (Maclaurin et al.'s ``load_data_dicts(10000, 50000, 10000)``): the first 10,000 MNIST
training images train, the other 50,000 validate, the 10,000 test images test. The last inner
step uses all 10,000 training images, for every method: the RBP methods take h_T as a fixed point
of that deterministic map (lrjconan/RBP does this for its RBP runs), and the unrolled methods
then differ from them in the gradient alone.

Each meta-iteration's "minibatch" is the name of the objective's split; the model maps a split's
name to the row (cross-entropy, classification error, mean α, mean β) of the network trained with
the current hyperparameters on it. So ``train_loss``/``train_error`` in the results are the
meta-objective and the error on its split, ``test_loss``/``test_error`` on the test images, and
``*_mean_lr``/``*_mean_momentum`` follow the hyperparameters.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any, Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor, nn

from inertia.data import load_mnist
from inertia.implicit import (
    GradientMethod,
    GradientName,
    Unrolled,
    make_gradient,
)
from inertia.tasks._base import AbstractTask, Problem, TaskConfig
from inertia.tasks._data import BatchSource, Evaluation

__all__ = ["HypergradientOptions", "HyperparameterOptimization", "UnrolledTraining"]

_SPLITS = ("train", "validation", "test")
_ROW = ("loss", "error", "mean_lr", "mean_momentum")


class HypergradientOptions(TaskConfig):
    """Attributes:
    gradient: the hypergradient method of :class:`inertia.implicit.Unrolled`, one of
        ``inertia.implicit.GRADIENT_METHODS``.
    steps: T, inner SGD steps (100).
    batch: inner minibatch (200).
    truncation: K of ``tbptt`` and the RBP methods (50).
    width: hidden units per layer (50); depth: hidden layers (3).
    train_cases: training images (10,000; the next 50,000 validate).
    initial_log_lr: h_lr at the start (−1: α = e⁻¹); initial_momentum_logit: h_mu (0: β = ½).
    init_log_scale: initial weights and biases are N(0, 1)·exp(init_log_scale) (−3).
    objective: the split whose cross-entropy is minimized, ``train`` or ``validation``.
    """

    name: Literal["hypergradient"] = "hypergradient"
    gradient: GradientName = "neumann_rbp"
    steps: int = Field(100, ge=1)
    batch: int = Field(200, ge=1)
    truncation: int = Field(50, ge=1)
    width: int = Field(50, ge=1)
    depth: int = Field(3, ge=1)
    train_cases: int = Field(10_000, ge=1, lt=60_000)
    initial_log_lr: float = -1.0
    initial_momentum_logit: float = 0.0
    init_log_scale: float = -3.0
    objective: Literal["train", "validation"] = "train"

    @model_validator(mode="after")
    def _batch_fits(self) -> HypergradientOptions:
        if self.batch > self.train_cases:
            raise ValueError(
                f"hypergradient option 'batch' ({self.batch}) exceeds train_cases "
                f"({self.train_cases})"
            )
        return self


class UnrolledTraining(nn.Module):
    """The learnable hyperparameters (per tensor: h_lr, h_mu) of an MLP trained by T unrolled
    steps of Maclaurin et al.'s SGD with momentum; ``forward(split)`` trains the MLP and
    returns, for the named split (``train``, ``validation``, ``test``), the row (cross-entropy,
    error, mean α, mean β). The trained network's loss is differentiable with respect to the
    hyperparameters by ``gradient`` (see :class:`inertia.implicit.Unrolled`).

    Args:
        sizes: layer widths, input first (784, 50, 50, 50, 10).
        images: the three splits' images, as a list in the order train, validation, test.
        labels: their labels, in the same order.
        order: ``(steps - 1, batch)`` training-set indices of the minibatch of each step but the
            last, which uses the whole training set.
        initial_weights: the flat initial weights (weights then bias, per layer).
        gradient: the hypergradient method (with its K).
        initial_log_lr: the starting h_lr (α = exp(h_lr)).
        initial_momentum_logit: the starting h_mu (β = sigmoid(h_mu)).
    """

    order: Tensor  # buffers, for the type checker
    initial_weights: Tensor
    train_images: Tensor
    train_labels: Tensor

    def __init__(
        self,
        sizes: list[int],
        images: list[Tensor],
        labels: list[Tensor],
        order: Tensor,
        initial_weights: Tensor,
        gradient: GradientMethod,
        initial_log_lr: float,
        initial_momentum_logit: float,
    ) -> None:
        super().__init__()
        self.shapes: list[tuple[int, ...]] = []
        for fan_in, fan_out in itertools.pairwise(sizes):
            self.shapes += [(fan_in, fan_out), (fan_out,)]
        self.numels = [math.prod(shape) for shape in self.shapes]
        if initial_weights.numel() != sum(self.numels):
            raise ValueError(
                f"initial_weights has {initial_weights.numel()} entries; layers {sizes} need "
                f"{sum(self.numels)}"
            )
        tensors = len(self.shapes)
        self.log_lr = nn.Parameter(torch.full((tensors,), float(initial_log_lr)))
        self.momentum_logit = nn.Parameter(torch.full((tensors,), float(initial_momentum_logit)))
        for name, split_images, split_labels in zip(
            ("train", "validation", "test"), images, labels, strict=True
        ):
            # The data move with the module but stay out of its state_dict (checkpoints).
            self.register_buffer(f"{name}_images", split_images, persistent=False)
            self.register_buffer(f"{name}_labels", split_labels, persistent=False)
        self.register_buffer("order", order)
        self.register_buffer("initial_weights", initial_weights)
        self.unrolled = Unrolled(
            self._step,
            steps=order.shape[0] + 1,
            gradient=gradient,
        )

    def _split(self, name: str) -> tuple[Tensor, Tensor]:
        if name not in _SPLITS:
            raise ValueError(f"split must be one of {_SPLITS}, got {name!r}")
        return getattr(self, f"{name}_images"), getattr(self, f"{name}_labels")

    def network(self, weights: Tensor, images: Tensor) -> Tensor:
        """The MLP's logits with the flat ``weights``: tanh hidden layers, linear output."""
        parts = torch.split(weights, self.numels)
        x = images
        layers = len(parts) // 2
        for layer in range(layers):
            weight = parts[2 * layer].view(self.shapes[2 * layer])
            x = x @ weight + parts[2 * layer + 1]
            if layer < layers - 1:
                x = torch.tanh(x)
        return x

    def _per_element(self, values: Tensor) -> Tensor:
        sizes = torch.tensor(self.numels, device=values.device)
        return torch.repeat_interleave(values, sizes, output_size=sum(self.numels))

    def _step(self, state: Tensor, t: int) -> Tensor:
        """One step of SGD with momentum (Maclaurin et al. 2015) on the state (w, v)."""
        tracked = torch.is_grad_enabled()
        weights, velocity = state.chunk(2)
        if t < self.order.shape[0]:
            batch = self.order[t]
            images, labels = self.train_images[batch], self.train_labels[batch]
        else:
            images, labels = self.train_images, self.train_labels
        with torch.enable_grad():
            leaf = weights if weights.requires_grad else weights.detach().requires_grad_(True)
            loss = nn.functional.cross_entropy(self.network(leaf, images), labels)
            (gradient,) = torch.autograd.grad(loss, leaf, create_graph=tracked)
        rate = self._per_element(self.log_lr.exp())
        momentum = self._per_element(torch.sigmoid(self.momentum_logit))
        velocity = momentum * velocity - (1 - momentum) * gradient
        return torch.cat([weights + rate * velocity, velocity])

    def trained_weights(self) -> Tensor:
        """w_T, differentiable with respect to the hyperparameters when grad is enabled."""
        state = torch.cat([self.initial_weights, torch.zeros_like(self.initial_weights)])
        return self.unrolled(state).chunk(2)[0]

    def forward(self, split: str) -> Tensor:
        """Train the MLP with the current hyperparameters; the row (cross-entropy, error, mean
        α, mean β) of the trained network on ``split`` (``train``, ``validation``, ``test``)."""
        images, labels = self._split(split)
        logits = self.network(self.trained_weights(), images)
        loss = nn.functional.cross_entropy(logits, labels)
        error = (logits.argmax(dim=1) != labels).to(loss.dtype).mean()
        return torch.stack([
            loss, error, self.log_lr.exp().mean().detach(),
            torch.sigmoid(self.momentum_logit).mean().detach(),
        ])  # fmt: skip


def _meta_loss(row: Tensor, targets: object) -> Tensor:
    """The meta-objective: the cross-entropy of the trained network (the row's first entry)."""
    return row[0]


class _ObjectiveSplit(BatchSource):
    """Every meta-iteration's "minibatch": the name of the objective's split."""

    cases = 1

    def __init__(self, split: str) -> None:
        self.split = split

    def start(self, seed: int, device: torch.device, dtype: torch.dtype) -> None:
        pass  # nothing random, nothing to move

    def next(self, batch_size: int) -> tuple[str, None]:
        return self.split, None

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        pass


class _TrainedNetworkEvaluation(Evaluation):
    """The trained network's row on the objective's split (``train_*``) and on the test images
    (``test_*``)."""

    def __init__(self, objective: str, error_name: str) -> None:
        self.objective = objective
        self.error_name = error_name

    def to(self, device: torch.device, dtype: torch.dtype) -> None:
        pass  # the images are buffers of the model

    @torch.no_grad()
    def __call__(self, model: nn.Module) -> dict[str, float]:
        results = {}
        for prefix, split in (("train", self.objective), ("test", "test")):
            row = model(split).double().tolist()
            results.update({f"{prefix}_{key}": value for key, value in zip(_ROW, row)})
        return results


class HyperparameterOptimization(AbstractTask[HypergradientOptions]):
    """Learning rates and momenta of unrolled MNIST training, by hypergradient descent."""

    name = "hypergradient"
    description = (
        "hyperparameter optimization through 100 unrolled SGD-momentum steps of an MNIST MLP "
        "(Liao et al. 2018), hypergradients by BPTT, TBPTT or a recurrent back-propagation "
        "method"
    )
    Options = HypergradientOptions

    def build(
        self, options: HypergradientOptions, generator: torch.Generator, data_dir: str | None
    ) -> Problem:
        images, labels = load_mnist("train", data_dir)
        test_images, test_labels = load_mnist("test", data_dir)
        cut = options.train_cases
        sizes = [784, *([options.width] * options.depth), 10]
        weights = sum((fan_in + 1) * fan_out for fan_in, fan_out in itertools.pairwise(sizes))
        initial = torch.randn(weights, generator=generator) * math.exp(options.init_log_scale)
        per_epoch = cut // options.batch
        permutations = [
            torch.randperm(cut, generator=generator)[: per_epoch * options.batch].view(
                per_epoch, options.batch
            )
            for _ in range(math.ceil((options.steps - 1) / per_epoch))
        ]
        empty = torch.zeros(0, options.batch, dtype=torch.long)  # steps = 1: no minibatch
        order = torch.cat([empty, *permutations])[: options.steps - 1]
        network = UnrolledTraining(
            sizes,
            [images[:cut].clone(), images[cut:].clone(), test_images],
            [labels[:cut].clone(), labels[cut:].clone(), test_labels],
            order,
            initial,
            gradient=make_gradient(options.gradient, options.truncation, 0.0),
            initial_log_lr=options.initial_log_lr,
            initial_momentum_logit=options.initial_momentum_logit,
        )
        error_name = (
            f"classification error on the {options.objective} split after {options.steps} "
            "unrolled SGD-momentum steps (the loss, its cross-entropy, is the meta-objective)"
        )
        return Problem(
            model=network,
            loss=_meta_loss,
            batches=_ObjectiveSplit(options.objective),
            evaluation=_TrainedNetworkEvaluation(options.objective, error_name),
            dataset=f"mnist ({cut} train / {60_000 - cut} validation / 10000 test)",
        )
