"""The gateway-flows capture's events (fixtures/captures/gateway-flows: real conntrack
records around two polls), as `wgsiem convert` writes them: the flow panels' and the
report's flows' data until a recorded scenario carries flows."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from wgsiem.content import FIXTURES

CAPTURE = FIXTURES / "captures" / "gateway-flows"
HOST = "gw1"


@cache
def _converted() -> str:
    from typer.testing import CliRunner

    from wgsiem.cli import app

    result = CliRunner().invoke(app, ["convert", str(CAPTURE), "--peers", str(CAPTURE / "peers.yaml"), "--host-name", HOST])
    assert result.exit_code == 0, result.output
    return result.stdout


def gateway_flow_events() -> list[dict[str, Any]]:
    """The capture's events, fresh copies each call (a test may change them)."""
    return [json.loads(line) for line in _converted().splitlines() if line]
