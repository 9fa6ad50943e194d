"""The geoip processor, on local .mmdb files (`--geoip-dir`), with Elasticsearch's output."""

from __future__ import annotations

from typing import Any

from wgsiem.ingest.document import IngestDocument
from wgsiem.ingest.errors import invalid
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace

_RESULTS_MAX = 65536


def _copy(result: dict[str, Any]) -> dict[str, Any]:
    # Results are flat but for `location`; later processors may change what we hand out.
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in result.items()}


class GeoIp(Processor):
    type = "geoip"

    def __init__(self, opts: Options, builder: Any) -> None:
        from wgsiem.ingest.geoip_databases import GeoIpConfigError, unavailable_tag

        self.field = opts.string("field")
        self.target = opts.string("target_field", "geoip")
        self.database_file = opts.string("database_file", "GeoLite2-City.mmdb")
        properties = opts.list("properties", None)
        self.ignore_missing = opts.boolean("ignore_missing", False)
        self.first_only = opts.boolean("first_only", True)
        opts.boolean("download_database_on_pipeline_creation", True)
        self.databases = builder.geoip
        # Without the database Elasticsearch still builds the processor; it then only tags
        # each document, so the gap shows in the data rather than failing ingestion.
        self.unavailable = None if self.databases.has_database(self.database_file) else unavailable_tag(self.database_file)
        self.properties: list[str] = []
        if self.unavailable is None:
            try:
                self.properties = self.databases.check_properties(self.database_file, properties)
            except GeoIpConfigError as error:
                raise opts.error(str(error), "properties" if properties else "database_file") from None
        # Endpoints repeat: one lookup and one output build per address.
        self._results: dict[str, dict[str, Any] | None] = {}

    def _lookup(self, ip: str) -> dict[str, Any] | None:
        cached = self._results.get(ip, False)
        if cached is False:
            try:
                cached = self.databases.lookup(self.database_file, ip, self.properties)
            except ValueError as error:
                raise invalid(str(error)) from None
            if len(self._results) >= _RESULTS_MAX:
                self._results.clear()
            self._results[ip] = cached
        return None if cached is None else _copy(cached)

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        if self.unavailable is not None:
            doc.append("tags", self.unavailable, allow_duplicates=False)
            return
        value = doc.subject(self.field, "cannot extract geoip information.", ignore_missing=self.ignore_missing)
        if value is None:
            return
        if isinstance(value, str):
            found = self._lookup(value)
            if found:
                doc.set(self.target, found)
            return
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            results = []
            for ip in value:
                found = self._lookup(ip)
                if found and self.first_only:
                    doc.set(self.target, found)
                    return
                results.append(found or None)  # ES keeps a null for each address not found
            if any(r is not None for r in results) and not self.first_only:
                doc.set(self.target, results)
            return
        raise invalid(f"field [{self.field}] should contain only string or array of strings")

    def produced_fields(self) -> list[str]:
        return [f"{self.target}.{name}" for name in self.properties]
