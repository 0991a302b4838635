"""The README's example runs and trains; its set-up commands are where .ci/run finds them."""

from __future__ import annotations

import re
from pathlib import Path

import torch

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs_and_reduces_the_loss():
    text = README.read_text()
    code = re.search(r"## Example\n\n```python\n(.*?)```", text, re.S).group(1)
    # Record the loss of every step; otherwise the code runs exactly as printed.
    code = code.replace("optimizer.step()", "optimizer.step(); losses.append(loss.item())")
    namespace: dict = {"losses": []}
    torch.manual_seed(0)
    exec(compile(code, str(README), "exec"), namespace)
    model, data = namespace["model"], namespace["data"]
    optimizer, losses = namespace["optimizer"], namespace["losses"]
    final = (model(data) - data).pow(2).sum(dim=1).mean().item()  # at θ, after eval()
    predict_mean_image = (data - data.mean(dim=0)).pow(2).sum(dim=1).mean().item()
    assert len(losses) == namespace["steps"]
    assert final < 0.7 * predict_mean_image
    assert final < 0.1 * losses[0]
    assert not optimizer.param_groups[0]["train_mode"]  # it ended in eval mode, at θ


def test_readme_has_both_setup_commands():
    text = README.read_text()
    for marker in ("demo-command", "test-command", "system-packages"):
        block = re.search(
            rf"<!-- {marker} -->\n```bash\n(.+?)\n```\n<!-- /{marker} -->", text, re.S
        )
        assert block is not None, marker
        if marker != "system-packages":
            assert block.group(1).startswith("python3 -m venv .venv && . .venv/bin/activate")
            assert "pip install torch==2.13.0" in block.group(1)
