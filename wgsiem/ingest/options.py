"""Reading a processor's options the way Elasticsearch's ConfigurationUtils does.

Each read takes the option out of the map, so what is left at the end is an option the
processor does not know: Elasticsearch refuses those, and so do we.
"""

from __future__ import annotations

import re
from typing import Any

from wgsiem.ingest.document import INT_MAX, INT_MIN, java_str, java_type
from wgsiem.ingest.errors import PipelineConfigError

_REQUIRED = object()
_JAVA_INT = re.compile(r"[+-]?[0-9]+")


class Options:
    """One processor's options; with no processor type, the keys of a request or pipeline body."""

    def __init__(self, processor_type: str | None, config: dict[str, Any], tag: str | None = None) -> None:
        self.type = processor_type
        self.config = dict(config)
        self.tag = tag

    def error(self, reason: str, name: str | None = None) -> PipelineConfigError:
        return PipelineConfigError(reason, processor_type=self.type, processor_tag=self.tag, property_name=name)

    def _take(self, name: str, default: Any) -> tuple[bool, Any]:
        """(present, value): an option given as null counts as absent, as in Elasticsearch."""
        value = self.config.pop(name, None)
        if value is None:
            if default is _REQUIRED:
                raise self.error("required property is missing", name)
            return False, default
        return True, value

    def string(self, name: str, default: Any = _REQUIRED) -> Any:
        present, value = self._take(name, default)
        if present and not isinstance(value, str):
            raise self.error(f"property isn't a string, but of type [{java_type(value)}]", name)
        return value

    def boolean(self, name: str, default: bool) -> bool:
        present, value = self._take(name, default)
        if present and not isinstance(value, bool):
            raise self.error(f"property isn't a boolean, but of type [{java_type(value)}]", name)
        return bool(value)

    def integer(self, name: str, default: Any = _REQUIRED) -> Any:
        """readIntProperty: Integer.parseInt of the value's toString ("7" and 7, not 7.0 nor
        a number beyond the int range)."""
        present, value = self._take(name, default)
        if not present:
            return value
        text = java_str(value)
        if _JAVA_INT.fullmatch(text) and INT_MIN <= int(text) <= INT_MAX:
            return int(text)
        raise self.error(f"property cannot be converted to an int [{text}]", name)

    def list(self, name: str, default: Any = _REQUIRED) -> Any:
        present, value = self._take(name, default)
        if present and not isinstance(value, list):
            raise self.error(f"property isn't a list, but of type [{java_type(value)}]", name)
        return value

    def map(self, name: str, default: Any = _REQUIRED) -> Any:
        present, value = self._take(name, default)
        if present and not isinstance(value, dict):
            raise self.error(f"property isn't a map, but of type [{java_type(value)}]", name)
        return value

    def raw(self, name: str, default: Any = _REQUIRED) -> Any:
        return self._take(name, default)[1]

    def has(self, name: str) -> bool:
        return self.config.get(name) is not None

    def finish(self) -> None:
        if self.config:
            unknown = ", ".join(self.config)
            raise PipelineConfigError(
                f"processor [{self.type}] doesn't support one or more provided configuration parameters [{unknown}]",
                processor_type=self.type,
                processor_tag=self.tag,
            )
