"""What ``inertia demo`` writes besides the sweeps' own reports: the quadratic figures of
Sutskever et al. (2013) section 2.2 with their numbers, and the front page that shows every
figure and links every report. The command itself (``inertia.cli``) only parses and
dispatches."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["demo_index", "quadratic_section"]


def quadratic_section(out: Path) -> list[str]:
    """The demo's first section: the oblong-quadratic and 100-D quadratic figures of
    Sutskever et al. (2013) section 2.2 written into ``out``, and their numbers as Markdown
    lines."""
    from inertia.analysis import plot_oblong_quadratic, plot_quadratic_learning_curves

    oblong = plot_oblong_quadratic(out / "cm_vs_nag_oblong_quadratic.png")
    curves = plot_quadratic_learning_curves(out / "quadratic_learning_curves.png")
    return [
        "## Momentum on quadratics (Sutskever et al. 2013, section 2.2)",
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
        "",
    ]


def demo_index(protocols: Sequence[str]) -> str:
    """The demo folder's front page: every figure and every report, linked and shown."""
    import html

    reports = "".join(
        f'<h2>{html.escape(name)}, quick budget</h2><p><a href="{name}-quick/index.html">table '
        f'and notes</a> · <a href="{name}-quick/table.md">table.md</a> · <a href="{name}-quick/'
        f'table.json">table.json (with provenance)</a></p><img src="{name}-quick/'
        f'learning_curves.png" alt="learning curves of {html.escape(name)}">'
        for name in protocols
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>inertia quick reproduction</title>
<style>body {{ font-family: sans-serif; margin: 2em; max-width: 80em; }}
img {{ max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }}</style></head><body>
<h1>inertia quick reproduction</h1>
<p><a href="README.md">README.md</a>: the numbers of every section below.</p>
<h2>Momentum on quadratics (Sutskever et al. 2013, section 2.2)</h2>
<img src="cm_vs_nag_oblong_quadratic.png" alt="CM and NAG on an oblong quadratic">
<img src="quadratic_learning_curves.png" alt="learning curves on a 100-D quadratic">
{reports}
</body></html>
"""
