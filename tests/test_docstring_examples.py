"""Every ``Examples`` block in the package's docstrings runs and prints what it says."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import inertia


def test_docstring_examples_run():
    attempted = failed = 0
    names = [m.name for m in pkgutil.walk_packages(inertia.__path__, "inertia.")]
    for name in names:
        result = doctest.testmod(
            importlib.import_module(name),
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
            verbose=False,
        )
        attempted += result.attempted
        failed += result.failed
    assert failed == 0
    assert attempted >= 20  # the examples exist and were found
