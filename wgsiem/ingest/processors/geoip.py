"""The geoip processor, on local .mmdb files (`--geoip-dir`), with Elasticsearch's output."""

from __future__ import annotations

from typing import Any

from wgsiem.ingest.document import IngestDocument
from wgsiem.ingest.errors import invalid
from wgsiem.ingest.options import Options
from wgsiem.ingest.pipeline import Processor, Trace


class GeoIp(Processor):
    type = "geoip"

    def __init__(self, opts: Options, builder: Any) -> None:
        from wgsiem.ingest.geoip import GeoIpConfigError

        self.field = opts.string("field")
        self.target = opts.string("target_field", "geoip")
        self.database_file = opts.string("database_file", "GeoLite2-City.mmdb")
        properties = opts.list("properties", None)
        self.ignore_missing = opts.boolean("ignore_missing", False)
        self.first_only = opts.boolean("first_only", True)
        opts.boolean("download_database_on_pipeline_creation", True)
        self.databases = builder.geoip
        try:
            self.properties = self.databases.check_properties(self.database_file, properties)
        except GeoIpConfigError as error:
            name = "properties" if properties and "propert" in str(error) else "database_file"
            raise opts.error(str(error), name) from None

    def _lookup(self, ip: str) -> dict[str, Any] | None:
        try:
            return self.databases.lookup(self.database_file, ip, self.properties)
        except ValueError as error:
            raise invalid(str(error)) from None

    def execute(self, doc: IngestDocument, trace: Trace) -> None:
        value = doc.get(self.field, self.ignore_missing)
        if value is None:
            if self.ignore_missing:
                return
            raise invalid(f"field [{self.field}] is null, cannot extract geoip information.")
        if isinstance(value, str):
            found = self._lookup(value)
            if found:
                doc.set(self.target, found)
            return
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            results = []
            for ip in value:
                found = self._lookup(ip)
                if found:
                    if self.first_only:
                        doc.set(self.target, found)
                        return
                    results.append(found)
            if results:
                doc.set(self.target, results)
            return
        raise invalid(f"field [{self.field}] should contain only string or array of strings")

    def produced_fields(self) -> list[str]:
        return [f"{self.target}.{name}" for name in self.properties]
