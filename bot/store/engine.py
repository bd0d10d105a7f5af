"""SQLAlchemy's asyncio engine, loaded without the ORM that Crieur does not use.

The `sqlalchemy.ext.asyncio` package's `__init__` imports its ORM session beside the engine,
and with it all of `sqlalchemy.orm`: about 6 MB of resident memory in every process (a tenth
of what `crieur run` needs) for code Crieur never runs, since it uses SQLAlchemy Core only.

Importing this module first registers that package without running its `__init__`, then
loads only its `engine` module. The package completes itself, ORM included, the first time
anything asks it for a name the engine does not provide, so other code importing
`sqlalchemy.ext.asyncio` as usual keeps working.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any

_PACKAGE = "sqlalchemy.ext.asyncio"
_ENGINE_NAMES = (
    "AsyncConnection",
    "AsyncEngine",
    "AsyncTransaction",
    "async_engine_from_config",
    "create_async_engine",
    "create_async_pool_from_url",
)


class _EngineOnlyPackage(types.ModuleType):
    """The package with only its engine loaded; any other name runs its real `__init__`."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or _is_submodule(f"{self.__name__}.{name}"):
            # `from . import exc` asks first; answering no lets the import system load it
            raise AttributeError(name)
        package: types.ModuleType = self
        package.__class__ = types.ModuleType  # before running it: no recursion on a miss
        spec = self.__spec__
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(self)
        return getattr(self, name)


def _is_submodule(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def _register_engine_only() -> None:
    if _PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not the package this was written for: let it import as usual
    package = importlib.util.module_from_spec(spec)
    package.__class__ = _EngineOnlyPackage
    sys.modules[_PACKAGE] = package
    try:
        engine = importlib.import_module(_PACKAGE + ".engine")
    except ImportError:
        del sys.modules[_PACKAGE]  # let the package import as usual, ORM included
        return
    for name in _ENGINE_NAMES:
        setattr(package, name, getattr(engine, name))
    setattr(sys.modules["sqlalchemy.ext"], "asyncio", package)  # noqa: B010  # as import does


_register_engine_only()

from sqlalchemy.ext.asyncio import (  # noqa: E402  # once the package is registered
    AsyncConnection,
    AsyncEngine,
    create_async_engine,
)

__all__ = ["AsyncConnection", "AsyncEngine", "create_async_engine"]
