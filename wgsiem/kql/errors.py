"""What can go wrong with a KQL query: it does not parse, or it does not fit the fields."""

from __future__ import annotations

from ..errors import WgsiemError


class KqlSyntaxError(WgsiemError):
    """The query does not parse; the message is the one Kibana's KQLSyntaxError gives.

    `position` is the 0-based offset (in characters) where parsing failed, `expected` the
    sorted descriptions of what the grammar would have taken there, `found` the character
    found (None at the end of the query).
    """

    def __init__(self, message: str, query: str, position: int, expected: list[str], found: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.query = query
        self.position = position
        self.expected = expected
        self.found = found

    def render(self) -> str:
        """The query line holding the error, and a caret under the failing character.

        Kibana prints the whole query and `position` dashes; for a query written over
        several lines that would put the caret in the wrong place, so this shows only the
        line the error is on.
        """
        start = self.query.rfind("\n", 0, self.position) + 1
        end = self.query.find("\n", self.position)
        line = self.query[start : end if end != -1 else len(self.query)]
        return f"{line}\n{'-' * (self.position - start)}^"

    def __str__(self) -> str:
        return self.message


class KqlFieldError(WgsiemError):
    """The query parses but cannot run against the fields it names: an unknown field, a value
    the field's type cannot take, or a query Elasticsearch rejects for that type. The message
    names the field, its type and the value."""

    def __init__(self, message: str, field: str | None = None, es_type: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.es_type = es_type
        self.value = value


class KqlSchemaError(WgsiemError):
    """A schema file (extra field types) that cannot be used; the message names the file."""
