"""The processors the offline engine supports, by Elasticsearch type name.

Each module of this package holds a family of processors (its docstring says which); a
class with a `type` is registered under that name, so a new family is a new module.
"""

from __future__ import annotations

import importlib
import pkgutil

REGISTRY: dict[str, type] = {}
for _info in pkgutil.iter_modules(__path__):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _cls in vars(_module).values():
        if isinstance(_cls, type) and getattr(_cls, "type", "") and _cls.__module__ == _module.__name__:
            if _cls.type in REGISTRY:
                raise RuntimeError(f"processor type [{_cls.type}] defined twice: {REGISTRY[_cls.type].__module__}, {_module.__name__}")
            REGISTRY[_cls.type] = _cls
