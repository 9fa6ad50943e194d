"""A test tier whose server, tool or privilege is missing: skipped on a developer's
machine, a failure under CI=true, where every tier must run."""

from __future__ import annotations

import os

import pytest


def require(reason: str | None) -> None:
    """Nothing when `reason` is None; else skip, or fail under CI=true, saying why."""
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true runs every tier, but {reason}", pytrace=False)
    pytest.skip(reason)
