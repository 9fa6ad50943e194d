"""What the `es` tests share: a namespace of their own, documents bulk-created into their
data streams, and the templates installed as a user installs them."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from typing import Any

from wgsiem.mappings.datastreams import data_stream_index


def unique_namespace() -> str:
    """Data streams cannot be deleted on the test node: each test writes its own namespace."""
    return "t" + secrets.token_hex(6)


def in_namespace(docs: Iterable[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """Copies of the documents, moved to the data streams of `namespace`."""
    moved = []
    for doc in docs:
        doc = json.loads(json.dumps(doc))
        doc.setdefault("data_stream", {})["namespace"] = namespace
        moved.append(doc)
    return moved


def bulk_create(client, docs: Iterable[dict[str, Any]], refresh: str = "wait_for") -> list[dict[str, Any]]:  # noqa: ANN001
    """Bulk `create` with `_id` = event.id into each document's data stream, searchable
    when it returns (refresh=wait_for, or `true`: refreshed at once, for one large request
    whose waiting for the next refresh would cost a second per new data stream); the
    result of each item, in order."""
    lines = []
    for doc in docs:
        lines.append(json.dumps({"create": {"_index": data_stream_index(doc), "_id": doc["event"]["id"]}}))
        lines.append(json.dumps(doc))
    headers = {"content-type": "application/x-ndjson", "accept": "application/json"}
    reply = client.perform_request("POST", f"/_bulk?refresh={refresh}", headers=headers, body="\n".join(lines) + "\n").body
    return [next(iter(item.values())) for item in reply["items"]]


def install_templates(url: str) -> None:
    from typer.testing import CliRunner

    from wgsiem.cli import app

    result = CliRunner().invoke(app, ["templates", "install", "--es", url])
    assert result.exit_code == 0, result.output
