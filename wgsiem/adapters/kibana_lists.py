"""Installing exception lists and value lists through Kibana's lists plugin APIs.

- Exception lists and their items: `POST [/s/<space>]/api/exception_lists/_import?overwrite=`
  with the NDJSON as a multipart `file` (.ndjson). Kibana answers 200 with per-object errors
  (409 for a list_id or item_id that exists and no overwrite).
- Value lists: `POST /api/lists/index` once (409: the lists' data streams exist), `POST
  /api/lists` with {id, name, description, type} (409: a list with that id exists), then the
  values as a multipart `file` (.txt, one value per line) to
  `POST /api/lists/items/_import?list_id=<id>`.

An existing value list is left as it is unless `overwrite`, which imports the file's values
into it: values added, none removed (Kibana's import appends; removing a value is done in
its value list page). The transport is kibana_http's, shared with the rule import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..rules.exceptions import value_list_text
from .kibana import encode_multipart
from .kibana_http import KibanaError, KibanaSettings, request, space_prefix

if TYPE_CHECKING:
    from ..rules.exceptions import ValueList

EXCEPTIONS_IMPORT_PATH = "/api/exception_lists/_import"
LISTS_INDEX_PATH = "/api/lists/index"
LISTS_PATH = "/api/lists"
LIST_ITEMS_IMPORT_PATH = "/api/lists/items/_import"
_XSRF = {"kbn-xsrf": "wgsiem"}


@dataclass(frozen=True)
class RefusedObject:
    """An exception list or item Kibana did not import (its list_id / item_id, status, why)."""

    id: str | None
    status_code: int
    message: str


@dataclass(frozen=True)
class ExceptionImport:
    success: bool
    lists: int
    items: int
    errors: tuple[RefusedObject, ...]


def import_exceptions(settings: KibanaSettings, ndjson: str, *, overwrite: bool) -> ExceptionImport:
    path = f"{space_prefix(settings.space)}{EXCEPTIONS_IMPORT_PATH}?{urlencode({'overwrite': 'true' if overwrite else 'false'})}"
    boundary, body = encode_multipart("file", "wgsiem-exceptions.ndjson", ndjson.encode("utf-8"))
    response = request(settings, "POST", path, headers={**_XSRF, "content-type": f"multipart/form-data; boundary={boundary}"}, body=body)
    answer = response.json()
    try:
        errors = tuple(
            RefusedObject(e.get("item_id") or e.get("list_id") or e.get("id"), int(e["error"]["status_code"]), str(e["error"]["message"]))
            for e in answer["errors"]
        )
        return ExceptionImport(bool(answer["success"]), int(answer["success_count_exception_lists"]), int(answer["success_count_exception_list_items"]), errors)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise KibanaError(f"{response.where}: not an exception import answer: {str(answer)[:200]}") from None


def install_value_list(settings: KibanaSettings, value_list: ValueList, *, overwrite: bool) -> str:
    """Create the value list and import its values; what happened, in a few words:
    `created`, `kept` (it existed, no overwrite) or `values imported into the existing list`."""
    prefix = space_prefix(settings.space)
    json_headers = {**_XSRF, "content-type": "application/json"}
    created = request(
        settings,
        "POST",
        prefix + LISTS_PATH,
        headers=json_headers,
        body=_json({"id": value_list.id, "name": value_list.name, "description": value_list.description, "type": value_list.type}),
    )
    if created.status == 409 and not overwrite:
        return "kept"
    if created.status != 409:
        created.json()  # raises for anything but 2xx
    data = value_list_text(value_list).encode("utf-8")
    boundary, body = encode_multipart("file", f"{value_list.id}.txt", data, content_type="text/plain")
    path = f"{prefix}{LIST_ITEMS_IMPORT_PATH}?{urlencode({'list_id': value_list.id, 'refresh': 'wait_for'})}"
    request(settings, "POST", path, headers={**_XSRF, "content-type": f"multipart/form-data; boundary={boundary}"}, body=body).json()
    return "created" if created.status != 409 else "values imported into the existing list"


def ensure_list_index(settings: KibanaSettings) -> None:
    """The data streams value lists live in; Kibana answers 409 once they exist."""
    response = request(settings, "POST", space_prefix(settings.space) + LISTS_INDEX_PATH, headers=_XSRF)
    if response.status != 409:
        response.json()


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode("utf-8")
