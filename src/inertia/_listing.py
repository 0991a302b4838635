"""The listing of every setting, task, optimizer and protocol that ``inertia tasks`` prints and
``inertia train --help`` ends with, generated from the config types and the protocol registry
and kept in the user's cache under a fingerprint of the sources it comes from (generating it
imports torch and every task: over a second; reading it back: none of that)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from pathlib import Path

from inertia import __version__

__all__ = ["cached_listing", "listing", "settings_lines", "settings_listing"]


def settings_lines() -> list[str]:
    """Every run setting, every task's and every optimizer's, with its type, bounds and
    default, generated from the config types (``inertia tasks`` and ``inertia train --help``)."""
    from inertia.experiments import OPTIMIZERS, RunConfig, settings_help
    from inertia.tasks import TASKS

    lines = ["run settings (inertia train --KEY=VALUE):"]
    lines += [f"  {line}" for line in settings_help(RunConfig)]
    lines.append("tasks (--task=NAME, then --task.KEY=VALUE):")
    for name, task in sorted(TASKS.items()):
        lines.append(f"  {name}: {task.description}")
        lines += [f"      {line}" for line in settings_help(task.Options, "task.")]
    lines.append("optimizers (--optimizer=NAME, then --optimizer.KEY=VALUE):")
    for name, entry in OPTIMIZERS.items():
        lines.append(f"  {name}: {(entry.options.__doc__ or '').strip().splitlines()[0]}")
        lines += [f"      {line}" for line in settings_help(entry.options, "optimizer.")]
    return lines


def listing() -> str:
    """``inertia tasks``: every setting (:func:`settings_lines`), then every protocol with
    its budgets and their run counts."""
    from inertia.protocols import PROTOCOLS

    lines = settings_lines()
    lines.append("protocols (inertia sweep NAME --budget=BUDGET, one of those listed):")
    for name, protocol in sorted(PROTOCOLS.items()):
        lines.append(f"  {name}: {protocol.title}")
        for budget_name, budget in protocol.budgets.items():
            lines.append(f"      {budget_name}: {len(budget.plan())} runs; {budget.about}")
    return "\n".join(lines) + "\n"


def _listing_fingerprint() -> str:
    """What the listing is generated from: this package's source files (paths and contents)
    and the versions of Python, torch and pydantic, read without importing anything heavy."""
    from importlib import metadata

    digest = hashlib.sha256(f"{sys.version_info[:2]}".encode())
    for distribution in ("torch", "pydantic"):
        try:
            digest.update(f"{distribution}={metadata.version(distribution)};".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{distribution}=none;".encode())
    package = Path(__file__).resolve().parent
    for source in sorted(package.rglob("*.py")):
        digest.update(str(source.relative_to(package)).encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:24]


def _listing_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "inertia" / f"tasks-{__version__}-{_listing_fingerprint()}.txt"


def settings_listing() -> str | None:
    """:func:`settings_lines` for ``train --help`` (None where the engine is not installed)."""
    try:
        return "\n".join(settings_lines())
    except ImportError:
        return None


def cached_listing() -> str:
    """:func:`listing`, read from the cache while the sources match its fingerprint, generated
    (and cached) otherwise; a read-only or full disk only skips the caching."""
    cache = _listing_cache()
    try:
        return cache.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = listing()  # imports the engine, so its atomic writer costs nothing more
        from inertia.experiments import write_text

        with contextlib.suppress(OSError):
            write_text(text, cache)
        return text
