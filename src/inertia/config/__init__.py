"""The base of every typed group of settings (a run's, a task's, an optimizer's) and the error
they raise, shared by the experiment engine and the tasks (``pip install
'inertia[experiments]'``: it needs pydantic)."""

from inertia.config._section import ConfigError as ConfigError
from inertia.config._section import Section as Section
from inertia.config._section import is_number_annotation as is_number_annotation

__all__ = ["ConfigError", "Section", "is_number_annotation"]
