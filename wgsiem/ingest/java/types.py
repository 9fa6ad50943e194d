"""The Java classes Elasticsearch holds JSON values in, named in its error messages: a
number is an Integer when it fits 32 bits and a Long otherwise, an object a HashMap."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def java_type(value: Any) -> str:
    """The Java class Elasticsearch would hold this JSON value in (for error messages)."""
    if isinstance(value, str):
        return "java.lang.String"
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Integer" if INT_MIN <= value <= INT_MAX else "java.lang.Long"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, dict):
        return "java.util.HashMap"
    if isinstance(value, list):
        return "java.util.ArrayList"
    if isinstance(value, datetime):
        return "java.time.ZonedDateTime"
    return type(value).__name__


def es_exception_name(java_exception: str) -> str:
    """ElasticsearchException.getExceptionName: NullPointerException -> null_pointer_exception."""
    if java_exception == "ElasticsearchParseException":
        return "parse_exception"
    name = java_exception.removeprefix("Elasticsearch")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
