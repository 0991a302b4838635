"""The package's import structure: public exports between subpackages, no import cycles between
them, and a core that imports with torch alone (issue 16)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).parents[2] / "src" / "inertia"
CORE = ("optim", "functional", "schedules", "init", "implicit", "nn", "data", "analysis", "linalg")
OPTIONAL = ("optuna", "matplotlib", "yaml", "tqdm", "scipy", "numpy", "pydantic", "sqlalchemy")


def _package(path: Path) -> str:
    """``inertia.optim`` for ``src/inertia/optim/_momentum.py``; ``inertia`` for ``cli.py``."""
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:2]) if len(parts) > 2 else parts[0]


def _imports(path: Path) -> list[str]:
    """Every ``inertia...`` module ``path`` imports, also inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [name for name in found if name == "inertia" or name.startswith("inertia.")]


MODULES = sorted(SOURCE.rglob("*.py"))


def test_no_module_imports_another_packages_private_module():
    offenders = []
    for path in MODULES:
        own = _package(path)
        for name in _imports(path):
            parts = name.split(".")
            private = next((i for i, part in enumerate(parts) if part.startswith("_")), None)
            if private is not None and ".".join(parts[:private]) != own:
                offenders.append(f"{path.relative_to(SOURCE)} imports {name}")
    assert offenders == []


def test_subpackages_import_each_other_without_cycles():
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        own = _package(path)
        for name in _imports(path):
            other = ".".join(name.split(".")[:2])
            if other != own and other != "inertia" and own != "inertia":
                graph.setdefault(own, set()).add(other)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(package for package in graph if reaches(package, package, {package}))
    assert cycles == [], graph
    assert not any(
        other in ("inertia.experiments", "inertia.protocols", "inertia.tasks")
        for package in (f"inertia.{name}" for name in CORE)
        for other in graph.get(package, ())
    ), "the core must not import the experiment engine"
    assert "inertia.protocols" not in graph.get("inertia.experiments", set())


# As if the optional packages were not installed: importing them raises ImportError and
# importlib.util.find_spec finds nothing (torch asks it whether NumPy exists).
BLOCKER = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None
"""


@pytest.mark.parametrize("package", CORE)
def test_core_imports_with_torch_alone(package):
    if not (SOURCE / package).exists():
        pytest.skip(f"no inertia.{package}")
    code = BLOCKER.format(blocked=set(OPTIONAL)) + f"import inertia.{package}\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_core_optimizer_trains_with_torch_alone():
    code = BLOCKER.format(blocked=set(OPTIONAL)) + (
        "import torch\n"
        "from inertia.optim import NAG\n"
        "from inertia.schedules import SutskeverMomentum\n"
        "w = torch.nn.Parameter(torch.ones(3))\n"
        "opt = NAG([w], lr=0.1, momentum=SutskeverMomentum(0.9))\n"
        "for _ in range(50):\n"
        "    opt.zero_grad(); (w ** 2).sum().backward(); opt.step()\n"
        "opt.eval(); assert w.abs().max() < 1e-2, w\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_cli_without_the_engine_says_what_to_install():
    code = BLOCKER.format(blocked=set(OPTIONAL)) + (
        "import sys\nfrom inertia.cli import main\nsys.exit(main(['tasks']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert "pip install 'inertia[experiments]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_scripts_and_benchmarks_use_the_public_api_only():
    """Issue 37: scripts and benchmarks are users of the library; what they need is public
    (exported by a subpackage), never a private module such as ``inertia.tasks._long_term``."""
    root = SOURCE.parents[1]
    offenders = []
    for folder in ("scripts", "benchmarks"):
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names: list[str] = []
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                for name in names:
                    parts = name.split(".")
                    if parts[0] == "inertia" and any(part.startswith("_") for part in parts):
                        offenders.append(f"{path.relative_to(root)} imports {name}")
    assert offenders == []
