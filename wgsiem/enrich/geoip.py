"""GeoIP and ASN of peer endpoints, shaped as Elasticsearch's geoip processor shapes them.

`Place.geo` holds the keys the geoip processor writes for a City database with its
default properties (continent_name, country_iso_code, country_name, region_iso_code,
region_name, city_name, location), so an event enriched here and one enriched by an
ingest pipeline look alike. `timezone` is not a default property and is left out.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import maxminddb

from ..errors import WgsiemError

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)

# Addresses no database can place. Not ipaddress's is_private: that also covers the
# documentation ranges (192.0.2.0/24, 2001:db8::/32...), which the test world places.
_LOCAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::/127",  # unspecified and loopback
        "fc00::/7",
        "fe80::/10",
    )
)


class GeoIPError(WgsiemError):
    """A GeoIP database path that cannot be used; the message names the path."""


@dataclass(frozen=True, slots=True)
class Place:
    """Where an address is (ECS geo fields) and whose it is (its AS).

    Read-only, because one Place is shared by every caller through the cache.
    """

    geo: Mapping[str, Any]
    as_number: int | None
    as_organization: str | None

    def geo_dict(self) -> dict[str, Any]:
        """`geo` as plain dicts, for putting into a document."""
        return {k: dict(v) if isinstance(v, Mapping) else v for k, v in self.geo.items()}


def _open(path: Path, kind: str) -> maxminddb.Reader:
    if not path.is_file():
        problem = "not a file" if path.exists() else "no such file"
        raise GeoIPError(f"GeoIP {kind} database {path}: {problem}")
    try:
        reader = maxminddb.open_database(str(path))
    except (maxminddb.InvalidDatabaseError, OSError, ValueError) as e:
        raise GeoIPError(f"GeoIP {kind} database {path}: not a MaxMind DB file ({e})") from e
    found = reader.metadata().database_type
    if not found.endswith(kind):
        reader.close()
        raise GeoIPError(
            f"GeoIP {kind} database {path}: database_type is {found!r}, expected one ending in {kind!r}"
        )
    return reader


def _get(reader: maxminddb.Reader | None, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Any:
    if reader is None or (address.version == 6 and reader.metadata().ip_version == 4):
        return None  # an IPv4-only database cannot hold an IPv6 address; it would raise
    return reader.get(address)


def _name(record: Mapping[str, Any] | None) -> str | None:
    name: str | None = (record or {}).get("names", {}).get("en")
    return name


def _geo(record: Mapping[str, Any]) -> Mapping[str, Any]:
    country = record.get("country") or {}
    subdivisions = record.get("subdivisions") or [{}]
    region = subdivisions[-1]  # the most specific, as Elasticsearch takes it
    location = record.get("location") or {}
    geo: dict[str, Any] = {
        "continent_name": _name(record.get("continent")),
        "country_iso_code": country.get("iso_code"),
        "country_name": _name(country),
        "region_iso_code": (
            f"{country['iso_code']}-{region['iso_code']}"
            if country.get("iso_code") and region.get("iso_code")
            else None
        ),
        "region_name": _name(region),
        "city_name": _name(record.get("city")),
    }
    if location.get("latitude") is not None and location.get("longitude") is not None:
        geo["location"] = MappingProxyType({"lat": location["latitude"], "lon": location["longitude"]})
    return MappingProxyType({k: v for k, v in geo.items() if v is not None})


class GeoIP:
    """City and ASN lookups with an LRU cache; either database may be left out."""

    def __init__(self, city: Path | None = None, asn: Path | None = None, cache_size: int = 65536) -> None:
        self._city = _open(Path(city), "City") if city is not None else None
        try:
            self._asn = _open(Path(asn), "ASN") if asn is not None else None
        except GeoIPError:
            if self._city is not None:
                self._city.close()
            raise
        # Per instance, so the cache dies with the readers it was filled from.
        self._cached = lru_cache(maxsize=cache_size)(self._resolve)

    @property
    def enabled(self) -> bool:
        return self._city is not None or self._asn is not None

    def lookup(self, ip: str) -> Place | None:
        """Where `ip` (IPv4 or IPv6 text, no zone) is; None if unknown or not public.

        Raises ValueError if `ip` is not an address.
        """
        return self._cached(ip)

    def cache_info(self) -> Any:
        """hits, misses, maxsize and currsize, as functools.lru_cache counts them."""
        return self._cached.cache_info()

    def close(self) -> None:
        """Close the databases; afterwards the instance is disabled and finds nothing."""
        for reader in (self._city, self._asn):
            if reader is not None:
                reader.close()
        self._city = self._asn = None
        self._cached.cache_clear()

    def __enter__(self) -> GeoIP:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _resolve(self, ip: str) -> Place | None:
        address = ipaddress.ip_address(ip)
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not self.enabled or any(address in net for net in _LOCAL):
            return None
        city = _get(self._city, address)
        asn = _get(self._asn, address)
        if not city and not asn:
            return None
        asn = asn or {}
        return Place(
            geo=_geo(city) if city else MappingProxyType({}),
            as_number=asn.get("autonomous_system_number"),
            as_organization=asn.get("autonomous_system_organization"),
        )


def distance_km(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> float | None:
    """Great-circle distance between two {"lat", "lon"} locations; None if either is missing."""
    if not a or not b or any(p.get(k) is None for p in (a, b) for k in ("lat", "lon")):
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (a["lat"], a["lon"], b["lat"], b["lon"]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
