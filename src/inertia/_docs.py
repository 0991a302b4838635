"""Argument text shared by several docstrings, kept in one place so it cannot drift.

Fragments are inserted with ``str.format`` or f-strings (torch's ``_foreach_doc`` pattern).
"""

ARGS_PARAMS = """params: an iterable of parameters or of dicts defining parameter groups; every
            hyperparameter below can be overridden per group."""

ARGS_LR = """lr: the learning rate ε, a float or (as torch's optimizers take) a 0-d or
            1-element tensor, read at every step. It multiplies the gradient *inside* the
            velocity (ε ∇f enters v), as in Sutskever et al. (2013); it may be changed in
            ``param_groups`` at any time."""

ARGS_MOMENTUM = """momentum: the momentum coefficient μ in [0, 1), either a float or a
            schedule: a callable ``step -> μ`` with steps counted from 0 (one per update of the
            parameter), e.g. :class:`inertia.schedules.SutskeverMomentum`. The optimizer holds
            the schedule itself."""

ARGS_WEIGHT_DECAY = """weight_decay: L2 coefficient λ; the gradient used is ∇f + λ·(the point
            where it is evaluated). Default 0."""

ARGS_FOREACH = """foreach: use the multi-tensor ``torch._foreach_*`` kernels. ``None`` (default)
            follows torch's rule (on for CUDA tensors, off on CPU). Both paths compute the same
            update."""

ARGS_FUSED = """fused: one pass over parameter, gradient and velocity per tensor: on CPU a C++
            loop built once per machine by ``torch.utils.cpp_extension`` (30-55 s on two
            cores, then cached), elsewhere ``torch.compile`` (μ and ε enter as tensors, so
            schedules never recompile). ``None`` (default) uses it for buckets of at least 2^20
            elements on CPU, where it is the fastest path; where nothing can be built, one
            warning and the foreach path. Equal to the
            single-tensor update up to the rounding of a fused multiply-add."""
