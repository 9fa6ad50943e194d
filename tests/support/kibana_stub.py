"""A local stand-in for Kibana's detection-rule import API, for tests where no Kibana runs.

It answers like Kibana 8.x/9.x does (see detection_rules/schemas/README.md for the
sources), in Kibana's order: unknown path 404, authentication 401, payload size 413,
kbn-xsrf 400, API version 400, query 400, then the handler: no `file` field 500 (Kibana
dereferences it unchecked), a name not ending in .ndjson 400, too many rules 500, and
otherwise 200 with per-rule errors: 400 for an invalid rule (checked with
wgsiem.rules.kibana_schema, so the messages are ours, not zod's), 400 for a rule_id twice
in one file without overwrite, 409 for an installed rule_id without overwrite.

Like Kibana, it does not check that the space in /s/<id>/api/... exists: the import goes
into that space. GET /api/spaces/space/<id> answers 404 for spaces not configured.
The lists plugin's routes wgsiem uses are there too: the exception list import (objects
checked against detection_rules/schemas/kibana-lists-api.schema.json, 409 for what exists
without overwrite), /api/lists/index, /api/lists (a value list; 409 when its id exists) and
/api/lists/items/_import; and the rule import keeps a rule's `exceptions_list` reference
only when that list exists (checkRuleExceptionReferences).
Not modelled: exception lists and connectors inside the rule import file (ignored),
actions referencing connectors, prebuilt-rule version rules, Kibana's `unchanged_count`.

    with KibanaStub(api_key="secret-key", spaces=("default", "wg")) as kibana:
        import_rules(KibanaSettings(url=kibana.url, ...), ndjson, overwrite=False)
        kibana.requests[-1].rules, kibana.installed["wg"]
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from tests.support.http_stub import Recorded, StubServer
from wgsiem.rules.kibana_schema import exception_object_problems, lists_api_problems, rule_problems

API_VERSION = "2023-10-31"
IMPORT_PATH = "/api/detection_engine/rules/_import"
EXCEPTIONS_IMPORT_PATH = "/api/exception_lists/_import"
LISTS_INDEX_PATH = "/api/lists/index"
LISTS_PATH = "/api/lists"
LIST_ITEMS_IMPORT_PATH = "/api/lists/items/_import"
_SPACE_PATH = re.compile(r"^/s/([a-z0-9_\-]+)(/.*)$")
_SPACE_API = re.compile(r"^/api/spaces/space/([^/]+)$")
_QUERY_FLAGS = ("overwrite", "overwrite_exceptions", "overwrite_action_connectors", "as_new_list")
# Kibana's defaults: xpack.securitySolution.maxRuleImportPayloadBytes / ...ExportSize.
MAX_BYTES = 10_485_760
MAX_RULES = 10_000
# Current Kibana's wording; 8.x before the detection rules client said
# 'rule_id: "<id>" already exists'. Both carry status_code 409.
CONFLICT_MESSAGE = "Rule with this rule_id already exists"


@dataclass
class RecordedRequest(Recorded):
    space: str | None = None  # None: not an import request
    file_field: str | None = None
    filename: str | None = None
    ndjson: bytes | None = None  # the file part's content, as received
    rules: list[dict[str, Any]] = field(default_factory=list)  # every JSON object line


@dataclass
class _Part:
    headers: Message
    content: bytes

    @property
    def name(self) -> str | None:
        return self.headers.get_param("name", header="content-disposition")

    @property
    def filename(self) -> str | None:
        return self.headers.get_filename()


class _Answer(Exception):  # noqa: N818 - a signal carrying the stand-in's answer
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _boom(status: int, error: str, message: str) -> _Answer:
    """Kibana core's (hapi Boom) error shape."""
    return _Answer(status, {"statusCode": status, "error": error, "message": message})


def _siem(status: int, message: str) -> _Answer:
    """The security solution's own error shape (buildSiemResponse)."""
    return _Answer(status, {"message": message, "status_code": status})


class KibanaStub(StubServer[RecordedRequest]):
    record_type = RecordedRequest
    thread_name = "kibana-stub"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        user: str | None = None,
        password: str | None = None,
        spaces: Iterable[str] = ("default",),
        max_bytes: int = MAX_BYTES,
        max_rules: int = MAX_RULES,
        tls: tuple[Path, Path] | None = None,  # (certificate, key)
    ) -> None:
        super().__init__(api_key=api_key, user=user, password=password, tls=tls)
        self.spaces = set(spaces) | {"default"}
        self.max_bytes, self.max_rules = max_bytes, max_rules
        self.installed: dict[str, dict[str, dict[str, Any]]] = {}
        # The lists plugin, per space: exception lists by list_id (with their items by
        # item_id), value lists by id ({type, values}), and whether the lists' data streams exist.
        self.exception_lists: dict[str, dict[str, dict[str, Any]]] = {}
        self.value_lists: dict[str, dict[str, dict[str, Any]]] = {}
        self.list_index: set[str] = set()

    # --- what Kibana does ----------------------------------------------------------------

    def handle(self, record: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        try:
            status, body = 200, self._route(record)
        except _Answer as answer:
            status, body = answer.status, answer.body
        # The import route answers with its version; the router's own 404 does not.
        versioned = record.space is not None and status != 404
        return status, body, {"elastic-api-version": API_VERSION} if versioned else {}

    def _route(self, record: RecordedRequest) -> Any:
        path, space = record.path, "default"
        if match := _SPACE_PATH.match(path):
            space, path = match.groups()
        if path == IMPORT_PATH and record.method == "POST":
            record.space = space
            self._authenticate(record)
            return self._import(record, space)
        if path in _LISTS_ROUTES and record.method == "POST":
            record.space = space
            self._authenticate(record)
            self._xsrf_and_version(record, path)
            return getattr(self, _LISTS_ROUTES[path])(record, space)
        if (match := _SPACE_API.match(path)) and record.method == "GET":
            self._authenticate(record)
            wanted = match.group(1)
            if wanted not in self.spaces:
                raise _boom(404, "Not Found", f"Saved object [space/{wanted}] not found")
            return {"id": wanted, "name": wanted, "disabledFeatures": []}
        raise _boom(404, "Not Found", "Not Found")

    def _xsrf_and_version(self, record: RecordedRequest, path: str) -> None:
        """Kibana's checks of every versioned write route, in its order."""
        if "kbn-xsrf" not in record.headers and "kbn-version" not in record.headers:
            raise _boom(400, "Bad Request", "Request must contain a kbn-xsrf header.")
        version = record.headers.get("elastic-api-version", API_VERSION)
        if version != API_VERSION:
            raise _boom(400, "Bad Request", f'No version "{version}" available for [post] [{path}]. Available versions are: [{API_VERSION}]')

    # --- the lists plugin (lists/server/routes): exception import, value lists ------------

    def _file(self, record: RecordedRequest, extensions: tuple[str, ...], status: int) -> _Part:
        parts = _multipart(record.headers.get("content-type", ""), record.body)
        part = next((p for p in parts if p.name == "file" and p.filename is not None), None)
        if part is None:
            raise _boom(400, "Bad Request", "[request body.file]: expected value of type [Stream] but got [undefined]")
        record.file_field, record.filename, record.ndjson = part.name, part.filename, part.content
        if Path(part.filename or "").suffix.lower() not in extensions:
            raise _siem(status, f"Unsupported media type: {Path(part.filename or '').suffix}")
        return part

    def _exceptions_import(self, record: RecordedRequest, space: str) -> dict[str, Any]:
        overwrite = record.query.get("overwrite", ["false"])[-1] == "true"
        part = self._file(record, (".ndjson",), 400)
        objects = [o for o in _ndjson_items(part.content) if not (isinstance(o, dict) and "exported_exception_list_count" in o)]
        errors: list[dict[str, Any]] = []
        lists = items = 0
        with self._lock:
            stored = self.exception_lists.setdefault(space, {})
            fresh: set[str] = set()
            for obj in objects:
                problems = ["not a JSON object"] if not isinstance(obj, dict) else exception_object_problems(obj)
                if problems:
                    errors.append({"error": {"status_code": 400, "message": "; ".join(problems)}})
                    continue
                if "entries" in obj or "item_id" in obj:
                    lst = stored.get(obj["list_id"])
                    if lst is None:
                        errors.append({"item_id": obj["item_id"], "list_id": obj["list_id"], "error": {"status_code": 404, "message": f'exception list id: "{obj["list_id"]}" does not exist'}})
                    elif obj["item_id"] in lst["items"] and not overwrite and obj["list_id"] not in fresh:
                        errors.append({"item_id": obj["item_id"], "list_id": obj["list_id"], "error": {"status_code": 409, "message": f'Found that item_id: "{obj["item_id"]}" already exists. Import of item_id: "{obj["item_id"]}" skipped.'}})
                    else:
                        lst["items"][obj["item_id"]] = obj
                        items += 1
                    continue
                if obj["list_id"] in stored and not overwrite:
                    errors.append({"list_id": obj["list_id"], "error": {"status_code": 409, "message": f'Found that list_id: "{obj["list_id"]}" already exists. Import of list_id: "{obj["list_id"]}" skipped.'}})
                    continue
                # overwrite replaces the list with its items (deleteListAndItems, then create).
                stored[obj["list_id"]] = {**obj, "id": str(uuid.uuid4()), "namespace_type": obj.get("namespace_type", "single"), "items": {}}
                fresh.add(obj["list_id"])
                lists += 1
        return {
            "errors": errors,
            "success": not errors,
            "success_count": lists + items,
            "success_exception_lists": not any("item_id" not in e for e in errors),
            "success_count_exception_lists": lists,
            "success_exception_list_items": not any("item_id" in e for e in errors),
            "success_count_exception_list_items": items,
        }

    def _list_index(self, record: RecordedRequest, space: str) -> dict[str, Any]:
        if space in self.list_index:
            raise _siem(409, f"data stream: \".lists-{space}\" and \".items-{space}\" already exists")
        self.list_index.add(space)
        return {"acknowledged": True}

    def _create_list(self, record: RecordedRequest, space: str) -> dict[str, Any]:
        try:
            body = json.loads(record.body)
        except ValueError:
            raise _boom(400, "Bad Request", "Invalid request payload JSON format") from None
        problems = lists_api_problems(body, "CreateListRequestBody")
        if problems:
            raise _boom(400, "Bad Request", f"[request body]: {'; '.join(problems)}")
        if space not in self.list_index:
            raise _siem(400, f'To create a list, the data stream must exist first. Data stream ".lists-{space}" does not exist')
        lists = self.value_lists.setdefault(space, {})
        list_id = body.get("id") or str(uuid.uuid4())
        if list_id in lists:
            raise _siem(409, f'list id: "{list_id}" already exists')
        lists[list_id] = {"type": body["type"], "values": []}
        return {"id": list_id, "name": body["name"], "description": body["description"], "type": body["type"]}

    def _import_list_items(self, record: RecordedRequest, space: str) -> dict[str, Any]:
        list_id = record.query.get("list_id", [None])[-1]
        if list_id is None and "type" not in record.query:
            raise _siem(400, "Either type or list_id need to be defined in the query")
        part = self._file(record, (".txt", ".csv"), 415)
        lists = self.value_lists.get(space, {})
        if list_id not in lists:
            raise _siem(409, f'list id: "{list_id}" does not exist')
        values = lists[list_id]["values"]
        for line in part.content.decode("utf-8").splitlines():
            value = line.strip()
            if value:
                values.append(value)
        return {"id": list_id, "type": lists[list_id]["type"]}

    def _authenticate(self, record: RecordedRequest) -> None:
        if not self.credentials_ok(record.headers):
            raise _boom(401, "Unauthorized", "[security_exception]: unable to authenticate")

    def _import(self, record: RecordedRequest, space: str) -> dict[str, Any]:
        if len(record.body) > self.max_bytes:
            raise _boom(
                413,
                "Request Entity Too Large",
                f"Payload content length greater than maximum allowed: {self.max_bytes}",
            )
        self._xsrf_and_version(record, IMPORT_PATH)
        flags = {}
        for name in _QUERY_FLAGS:
            values = record.query.get(name, ["false"])
            if values[-1] not in ("true", "false"):
                message = f"[request query]: {name}: Invalid enum value. Expected 'true' | 'false'"
                raise _boom(400, "Bad Request", message)
            flags[name] = values[-1] == "true"

        parts = _multipart(record.headers.get("content-type", ""), record.body)
        files = [part for part in parts if part.filename is not None]
        if files:
            record.file_field, record.filename, record.ndjson = files[0].name, files[0].filename, files[0].content
        file_part = next((part for part in files if part.name == "file"), None)
        if file_part is None or file_part.filename is None:
            # The handler reads request.body.file.hapi.filename unchecked; the TypeError
            # ends in its catch-all as a 500.
            raise _siem(500, "Cannot read properties of undefined (reading 'hapi')")
        extension = Path(file_part.filename).suffix.lower()
        if extension != ".ndjson":
            raise _siem(400, f"Invalid file extension {extension}")

        items = _ndjson_items(file_part.content)
        rules = [item for item in items if _is_rule(item)]
        record.rules = [rule for rule in rules if isinstance(rule, dict)]
        if len(rules) >= self.max_rules:
            raise _siem(500, f"Can't import more than {self.max_rules} rules")
        return self._install(space, rules, overwrite=flags["overwrite"])

    def _exception_references(self, space: str, rule: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """checkRuleExceptionReferences: a reference is kept when a list of that list_id,
        namespace and type exists, with that list's id; any other is removed, with an error,
        and the rule is imported all the same."""
        stored = self.exception_lists.get(space, {})
        kept, missing = [], []
        for ref in rule.get("exceptions_list") or []:
            found = stored.get(ref["list_id"])
            if found is not None and found["namespace_type"] == ref["namespace_type"] and found["type"] == ref["type"]:
                kept.append({**ref, "id": found["id"]})
            else:
                missing.append(
                    f'Rule with rule_id: "{rule["rule_id"]}" references a non existent exception list of list_id: "{ref["list_id"]}". '
                    "Reference has been removed."
                )
        return ({**rule, "exceptions_list": kept} if "exceptions_list" in rule else rule), missing

    def _install(self, space: str, rules: list[Any], *, overwrite: bool) -> dict[str, Any]:
        parse_errors: list[dict[str, Any]] = []
        duplicates: list[dict[str, Any]] = []
        unique: dict[str, dict[str, Any]] = {}  # first position kept, last one wins (a JS Map)
        for rule in rules:
            problems = [rule.message] if isinstance(rule, _ParseError) else rule_problems(rule)
            if problems:
                parse_errors.append(_bulk_error(None, 400, _zod_style(problems)))
                continue
            rule_id = rule["rule_id"]
            if rule_id in unique and not overwrite:
                duplicates.append(_bulk_error(rule_id, 400, f'More than one rule with rule-id: "{rule_id}" found'))
            unique[rule_id] = rule

        conflicts: list[dict[str, Any]] = []
        successes = 0
        with self._lock:
            installed = self.installed.setdefault(space, {})
            for rule_id, rule in unique.items():
                if rule_id in installed and not overwrite:
                    conflicts.append(_bulk_error(rule_id, 409, CONFLICT_MESSAGE))
                    continue
                previous = installed.get(rule_id)
                rule, missing = self._exception_references(space, rule)
                conflicts += [_bulk_error(rule_id, 400, m) for m in missing]
                installed[rule_id] = {**rule, "id": previous["id"] if previous else str(uuid.uuid4())}
                successes += 1
        errors = parse_errors + duplicates + conflicts
        return {
            "success": not errors,
            "success_count": successes,
            "rules_count": len(rules),
            "errors": errors,
            "exceptions_errors": [],
            "exceptions_success": True,
            "exceptions_success_count": 0,
            "action_connectors_success": True,
            "action_connectors_success_count": 0,
            "action_connectors_errors": [],
            "action_connectors_warnings": [],
        }


_LISTS_ROUTES = {
    EXCEPTIONS_IMPORT_PATH: "_exceptions_import",
    LISTS_INDEX_PATH: "_list_index",
    LISTS_PATH: "_create_list",
    LIST_ITEMS_IMPORT_PATH: "_import_list_items",
}


@dataclass
class _ParseError:
    message: str


def _bulk_error(rule_id: str | None, status: int, message: str) -> dict[str, Any]:
    # createBulkErrorObject: an error Kibana cannot pin to a rule says "(unknown id)".
    return {
        "rule_id": rule_id if rule_id is not None else "(unknown id)",
        "error": {"status_code": status, "message": message},
    }


def _zod_style(problems: list[str]) -> str:
    """Joined like @kbn/zod-helpers' stringifyZodError: at most five, then 'and N more'."""
    shown = problems[:5]
    if len(problems) > 5:
        shown.append(f"and {len(problems) - 5} more")
    return ", ".join(shown)


def _ndjson_items(content: bytes) -> list[Any]:
    items: list[Any] = []
    for line in content.decode("utf-8", errors="replace").split("\n"):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as error:
            items.append(_ParseError(str(error)))
            continue
        if item is None or (isinstance(item, dict) and "exported_count" in item):
            continue
        items.append(item)
    return items


def _is_rule(item: Any) -> bool:
    if not isinstance(item, dict):
        return True  # an error or a non-object: Kibana files both under rules
    return not any(key in item for key in ("list_id", "item_id", "entries", "attributes"))


def _multipart(content_type: str, body: bytes) -> list[_Part]:
    """Split a multipart/form-data body by hand, so a part's content is byte for byte
    what was sent (the email parser would normalise line ends)."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        return []
    delimiter = b"\r\n--" + boundary.encode()
    chunks = (b"\r\n" + body).split(delimiter)
    parts: list[_Part] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        head, separator, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            continue
        headers = Message()
        for line in head.decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip()] = value.strip()
        parts.append(_Part(headers, content))
    return parts
