"""Where the content lives: the folders of data the code reads.

Mappings, pipelines, rules and dashboards are data in their own top-level folders (not Python). In a
checkout they sit beside the package; an installed wheel carries them inside it, in
`wgsiem/_content/` with the same relative paths (setup.py copies them there at build
time), so an installed wgsiem never reads a checkout. Every command that reads them
takes a flag to point elsewhere.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE / "_content"
# The wheel's copy when there is one, else the checkout around the package.
ROOT = _BUNDLED if _BUNDLED.is_dir() else _PACKAGE.parent
INSTALLED = ROOT == _BUNDLED

ECS_MAPPINGS = ROOT / "ecs_mappings"
INGEST_PIPELINES = ROOT / "ingest_pipelines"
DETECTION_RULES = ROOT / "detection_rules"
DASHBOARDS = ROOT / "dashboards"
# The integration package's own files (manifests, stream templates, icon); the rest of the
# package is built from the folders above.
INTEGRATION = ROOT / "integration"
LICENSE = ROOT / "LICENSE.txt"
# In a wheel only fixtures/geoip (the test GeoIP world's source) and the lab story's events
# (the integration package's sample events) are there; the other scenarios and the
# captures are test data of the checkout.
FIXTURES = ROOT / "fixtures"
