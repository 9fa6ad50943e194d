"""Single options several commands share, declared once so their names and help agree.
(Groups of options that make one settings object are in groups.py.)"""

from __future__ import annotations

from typing import Annotated

import typer

Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")]
