"""Talking to Kibana: installing detection rules through its rule import API.

`POST [/s/<space>]/api/detection_engine/rules/_import?overwrite=...` with the NDJSON as a
multipart file field named `file` (a name ending in .ndjson), the `kbn-xsrf` header and
API version 2023-10-31. Kibana answers 200 even when rules fail; each failure is an entry
in `errors` (409 for a rule_id that exists and no overwrite, 400 for an invalid rule).

Where Kibana is, the credentials (from a file or the environment, never the command line),
TLS and the request itself are `kibana_http.py`'s, shared with Fleet's package upload
(`fleet.py`); `KibanaSettings` and `KibanaError` are re-exported here, where callers
first found them.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

# The shared transport; the names callers know from this module are re-exported with it.
from .kibana_http import API_KEY_ENV as API_KEY_ENV
from .kibana_http import API_VERSION as API_VERSION
from .kibana_http import DEFAULT_SPACE as DEFAULT_SPACE
from .kibana_http import PASSWORD_ENV as PASSWORD_ENV
from .kibana_http import KibanaError as KibanaError
from .kibana_http import KibanaSettings as KibanaSettings
from .kibana_http import check_space as check_space
from .kibana_http import request, space_prefix

IMPORT_PATH = "/api/detection_engine/rules/_import"
_FILENAME = re.compile(r"[A-Za-z0-9._\- ]+\.ndjson", re.IGNORECASE)


@dataclass(frozen=True)
class RefusedRule:
    """One entry of the answer's `errors`: 409 when the rule_id exists and overwrite is
    off, 400 for a rule Kibana refused. rule_id is None where Kibana could not tell."""

    rule_id: str | None
    status_code: int
    message: str


@dataclass(frozen=True)
class ImportResult:
    success: bool
    success_count: int
    rules_count: int
    errors: tuple[RefusedRule, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def conflicts(self) -> tuple[str, ...]:
        """rule_ids that were already installed and kept (overwrite was off)."""
        return tuple(e.rule_id for e in self.errors if e.status_code == 409 and e.rule_id)


def encode_multipart(field_name: str, filename: str, data: bytes, content_type: str = "application/x-ndjson") -> tuple[str, bytes]:
    """A multipart/form-data body with one file part holding `data` unchanged."""
    boundary = f"wgsiem-{secrets.token_hex(16)}"
    while boundary.encode() in data:
        boundary = f"wgsiem-{secrets.token_hex(16)}"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n"
        "\r\n"
    ).encode()
    return boundary, head + data + f"\r\n--{boundary}--\r\n".encode()


def import_rules(
    settings: KibanaSettings,
    ndjson: bytes | str,
    *,
    overwrite: bool,
    filename: str = "wgsiem-rules.ndjson",
    verify_space: bool = True,
) -> ImportResult:
    """Import the rules in `ndjson` into the settings' space. Without `overwrite` a rule
    whose rule_id is installed stays as it is and comes back as a 409 in `errors`."""
    if not _FILENAME.fullmatch(filename):
        # Kibana refuses any other extension (400 "Invalid file extension").
        raise KibanaError(f"import file name {filename!r}: letters, digits, '._- ' and ending in .ndjson")
    data = ndjson.encode("utf-8") if isinstance(ndjson, str) else bytes(ndjson)
    path = f"{space_prefix(settings.space)}{IMPORT_PATH}?{urlencode({'overwrite': 'true' if overwrite else 'false'})}"
    if verify_space:
        check_space(settings)
    boundary, body = encode_multipart("file", filename, data)
    headers = {"kbn-xsrf": "wgsiem", "content-type": f"multipart/form-data; boundary={boundary}"}
    response = request(settings, "POST", path, headers=headers, body=body)
    return _import_result(response.json(), response.where)


def _rule_id(value: Any) -> str | None:
    # Errors Kibana cannot pin to a rule (an unparsable line, a rule failing its schema)
    # carry no rule_id, or "(unknown id)" in the versions that fill one in.
    return value if isinstance(value, str) and value != "(unknown id)" else None


def _import_result(body: Any, where: str) -> ImportResult:
    try:
        errors = tuple(
            RefusedRule(
                rule_id=_rule_id(item.get("rule_id")),
                status_code=int(item["error"]["status_code"]),
                message=str(item["error"]["message"]),
            )
            for item in body["errors"]
        )
        result = ImportResult(
            success=bool(body["success"]),
            success_count=int(body["success_count"]),
            rules_count=int(body["rules_count"]),
            errors=errors,
            raw=body,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise KibanaError(f"{where}: not an import answer: {json.dumps(body)[:200]}") from None
    return result
