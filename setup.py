"""The build's one addition to pyproject.toml: the content travels inside the wheel.

`ecs_mappings/`, `ingest_pipelines/`, `detection_rules/`, `dashboards/`, `integration/` (the integration
package's own files), the test GeoIP world's source (`fixtures/geoip/`), the lab story's
recorded events (the integration package's sample events) and LICENSE.txt stay where they
are in the repository; building the wheel copies them into the package as `wgsiem/_content/`, where `wgsiem.content` finds them when
there is no checkout around the package. The sdist carries them as they are (MANIFEST.in).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

# Folders and files of the repository the wheel carries, relative to the repository and to
# wgsiem/_content/ alike (wgsiem.content reads the same relative paths in both places).
CONTENT = (
    "ecs_mappings",
    "ingest_pipelines",
    "detection_rules",
    "dashboards",
    "integration",
    "fixtures/geoip",
    "fixtures/scenarios/lab-story/events.ndjson",
    "LICENSE.txt",
)


class BuildWithContent(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout itself
            return
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "wgsiem" / "_content"
        shutil.rmtree(target, ignore_errors=True)  # a file deleted since the last build must not linger
        for name in CONTENT:
            source, copy = root / name, target / name
            if source.is_dir():
                shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, copy)


setup(cmdclass={"build_py": BuildWithContent})
