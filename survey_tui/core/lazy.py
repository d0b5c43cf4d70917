"""A module imported on first use, so `survey-tui --help`, `check` and the app's home screen do not pay for
polars, numpy or scipy (together over a second on a small machine) when they never touch them."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands in for ``import NAME``; the real import happens on the first attribute read.

    Each attribute read once is kept on the proxy, so later reads cost what a module attribute costs.
    """

    def __init__(self, name: str) -> None:
        self.__dict__["_lazy_name"] = name

    def _module(self) -> ModuleType:
        return importlib.import_module(self.__dict__["_lazy_name"])

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._module(), attr)
        self.__dict__[attr] = value
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_lazy_name']!r}>"


def lazy(name: str) -> Any:
    """``pl = lazy("polars")``: typed as Any so callers keep their annotations under ``TYPE_CHECKING``."""
    return LazyModule(name)


class LazyChoices:
    """A module's tuple (``LazyChoices("survey_tui.core.fieldwork.privacy", "OUTCOMES")``) for argparse's ``choices``,
    read only when a value is checked: building the parser for ``--help`` then imports no model.

    Give the argument a ``metavar``: argparse formats the choices into the usage line when it is added.
    """

    def __init__(self, module: str, name: str) -> None:
        self._module, self._name = module, name

    def _values(self) -> tuple[str, ...]:
        return tuple(getattr(importlib.import_module(self._module), self._name))

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __contains__(self, value: object) -> bool:
        return value in self._values()
