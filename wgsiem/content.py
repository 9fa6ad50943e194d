"""Where the repository's content lives: the folders of data the code reads.

Mappings, pipelines and rules are data in their own top-level folders (not Python), so
they are found relative to the package; every command that reads them takes a flag to
point elsewhere.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ECS_MAPPINGS = REPO / "ecs_mappings"
INGEST_PIPELINES = REPO / "ingest_pipelines"
DETECTION_RULES = REPO / "detection_rules"
FIXTURES = REPO / "fixtures"
