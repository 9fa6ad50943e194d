"""The detection engine's requests (detection/searches.py), sent to a real cluster.

`detection.cluster` runs rules through an injected `send(Request) -> dict`; this binds it
to an elasticsearch client, so the engine itself never touches the network (tests bind it
to a fake instead).
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from ..detection.cluster import Send
from ..detection.engine import ExecutionError
from ..detection.searches import Request
from .elasticsearch import EsError, request, search

_ENDPOINTS = {"search": "_search", "count": "_count", "open_point_in_time": "_pit"}


def es_send(client: Elasticsearch) -> Send:
    """`send` for a client from `adapters.elasticsearch.connect`: a refused or failed call is
    the engine's ExecutionError (its rule stops there, the others go on)."""

    def send(call: Request) -> dict[str, Any]:
        try:
            if call.api == "close_point_in_time":
                return request(client, "DELETE", "/_pit", call.body)
            return search(client, call.index, call.body, call.params, endpoint=_ENDPOINTS[call.api])
        except EsError as err:
            raise ExecutionError(str(err)) from None

    return send
