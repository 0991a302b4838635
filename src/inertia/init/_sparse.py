"""Sparse and echo-state initialization (Martens 2010; Sutskever et al. 2013, sec. 3.2 and 4)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

__all__ = ["echo_state_", "echo_state_rnn_", "sparse_", "sparse_init_", "spectral_radius"]


def _check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


def _sparse_matrix(
    fan_out: int, fan_in: int, num_connections: int, generator: torch.Generator | None
) -> Tensor:
    """A (fan_out, fan_in) float64 CPU matrix with ``num_connections`` N(0, 1) entries per row."""
    connections = min(num_connections, fan_in)
    # Uniform scores and top-k pick ``connections`` distinct inputs per unit, uniformly at random.
    chosen = torch.rand(fan_out, fan_in, generator=generator, dtype=torch.float64)
    chosen = chosen.topk(connections, dim=1).indices
    values = torch.randn(fan_out, connections, generator=generator, dtype=torch.float64)
    return torch.zeros(fan_out, fan_in, dtype=torch.float64).scatter_(1, chosen, values)


def sparse_(
    tensor: Tensor,
    num_connections: int = 15,
    scale: float = 1.0,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Sparse initialization (SI) of Martens (2010), in place.

    Each unit (row of a ``(fan_out, fan_in, ...)`` weight, as ``nn.Linear`` and ``nn.Conv*`` store
    them) gets exactly ``num_connections`` incoming weights drawn from N(0, 1) and multiplied by
    ``scale``; all its other weights are zero. A unit with fewer inputs than ``num_connections``
    is connected to all of them. Biases are left alone (SI sets them to zero, see
    :func:`sparse_init_`).

    Unlike ``torch.nn.init.sparse_``, which zeroes a *fraction* of each column, the number of
    nonzeros per unit is fixed, so a unit's total input does not grow with the previous layer.

    Args:
        tensor: a weight with at least 2 dimensions; rows are units.
        num_connections: incoming connections per unit (15 in the papers).
        scale: the SI scale multiplier of Sutskever et al. (2013) Table 3 (default 1).
        generator: a ``torch.Generator`` (CPU) for reproducible draws.

    Returns:
        ``tensor``, filled.

    Examples:
        >>> import torch
        >>> w = torch.empty(4, 100)
        >>> _ = sparse_(w, generator=torch.Generator().manual_seed(0))
        >>> (w != 0).sum(dim=1).tolist()
        [15, 15, 15, 15]

    References:
        Martens (2010), "Deep learning via Hessian-free optimization", ICML, section 5;
        Sutskever et al. (2013), section 3.2 and Table 3.
    """
    if tensor.ndim < 2:
        raise ValueError(
            f"sparse_ needs a weight with >= 2 dimensions, got shape {tuple(tensor.shape)}"
        )
    if isinstance(num_connections, bool) or not isinstance(num_connections, int):
        raise TypeError(f"num_connections must be an int, got {num_connections!r}")
    if num_connections < 1:
        raise ValueError(f"num_connections must be >= 1, got {num_connections}")
    fan_out, fan_in = tensor.shape[0], tensor[0].numel()
    weights = _sparse_matrix(fan_out, fan_in, num_connections, generator) * scale
    with torch.no_grad():
        return tensor.copy_(weights.view(tensor.shape))


def sparse_init_(
    module: nn.Module,
    num_connections: int = 15,
    scale: float = 1.0,
    nonlinearity: Literal["sigmoid", "tanh"] = "sigmoid",
    *,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Apply SI to every ``nn.Linear`` and ``nn.Conv*`` inside ``module``, in place.

    Logistic units: weights from :func:`sparse_`, biases 0. Tanh units, transformed to simulate
    sigmoid units as in Sutskever et al. (2013), section 3.2: weights multiplied by 0.25 and
    biases set to 0.5.

    Args:
        module: a module whose linear and convolutional layers are initialized, in
            ``module.modules()`` order (deterministic under ``generator``).
        num_connections: incoming connections per unit.
        scale: the SI scale multiplier.
        nonlinearity: ``"sigmoid"`` or ``"tanh"``.
        generator: a ``torch.Generator`` for reproducible draws.

    Returns:
        ``module``.
    """
    factors = {"sigmoid": (1.0, 0.0), "tanh": (0.25, 0.5)}
    if nonlinearity not in factors:
        raise ValueError(f"nonlinearity must be 'sigmoid' or 'tanh', got {nonlinearity!r}")
    weight_factor, bias_value = factors[nonlinearity]
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            sparse_(layer.weight, num_connections, scale * weight_factor, generator=generator)
            if layer.bias is not None:
                nn.init.constant_(layer.bias, bias_value)
    return module


def spectral_radius(matrix: Tensor) -> float:
    """The largest modulus of the eigenvalues of a square matrix (computed in float64)."""
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"spectral_radius needs a square matrix, got shape {tuple(matrix.shape)}")
    return torch.linalg.eigvals(matrix.detach().to("cpu", torch.float64)).abs().max().item()


def echo_state_(
    tensor: Tensor,
    spectral_radius: float = 1.1,
    num_connections: int = 15,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Echo-state initialization of a recurrent (hidden-to-hidden) matrix, in place.

    A sparse draw (each unit has ``num_connections`` incoming N(0, 1) weights) rescaled so that
    its spectral radius equals ``spectral_radius`` exactly (1.1 in Sutskever et al. 2013, Table 4).

    Args:
        tensor: a square weight matrix.
        spectral_radius: the target largest eigenvalue modulus.
        num_connections: incoming connections per unit (15 in the paper).
        generator: a ``torch.Generator`` for reproducible draws.

    Returns:
        ``tensor``, filled.

    Examples:
        >>> import torch
        >>> w = torch.empty(100, 100)
        >>> _ = echo_state_(w, generator=torch.Generator().manual_seed(0))
        >>> round(torch.linalg.eigvals(w.double()).abs().max().item(), 4)
        1.1

    References:
        Jaeger & Haas (2004); Sutskever et al. (2013), section 4 and Table 4.
    """
    if tensor.ndim != 2 or tensor.shape[0] != tensor.shape[1]:
        raise ValueError(f"echo_state_ needs a square matrix, got shape {tuple(tensor.shape)}")
    _check_positive("spectral_radius", spectral_radius)
    size = tensor.shape[0]
    for _ in range(10):
        weights = _sparse_matrix(size, size, num_connections, generator)
        radius = torch.linalg.eigvals(weights).abs().max().item()
        if radius > 1e-8:
            break
    else:  # a nilpotent draw every time: only possible for tiny or degenerate sizes
        raise ValueError(
            f"could not draw a {size}x{size} matrix with nonzero spectral radius "
            f"and {num_connections} connections per unit"
        )
    with torch.no_grad():
        return tensor.copy_(weights * (spectral_radius / radius))


def echo_state_rnn_(
    weight_ih: Tensor,
    weight_hh: Tensor,
    weight_ho: Tensor | None = None,
    *,
    input_scale: float = 0.001,
    output_scale: float = 0.1,
    spectral_radius: float = 1.1,
    num_connections: int = 15,
    generator: torch.Generator | None = None,
) -> None:
    """Initialize an RNN's weights as in Sutskever et al. (2013), Table 4, in place.

    Input-to-hidden: dense ``input_scale`` · N(0, 1) (0.001 for the addition and multiplication
    problems, 0.1 for memorization). Hidden-to-hidden: :func:`echo_state_`. Hidden-to-output: dense
    ``output_scale`` · N(0, 1) (0.1). Biases are the model's business (hidden 0, output = mean of
    the targets in the paper).

    Args:
        weight_ih: ``(hidden, inputs)`` input weights.
        weight_hh: ``(hidden, hidden)`` recurrent weights.
        weight_ho: ``(outputs, hidden)`` output weights, or None.
        input_scale: standard deviation of the input weights.
        output_scale: standard deviation of the output weights.
        spectral_radius: of the recurrent matrix.
        num_connections: incoming recurrent connections per unit.
        generator: a ``torch.Generator`` for reproducible draws.
    """
    _check_positive("input_scale", input_scale)
    _check_positive("output_scale", output_scale)
    nn.init.normal_(weight_ih, std=input_scale, generator=generator)
    echo_state_(weight_hh, spectral_radius, num_connections, generator=generator)
    if weight_ho is not None:
        nn.init.normal_(weight_ho, std=output_scale, generator=generator)
