"""The ``inertia`` command.

``inertia demo [--out DIR]`` draws the quadratic-theory figures of Sutskever et al. (2013),
section 2.2, and prints where they are. Failures exit non-zero with a one-line message.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from inertia import __version__


def _demo(args: argparse.Namespace) -> int:
    from inertia.analysis import plot_oblong_quadratic, plot_quadratic_learning_curves

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SystemExit(f"inertia demo: cannot create output folder {out}: {error}") from None
    start = time.perf_counter()
    oblong = plot_oblong_quadratic(out / "cm_vs_nag_oblong_quadratic.png")
    curves = plot_quadratic_learning_curves(out / "quadratic_learning_curves.png")
    lines = [
        "# inertia demo: momentum on quadratics (Sutskever et al. 2013, section 2.2)",
        "",
        "Oblong quadratic, same μ = 0.95 and ε = 0.9 for both methods, steep direction ελ = 0.9:",
        "",
        "| method | rate per update, steep direction | distance to minimum, 60 updates |",
        "|---|---|---|",
        f"| CM | {oblong['cm_rate']:.4f} | {oblong['cm_final_error']:.4f} |",
        f"| NAG | {oblong['nag_rate']:.4f} | {oblong['nag_final_error']:.4f} |",
        "",
        "100-D quadratic, condition number 1e4, ε = 1, 3000 updates:",
        "",
        "| method | q(θ) - q(x*) |",
        "|---|---|",
        *[f"| {label} | {gap:.3e} |" for label, gap in curves.items()],
        "",
        "NAG damps the steep direction that makes CM oscillate (Theorem 2: its momentum there is",
        "μ(1 - ελ)); where the error sits in low-curvature directions the two methods agree, and",
        "both leave plain SGD far behind.",
        "",
        "Figures: cm_vs_nag_oblong_quadratic.png, quadratic_learning_curves.png",
    ]
    (out / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nWrote {out.resolve()} in {time.perf_counter() - start:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inertia",
        description="Momentum methods and implicit gradients for deep and recurrent networks.",
    )
    parser.add_argument("--version", action="version", version=f"inertia {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="draw the CM-vs-NAG quadratic figures into a folder and summarize them"
    )
    demo.add_argument("--out", default="inertia-demo", help="output folder (default inertia-demo)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
