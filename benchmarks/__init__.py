"""Benchmarks, run by hand (``python -m benchmarks.run``); never part of the test suite."""
