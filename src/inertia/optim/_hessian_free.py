"""Hessian-free optimization (Martens 2010; Martens & Sutskever 2011), a ``torch.optim`` optimizer.

Each update minimizes the damped Gauss-Newton quadratic model of the objective,

    q(d) = gᵀd + ½ dᵀ(G + λ I + λ μ_s S) d,          G = Jᵀ H_L J  (generalized Gauss-Newton),

by preconditioned linear conjugate gradient (CG), never forming a matrix: G v is one
Jacobian-vector product (the "R-operator", taken as the derivative of a vector-Jacobian product
with respect to its cotangent) followed by one vector-Jacobian product. ``S = J_hᵀ J_h`` is the
structural damping of Martens & Sutskever (2011), the Gauss-Newton matrix of the distance
½‖h(θ) − h(θ_k)‖² between the hidden states before and after the update.

The pieces of Martens (2010), each an option: the diagonal preconditioner
``(diag(F) + λ)^0.75`` with ``F`` the empirical Fisher (sum of squared per-case gradients, section
4.7); CG warm-started from the previous solution times a decay (section 4.5); the relative-progress
stopping rule (section 4.4); CG backtracking over saved iterates (section 4.6); the
Levenberg-Marquardt rule for λ (section 4.1: ×3/2 when the reduction ratio ρ < 1/4, ×2/3 when
ρ > 3/4); a backtracking line search; the gradient on a large batch and the curvature on a smaller
one (section 4.3); L2 regularization. The momentum-like HF of Sutskever et al. (2013, section 5
and appendix A.6) is the same optimizer with few CG iterations, a larger CG decay (their
"momentum"), no line search and a fixed learning rate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from inertia.linalg import CGResult, conjugate_gradient

__all__ = [
    "OUTPUT_LOSSES",
    "HessianFree",
    "HessianFreeSettings",
    "output_loss",
]

# What one case of each part of an update costs, in gradients of one case (a forward and a
# backward pass), for comparing HF with first-order methods at an equal cost (issue 35). Measured
# on Table 1's three autoencoders at one thread (`python -m benchmarks.run hessian_free_cost`,
# results/benchmarks/2026-12-06-hessian-free-cost): the median over CURVES, MNIST and FACES of
# each part's time over the gradient's. Counts, not timings, at run time: a resumed run and an
# uninterrupted one count the same.
GAUSS_NEWTON_COST = 1.28
"""One Gauss-Newton product G v per curvature case (a CG iteration, ρ's model value)."""
OPERATOR_COST = 0.98
"""Setting up the Gauss-Newton operator per curvature case, once per update (the forward pass
with a graph and the graph of u ↦ Jᵀu)."""
EVALUATION_COST = 0.38
"""One objective value per case of its batch (CG backtracking and the line search on the
gradient batch; with ``rho_batch="curvature"`` ρ's two on the curvature batch)."""
FISHER_COST = 0.89
"""What Martens's preconditioner adds to the gradient per gradient case (the per-case squares)."""

OutputLoss = Literal["logistic-cross-entropy", "softmax-cross-entropy", "squared-error"]
OUTPUT_LOSSES: tuple[str, ...] = (
    "logistic-cross-entropy",
    "softmax-cross-entropy",
    "squared-error",
)
"""The (output nonlinearity, matching loss) pairs whose Gauss-Newton matrix is positive
semi-definite (Schraudolph 2002): logistic outputs with binary cross-entropy, softmax outputs
with cross-entropy, linear outputs with squared error. The network returns pre-nonlinearity
outputs (logits, or the linear outputs themselves)."""

Batch = tuple[Tensor, ...]
"""What a closure returns: ``(outputs, targets)`` or ``(outputs, targets, hidden)``."""


def output_loss(kind: str, outputs: Tensor, targets: Tensor) -> Tensor:
    """The objective HF minimizes: the loss summed over everything but the first (case)
    dimension and averaged over cases.

    ``logistic-cross-entropy``: binary cross-entropy of ``sigmoid(outputs)`` against targets in
    [0, 1] of the outputs' shape. ``softmax-cross-entropy``: ``outputs`` of shape (cases, ...,
    classes), ``targets`` class indices of shape (cases, ...). ``squared-error``: Σ (outputs −
    targets)² (no ½, the convention of the autoencoder tables)."""
    cases = outputs.shape[0]
    if kind == "logistic-cross-entropy":
        total = nn.functional.binary_cross_entropy_with_logits(outputs, targets, reduction="sum")
    elif kind == "softmax-cross-entropy":
        total = nn.functional.cross_entropy(
            outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1), reduction="sum"
        )
    elif kind == "squared-error":
        total = (outputs - targets).pow(2).sum()
    else:
        raise ValueError(f"loss must be one of {OUTPUT_LOSSES}, got {kind!r}")
    return total / cases


def _loss_hessian_product(kind: str, outputs: Tensor, vector: Tensor) -> Tensor:
    """H_L v, the Hessian of :func:`output_loss` with respect to the outputs, times ``vector``."""
    cases = outputs.shape[0]
    if kind == "logistic-cross-entropy":
        probabilities = torch.sigmoid(outputs)
        return probabilities * (1 - probabilities) * vector / cases
    if kind == "softmax-cross-entropy":
        probabilities = torch.softmax(outputs, dim=-1)
        inner = (probabilities * vector).sum(dim=-1, keepdim=True)
        return probabilities * (vector - inner) / cases
    return 2.0 * vector / cases


class _LinearFisherRecorder:
    """Records, while a closure runs, the inputs and output gradients of every ``nn.Linear``
    whose weight is optimized, so that Σ_i (∇L_i)² over cases is one product per layer:
    for case gradients N δ_i a_iᵀ of the mean loss, (1/N) Σ_i (N δ_i a_iᵀ)² = N (δ²)ᵀ(a²)."""

    def __init__(self, parameters: Sequence[Tensor], active: bool = True) -> None:
        self._parameters = list(parameters)
        self._ids = {id(p) for p in self._parameters}
        self._active = active
        self._module_handle: Any = None
        self._tensor_handles: list[Any] = []
        self.records: dict[nn.Linear, tuple[Tensor, list[Tensor]]] = {}
        self.shared: list[nn.Linear] = []

    def __enter__(self) -> _LinearFisherRecorder:
        if not self._active:
            return self

        def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            if not isinstance(module, nn.Linear) or id(module.weight) not in self._ids:
                return
            if not torch.is_grad_enabled() or not isinstance(output, Tensor):
                return
            if module in self.records:  # a layer applied twice: per-case sums do not split
                self.shared.append(module)
                return
            store: list[Tensor] = []
            self.records[module] = (inputs[0].detach(), store)
            self._tensor_handles.append(output.register_hook(lambda g: store.append(g.detach())))

        self._module_handle = nn.modules.module.register_module_forward_hook(hook)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._module_handle is not None:
            self._module_handle.remove()
            self._module_handle = None

    def release(self) -> None:
        """Remove the gradient hooks and drop the recorded tensors."""
        for handle in self._tensor_handles:
            handle.remove()
        self._tensor_handles.clear()
        self.records.clear()

    def fisher_diagonal(self) -> list[Tensor]:
        """diag(F) = (1/N) Σ_i (∇L_i)², one tensor per parameter."""
        if self.shared:
            raise ValueError(
                "the Martens preconditioner needs per-case gradients; a nn.Linear layer of "
                f"shape {tuple(self.shared[0].weight.shape)} was applied more than once, so its "
                "per-case gradients do not split by layer; pass preconditioner='none'"
            )
        squares: dict[int, Tensor] = {}
        for module, (activations, store) in self.records.items():
            if not store:
                continue
            if activations.dim() != 2:
                raise ValueError(
                    "the Martens preconditioner needs per-case gradients, which are one product "
                    "per layer only for nn.Linear layers applied to (cases, features) inputs; "
                    f"a layer got inputs of shape {tuple(activations.shape)}; pass "
                    "preconditioner='none'"
                )
            delta = store[0]
            cases = delta.shape[0]
            squares[id(module.weight)] = cases * delta.pow(2).t() @ activations.pow(2)
            if module.bias is not None:
                squares[id(module.bias)] = cases * delta.pow(2).sum(dim=0)
        missing = [tuple(p.shape) for p in self._parameters if id(p) not in squares]
        if missing:
            raise ValueError(
                "the Martens preconditioner covers the weights and biases of nn.Linear layers; "
                f"parameters of shapes {missing} belong to other layers (or did not affect the "
                "loss); pass preconditioner='none'"
            )
        return [squares[id(p)] for p in self._parameters]


def _flat(tensors: Iterable[Tensor]) -> Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def _unflatten(vector: Tensor, params: Sequence[Tensor]) -> list[Tensor]:
    """``vector`` (flat, as :func:`_flat` makes it) as views shaped like ``params``."""
    pieces = vector.split([p.numel() for p in params])
    return [piece.view(p.shape) for piece, p in zip(pieces, params, strict=True)]


@contextlib.contextmanager
def _graphs_keep_parameter_values(params: Sequence[Tensor]) -> Iterator[None]:
    """While active, a graph that saves a parameter (or a view of one) for its backward keeps
    a copy of its values instead. The objective evaluations of CG backtracking and the line
    search move the parameters in place after the Gauss-Newton graphs are built; with copies,
    those graphs stay valid without writing through ``.data`` (autograd would otherwise refuse
    a saved tensor modified in place).

    Every other saved tensor is kept detached. A hook that hands back the very tensor it was
    given makes a reference cycle when that tensor is an output of the node saving it (the node
    then holds its own output with its ``grad_fn``), which the C++ graph keeps alive for ever:
    each update leaked its graphs, and a sweep worker that ran a dozen HF runs in one process
    grew past 16 GB and was killed (issue 35). Detached values are what the Gauss-Newton
    products need: G v = Jᵀ H_L J v is linear in the cotangent, and no derivative is taken
    through a saved value (that would be a second-order term of the network, which the
    Gauss-Newton matrix leaves out by definition)."""
    storages = {p.untyped_storage().data_ptr() for p in params}

    def pack(tensor: Tensor) -> Tensor:
        if tensor.layout == torch.strided and tensor.untyped_storage().data_ptr() in storages:
            return tensor.detach().clone()
        return tensor.detach()

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        yield


@dataclasses.dataclass
class _Gradient:
    """The gradient phase's results: the batch, f(θ), ∇f(θ) (flat), θ, the preconditioner."""

    batch: Batch
    objective: float
    vector: Tensor
    start: list[Tensor]
    preconditioner: Tensor | None


@dataclasses.dataclass
class _Curvature:
    """The curvature batch, the damped operator CG solves with, the undamped G of ρ's model,
    and the λ they used."""

    batch: Batch
    damped: Callable[[Tensor], Tensor]
    plain: Callable[[Tensor], Tensor]
    damping: float
    closure: Callable[[], Any] | None = None


@dataclasses.dataclass
class _Trial:
    """The CG iterate chosen by backtracking and its objective value."""

    iteration: int
    direction: Tensor
    value: float


@dataclasses.dataclass(frozen=True)
class HessianFreeSettings:
    """The settings of :class:`HessianFree` (Martens 2010's choices where he made one; the
    audit against his code is in docs/hessian_free.md), checked on creation.

    Attributes:
        lr: the step taken along the CG solution (1 = the Newton step); with ``line_search``
            the search starts from it.
        damping: the initial Tikhonov damping λ (adapted by the Levenberg-Marquardt rule when
            ``adapt_damping``; the current value is ``param_groups[0]["damping"]``).
        cg_max_iterations: CG iterations per update at most (Martens: 250; the momentum-like
            variant: a few).
        cg_min_iterations: CG never stops by the progress rule before this many iterations.
        cg_tolerance: ε of the relative-progress stopping rule (5e-4; 0 = run to the limit).
        cg_decay: the warm start is ``cg_decay`` × the previous CG solution (Martens: 0.95;
            Sutskever et al.'s momentum-like HF: 0.95 → 0.999; 0 = start at zero). Like ``lr``
            it is read from ``param_groups[0]`` at every update, so a schedule may write it
            there before each ``step`` (as :class:`inertia.schedules.HyperparameterScheduler`
            does for the experiment engine's ``cg_decay_schedule``).
        preconditioner: ``"martens"`` for ``(diag F + λ)^exponent`` with F the empirical Fisher
            of the gradient batch (nn.Linear parameters only), ``"none"``.
        preconditioner_exponent: the exponent (0.75 in Martens 2010).
        cg_backtracking: pick among the saved CG iterates the one that minimizes the
            objective (going backwards from the last while the objective decreases).
        line_search: backtrack the step length by ×0.8 until the Armijo condition
            f(θ + α d) ≤ f(θ) + 10⁻² α gᵀd holds (α = 0 after 60 failures). Without it the
            step is taken at ``lr`` unless the objective at θ + d is not finite (then no step,
            and λ grows).
        adapt_damping: the Levenberg-Marquardt rule on ρ = (f(θ + d) − f(θ)) / q̂(d), q̂ the
            undamped quadratic model.
        rho_batch: where ρ's actual reduction f(θ + d) − f(θ) is measured: ``"gradient"``, on
            the gradient batch (the values CG backtracking already has), or ``"curvature"``, on
            the curvature batch, as Martens's code does (two more objective values there; the
            model q̂ keeps the gradient batch's gradient). The same where no separate curvature
            batch is given.
        damping_increase: the LM factor that raises λ (3/2).
        damping_decrease: the LM factor that lowers λ (2/3).
        structural_damping: μ_s (Martens & Sutskever 2011); needs closures that return hidden.
        weight_decay: L2 coefficient w (adds ½ w ‖θ‖² to the objective and w I to G).
    """

    lr: float = 1.0
    damping: float = 1.0
    cg_max_iterations: int = 250
    cg_min_iterations: int = 1
    cg_tolerance: float = 5e-4
    cg_decay: float = 0.95
    preconditioner: Literal["martens", "none"] = "martens"
    preconditioner_exponent: float = 0.75
    cg_backtracking: bool = True
    line_search: bool = True
    adapt_damping: bool = True
    damping_increase: float = 1.5
    damping_decrease: float = 2.0 / 3.0
    structural_damping: float = 0.0
    weight_decay: float = 0.0
    rho_batch: Literal["gradient", "curvature"] = "gradient"

    def __post_init__(self) -> None:
        if self.preconditioner not in ("martens", "none"):
            raise ValueError(
                f"preconditioner must be 'martens' or 'none', got {self.preconditioner!r}"
            )
        if self.rho_batch not in ("gradient", "curvature"):
            raise ValueError(f"rho_batch must be 'gradient' or 'curvature', got {self.rho_batch!r}")
        checks = [
            ("lr", self.lr >= 0, ">= 0"),
            ("damping", self.damping >= 0, ">= 0"),
            ("cg_max_iterations", self.cg_max_iterations >= 1, ">= 1"),
            ("cg_min_iterations", self.cg_min_iterations >= 1, ">= 1"),
            ("cg_tolerance", self.cg_tolerance >= 0, ">= 0"),
            ("cg_decay", 0 <= self.cg_decay <= 1, "in [0, 1]"),
            ("preconditioner_exponent", self.preconditioner_exponent >= 0, ">= 0"),
            ("damping_increase", self.damping_increase > 1, "> 1"),
            ("damping_decrease", 0 < self.damping_decrease < 1, "in (0, 1)"),
            ("structural_damping", self.structural_damping >= 0, ">= 0"),
            ("weight_decay", self.weight_decay >= 0, ">= 0"),
        ]
        for name, ok, requirement in checks:
            if not ok:
                raise ValueError(f"{name} must be {requirement}, got {getattr(self, name)!r}")


class HessianFree(Optimizer):
    r"""Hessian-free optimization with the generalized Gauss-Newton matrix.

    ``step`` takes closures instead of a loss: ``closure()`` runs the model on the gradient
    batch and returns ``(outputs, targets)``, the pre-nonlinearity outputs with the graph, or
    ``(outputs, targets, hidden)`` with the hidden states for structural damping;
    ``curvature_closure()`` does the same on the (smaller) curvature batch (None: reuse the
    gradient batch). Neither calls ``backward``.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from inertia.optim import HessianFree
        >>> _ = torch.manual_seed(0)
        >>> inputs = torch.randn(256, 8)
        >>> labels = (inputs[:, 0] > 0).long()
        >>> model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 2))
        >>> optimizer = HessianFree(model.parameters(), loss="softmax-cross-entropy")
        >>> first = optimizer.step(lambda: (model(inputs), labels))
        >>> for _ in range(9):  # curvature on a quarter of the batch
        ...     loss = optimizer.step(
        ...         lambda: (model(inputs), labels), lambda: (model(inputs[:64]), labels[:64])
        ...     )
        >>> bool(loss < 0.1 * first)
        True

    Args:
        params: the parameters (one group: HF solves one linear system for all of them).
        loss: one of :data:`OUTPUT_LOSSES`, the output nonlinearity and its matching loss.
        settings: every other setting, a :class:`HessianFreeSettings` (its defaults if None).
        **overrides: settings by name (``cg_max_iterations=10``), over ``settings``; each is
            also a key of ``param_groups[0]``, read at every update (so a schedule may write
            ``lr`` or ``cg_decay`` there).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        loss: str,
        settings: HessianFreeSettings | None = None,
        **overrides: Any,
    ) -> None:
        if loss not in OUTPUT_LOSSES:
            raise ValueError(
                f"loss must be one of {OUTPUT_LOSSES} (output nonlinearity and matching loss), "
                f"got {loss!r}"
            )
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(HessianFreeSettings)})
        if unknown:
            raise TypeError(f"HessianFree has no setting {unknown[0]!r}")
        chosen = dataclasses.replace(settings or HessianFreeSettings(), **overrides)
        defaults = dataclasses.asdict(chosen)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(
                "HessianFree takes one parameter group (it solves one linear system for all "
                f"parameters), got {len(self.param_groups)}"
            )
        self.loss = loss
        self.last_step: dict[str, float] = {}
        """Diagnostics of the latest update: loss before and after, CG iterations, the chosen
        iterate, ρ, λ, the step length; and its cost: ``time_s``, ``gauss_newton_products``
        (one per CG iteration, one for ρ, one more with structural damping), ``evaluations``
        (objective values: CG backtracking, the line search, ρ's on the curvature batch) and
        ``gradient_cases``, the update's cost in per-case gradients: each part at its measured
        cost per case (:data:`FISHER_COST`, :data:`OPERATOR_COST`, :data:`GAUSS_NEWTON_COST`,
        :data:`EVALUATION_COST`; counts, so a resumed run counts the same)."""
        self._evaluations = 0
        self._evaluated_cases = 0

    @property
    def updates(self) -> int:
        """Updates made so far (kept in the optimizer state, so it survives ``state_dict``)."""
        params = self._params
        if not params or params[0] not in self.state:
            return 0
        return int(self.state[params[0]].get("step", 0))

    # -- pieces ---------------------------------------------------------------------------------

    @property
    def _params(self) -> list[Tensor]:
        return [p for p in self.param_groups[0]["params"] if p.requires_grad]

    def _objective(self, outputs: Tensor, targets: Tensor) -> Tensor:
        value = output_loss(self.loss, outputs, targets)
        weight_decay = self.param_groups[0]["weight_decay"]
        if weight_decay:
            value = value + 0.5 * weight_decay * sum(p.pow(2).sum() for p in self._params)
        return value

    @staticmethod
    def _unpack(batch: Any, need_hidden: bool) -> Batch:
        if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
            raise TypeError(
                "a HessianFree closure must return (outputs, targets) or (outputs, targets, "
                f"hidden), got {type(batch).__name__}"
            )
        if need_hidden and len(batch) != 3:
            raise ValueError(
                "structural_damping > 0 needs closures that return (outputs, targets, hidden)"
            )
        return tuple(batch)

    def gauss_newton_operator(
        self, batch: Batch, structural: float = 0.0
    ) -> Callable[[Tensor], Tensor]:
        """v ↦ (G + ``structural`` · J_hᵀJ_h / N) v on the batch ``(outputs, targets[, hidden])``
        computed with the graph, as a function of flat vectors. Each product is one forward-mode
        product J v (the derivative of u ↦ Jᵀu along v) and one reverse-mode product Jᵀ(H_L J v);
        the batch's graph is kept for the next product."""
        params = self._params
        outputs = batch[0]
        targets_of = [(outputs, lambda o, v: _loss_hessian_product(self.loss, o, v), 1.0)]
        if structural:
            hidden = batch[2]
            targets_of.append((hidden, lambda h, v: v / h.shape[0], structural))
        operators = []
        for tensor, hessian, scale in targets_of:
            detached = tensor.detach()
            cotangent = torch.zeros_like(tensor, requires_grad=True)
            transposed = torch.autograd.grad(
                tensor, params, cotangent, create_graph=True, allow_unused=True,
                materialize_grads=True,
            )  # fmt: skip
            operators.append((tensor, detached, cotangent, transposed, hessian, scale))

        def product(vector: Tensor) -> Tensor:
            pieces = _unflatten(vector, params)
            total: Tensor | None = None
            for tensor, detached, cotangent, transposed, hessian, scale in operators:
                (jacobian_vector,) = torch.autograd.grad(
                    transposed, cotangent, pieces, retain_graph=True, allow_unused=True,
                    materialize_grads=True,
                )  # fmt: skip
                weighted = hessian(detached, jacobian_vector) * scale
                back = torch.autograd.grad(
                    tensor, params, weighted, retain_graph=True, allow_unused=True,
                    materialize_grads=True,
                )  # fmt: skip
                flat = _flat(back)
                total = flat if total is None else total + flat
            assert total is not None
            return total

        return product

    def _evaluate(
        self,
        closure: Callable[[], Any],
        start: list[Tensor],
        direction: Tensor | None,
        scale: float,
    ) -> float:
        """f(θ + scale · direction) on the closure's batch, with θ = ``start``. The parameters
        are moved in place and restored bit for bit; the graphs kept for the Gauss-Newton
        products hold copies of them (:func:`_graphs_keep_parameter_values`), so they stay
        valid."""
        params = self._params
        self._evaluations += 1
        with torch.no_grad():
            try:
                if direction is not None and scale:
                    pieces = _unflatten(direction, params)
                    for p, origin, piece in zip(params, start, pieces, strict=True):
                        p.copy_(origin + scale * piece)
                batch = self._unpack(closure(), need_hidden=False)
                self._evaluated_cases += int(batch[1].shape[0])
                value = float(self._objective(batch[0], batch[1]))
            finally:
                for p, origin in zip(params, start, strict=True):
                    p.copy_(origin)
        return value

    # -- the update, in the phases of Martens (2010), Algorithm 1 -------------------------------

    # An override with another contract than Optimizer.step's (docs/hessian_free.md): the
    # closure returns (outputs, targets), not the loss, because Gauss-Newton products need the
    # outputs; a second closure may give the curvature minibatch (Martens 2010, section 4.3).
    def step(  # type: ignore[override]
        self,
        closure: Callable[[], Any],
        curvature_closure: Callable[[], Any] | None = None,
    ) -> Tensor:
        """One HF update (Martens 2010, Algorithm 1). Returns the objective before the update."""
        if closure is None or not callable(closure):
            raise TypeError("HessianFree.step needs a closure that returns (outputs, targets)")
        started = time.perf_counter()  # the update's wall time (last_step["time_s"])
        self._evaluations = self._evaluated_cases = 0
        with _graphs_keep_parameter_values(self._params):
            gradient = self._gradient_phase(closure, reuse=curvature_closure is None)
            curvature = self._curvature_phase(gradient, curvature_closure)
        result = self._conjugate_gradient_phase(gradient, curvature)
        trial = self._backtracking_phase(closure, gradient, result)
        ratio = self._damping_phase(gradient, curvature, trial)
        rate = self._line_search_phase(closure, gradient, trial)
        self._take_step(gradient, trial, result, rate)
        self._record(gradient, curvature, result, trial, ratio, rate, started)
        return torch.tensor(gradient.objective)

    def _gradient_phase(self, closure: Callable[[], Any], reuse: bool) -> _Gradient:
        """The gradient on the gradient batch and, for the Martens preconditioner, the
        empirical Fisher diagonal from its per-case gradients (sections 4.3 and 4.7)."""
        group = self.param_groups[0]
        params = self._params
        martens = group["preconditioner"] == "martens"
        recorder = _LinearFisherRecorder(params, active=martens)
        with torch.enable_grad():
            with recorder:
                structural = group["structural_damping"] > 0
                batch = self._unpack(closure(), need_hidden=reuse and structural)
            objective = self._objective(batch[0], batch[1])
            gradient_list = torch.autograd.grad(
                objective, params, retain_graph=reuse, allow_unused=True, materialize_grads=True
            )
        f0 = float(objective.detach())
        if not math.isfinite(f0):
            raise FloatingPointError(f"HessianFree: the objective is {f0} at the current point")
        preconditioner: Tensor | None = None
        if martens:
            fisher = _flat(recorder.fisher_diagonal())
            floor = group["damping"] + group["weight_decay"]
            preconditioner = (fisher + floor).pow(group["preconditioner_exponent"])
        recorder.release()
        start = [p.detach().clone() for p in params]
        return _Gradient(batch, f0, _flat(gradient_list).detach(), start, preconditioner)

    def _curvature_phase(
        self, gradient: _Gradient, curvature_closure: Callable[[], Any] | None
    ) -> _Curvature:
        """The damped curvature operator (G + λ I + λ μ_s S + w I) on the curvature batch and
        the undamped G that ρ's model uses."""
        group = self.param_groups[0]
        structural, damping = group["structural_damping"], group["damping"]
        with torch.enable_grad():
            if curvature_closure is None:
                batch = gradient.batch
            else:
                batch = self._unpack(curvature_closure(), need_hidden=structural > 0)
            gauss_newton = self.gauss_newton_operator(batch, structural=structural * damping)
            plain = self.gauss_newton_operator(batch) if structural else gauss_newton
        shift = damping + group["weight_decay"]

        def damped(vector: Tensor) -> Tensor:
            return gauss_newton(vector) + shift * vector

        return _Curvature(batch, damped, plain, damping, curvature_closure)

    def _conjugate_gradient_phase(self, gradient: _Gradient, curvature: _Curvature) -> CGResult:
        """CG on the damped model, warm-started from the decayed previous solution (sections
        4.4 and 4.5)."""
        group = self.param_groups[0]
        previous = self.state[self._params[0]].get("cg_direction")
        decay = group["cg_decay"]
        warm_start = previous * decay if previous is not None and decay else None
        return conjugate_gradient(
            curvature.damped,
            -gradient.vector,
            warm_start,
            preconditioner=gradient.preconditioner,
            max_iterations=group["cg_max_iterations"],
            min_iterations=group["cg_min_iterations"],
            tolerance=group["cg_tolerance"],
        )

    def _backtracking_phase(
        self, closure: Callable[[], Any], gradient: _Gradient, result: CGResult
    ) -> _Trial:
        """CG backtracking (section 4.6): from the last saved iterate, walk back while the
        objective decreases."""
        chosen, direction = result.saved[-1]
        value = self._evaluate(closure, gradient.start, direction, 1.0)
        if self.param_groups[0]["cg_backtracking"]:
            for iteration, candidate in reversed(result.saved[:-1]):
                candidate_value = self._evaluate(closure, gradient.start, candidate, 1.0)
                if candidate_value >= value:
                    break
                chosen, direction, value = iteration, candidate, candidate_value
        return _Trial(chosen, direction, value)

    def _damping_phase(self, gradient: _Gradient, curvature: _Curvature, trial: _Trial) -> float:
        """The Levenberg-Marquardt rule (section 4.1): ρ = actual / predicted reduction under
        the undamped model; λ × ``damping_increase`` when ρ < 1/4, × ``damping_decrease`` when
        ρ > 3/4. The actual reduction is measured on the batch ``rho_batch`` names. Returns ρ
        (−inf where the objective rose to a non-finite value)."""
        group = self.param_groups[0]
        direction = trial.direction
        with torch.enable_grad():
            curvature_along = torch.dot(direction, curvature.plain(direction))
        predicted = float(torch.dot(gradient.vector, direction) + 0.5 * curvature_along)
        predicted += 0.5 * group["weight_decay"] * float(direction.pow(2).sum())
        before, after = gradient.objective, trial.value
        if group["rho_batch"] == "curvature" and curvature.closure is not None:
            before = self._evaluate(curvature.closure, gradient.start, None, 0.0)
            after = self._evaluate(curvature.closure, gradient.start, direction, 1.0)
        finite = math.isfinite(after)
        ratio = (after - before) / predicted if predicted < 0 and finite else -math.inf
        if group["adapt_damping"]:
            if ratio < 0.25:
                group["damping"] = curvature.damping * group["damping_increase"]
            elif ratio > 0.75:
                group["damping"] = curvature.damping * group["damping_decrease"]
        return ratio

    def _line_search_phase(
        self, closure: Callable[[], Any], gradient: _Gradient, trial: _Trial
    ) -> float:
        """The step length: ``lr``, backtracked by ×0.8 until the Armijo condition holds when
        ``line_search`` (0 after 60 failures); without it, 0 where the trial objective is not
        finite."""
        group = self.param_groups[0]
        rate = group["lr"]
        if not group["line_search"]:
            return rate if math.isfinite(trial.value) else 0.0
        f0, direction = gradient.objective, trial.direction
        slope = float(torch.dot(gradient.vector, direction))
        value = (
            trial.value if rate == 1.0 else self._evaluate(closure, gradient.start, direction, rate)
        )
        tries = 0
        while not value <= f0 + 1e-2 * rate * slope:  # also rejects a NaN objective
            tries += 1
            if tries > 60:
                return 0.0
            rate *= 0.8
            value = self._evaluate(closure, gradient.start, direction, rate)
        return rate

    def _take_step(self, gradient: _Gradient, trial: _Trial, result: CGResult, rate: float) -> None:
        """θ ← θ + rate · d; the warm start keeps the CG solution (not the step actually
        taken), as Martens does."""
        params = self._params
        with torch.no_grad():
            for p, piece in zip(params, _unflatten(trial.direction, params), strict=True):
                p.add_(piece, alpha=rate)
        state = self.state[self._params[0]]
        state["cg_direction"] = result.solution.detach()
        state["step"] = state.get("step", 0) + 1

    def _record(
        self, gradient: _Gradient, curvature: _Curvature, result: CGResult,
        trial: _Trial, ratio: float, rate: float, started: float,
    ) -> None:  # fmt: skip
        """:attr:`last_step`, with the update's cost in gradient cases (issue 35: HF against
        first-order methods at an equal cost): the gradient batch (with the Fisher diagonal when
        Martens's preconditioner is on, :data:`FISHER_COST`), the operator set-up on the
        curvature batch (:data:`OPERATOR_COST`, twice with structural damping), each
        Gauss-Newton product on the curvature batch (CG's iterations, ρ's, structural damping's;
        :data:`GAUSS_NEWTON_COST`) and each objective value on the batch it was computed on
        (:data:`EVALUATION_COST`)."""
        group = self.param_groups[0]
        gradient_cases = int(gradient.batch[1].shape[0])
        curvature_cases = int(curvature.batch[1].shape[0])
        structural = bool(group["structural_damping"])
        products = result.iterations + 1 + (1 if structural else 0)
        fisher = FISHER_COST if group["preconditioner"] == "martens" else 0.0
        self.last_step = {
            "gradient_cases": gradient_cases * (1.0 + fisher)
            + (2 if structural else 1) * curvature_cases * OPERATOR_COST
            + products * curvature_cases * GAUSS_NEWTON_COST
            + self._evaluated_cases * EVALUATION_COST,
            "gauss_newton_products": float(products),
            "evaluations": float(self._evaluations),
            "time_s": time.perf_counter() - started,
            "loss": gradient.objective,
            "loss_after_cg": trial.value,
            "cg_iterations": float(result.iterations),
            "cg_start_model": result.initial_objective,
            "cg_model": result.objective,
            "chosen_iteration": float(trial.iteration),
            "reduction_ratio": ratio,
            "damping": curvature.damping,
            "lr": rate,
            "cg_decay": float(group["cg_decay"]),
        }
