"""The state file: loaded at start, replaced atomically after every poll."""

from __future__ import annotations

import json
from pathlib import Path

from ..status.state import State, StateError
from .files import write_atomic


def load_state(path: Path) -> State:
    """The saved state, or a new one (the next poll is the baseline) if there is none."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return State()
    except OSError as err:
        raise StateError(f"{path}: cannot read: {err.strerror}") from None
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise StateError(
            f"{path}: not valid JSON ({err}); move it aside to start again from a new baseline"
        ) from None
    return State.from_json(data, str(path))


def save_state(path: Path, state: State) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, state.encode_chunks())
