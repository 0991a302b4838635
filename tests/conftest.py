from __future__ import annotations

from pathlib import Path

import pytest
import torch

torch.set_num_threads(2)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's staged datasets (../shared/data beside the checkout), read via the loaders."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"no staged datasets at {SHARED_DATA}")
    return SHARED_DATA
