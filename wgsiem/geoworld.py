"""Build the test GeoIP world: a small GeoLite2-City and GeoLite2-ASN database.

Tests, the lab and the test Elasticsearch node never need a real GeoLite2 download:
`fixtures/geoip/world.yaml` lists a few networks and this module writes them as MaxMind
DB files with MaxMind's record layout *and value types*. The types matter because
Elasticsearch's geoip processor uses MaxMind's Java reader, which refuses a record whose
`geoname_id` or `autonomous_system_number` is a uint16 where its model wants a uint32;
mmdb_writer would pick uint16 for any int below 65536, so every int here is wrapped.

    python -m wgsiem.geoworld OUT_DIR [--source FILE]
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml
from mmdb_writer import MmdbF64, MmdbU16, MmdbU32, MMDBWriter
from netaddr import IPSet

from .content import FIXTURES
from .errors import WgsiemError

DEFAULT_SOURCE = FIXTURES / "geoip" / "world.yaml"
CITY_FILE = "GeoLite2-City.mmdb"
ASN_FILE = "GeoLite2-ASN.mmdb"
# mmdb_writer stamps the current time; a fixed stamp keeps builds byte-identical.
BUILD_EPOCH = 1735689600  # 2025-01-01T00:00:00Z
DESCRIPTION = "wgsiem test GeoIP world: made-up data for test networks"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CONTINENTS = frozenset({"AF", "AN", "AS", "EU", "NA", "OC", "SA"})
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_SUBDIVISION = re.compile(r"^[A-Z0-9]{1,3}$")
# key -> (required, sub-keys of a table or None for a scalar)
_ENTRY_KEYS: dict[str, tuple[bool, tuple[str, ...] | None]] = {
    "network": (True, None),
    "continent": (True, ("code", "name")),
    "country": (True, ("iso_code", "name")),
    "region": (False, ("iso_code", "name")),
    "city": (False, None),
    "location": (True, ("lat", "lon", "time_zone", "accuracy_radius")),
    "asn": (True, ("number", "organization")),
}


class WorldError(WgsiemError):
    """world.yaml is unreadable or an entry is wrong; the message names file and entry."""


@dataclass(frozen=True, slots=True)
class Site:
    """One network of the test world, validated."""

    network: IPNetwork
    continent_code: str
    continent_name: str
    country_iso_code: str
    country_name: str
    region_iso_code: str | None  # ISO 3166-2 in full, e.g. "US-NV"
    region_name: str | None
    city_name: str | None
    latitude: float
    longitude: float
    time_zone: str
    accuracy_radius: int  # km
    as_number: int
    as_organization: str


def load_world(source: Path) -> list[Site]:
    """Read and check a world file; a WorldError names the file and the entry."""
    try:
        doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as e:
        raise WorldError(f"{source}: cannot read: {e.strerror or e}") from e
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise WorldError(f"{source}: not valid YAML: {e}") from e
    if not isinstance(doc, dict) or set(doc) != {"networks"}:
        raise WorldError(f"{source}: expected a mapping with one key, 'networks'")
    entries = doc["networks"]
    if not isinstance(entries, list) or not entries:
        raise WorldError(f"{source}: 'networks' must be a non-empty list")
    sites = [_parse_site(raw, source, number) for number, raw in enumerate(entries, 1)]
    _check_overlaps(sites, source)
    return sites


def _check_keys(raw: Any, fail: Callable[[str], NoReturn]) -> None:
    """The entry's shape: a mapping of the known keys, each table with all its sub-keys."""
    if not isinstance(raw, dict):
        fail(f"expected a mapping, got {type(raw).__name__}")
    for key in raw:
        if key not in _ENTRY_KEYS:
            fail(f"unknown key {key!r}")
    for key, (required, subkeys) in _ENTRY_KEYS.items():
        if required and key not in raw:
            fail(f"missing {key!r}")
        if subkeys and key in raw:
            table = raw[key]
            if not isinstance(table, dict):
                fail(f"{key!r} must be a mapping of {', '.join(subkeys)}")
            for sub in table:
                if sub not in subkeys:
                    fail(f"unknown key '{key}.{sub}'")
            for sub in subkeys:
                if sub not in table:
                    fail(f"missing '{key}.{sub}'")


def _parse_site(raw: Any, source: Path, number: int) -> Site:
    label = raw.get("network") if isinstance(raw, dict) else None
    where = f"{source}: network {number}" + (f" ({label})" if isinstance(label, str) else "")

    def fail(message: str) -> NoReturn:
        raise WorldError(f"{where}: {message}")

    _check_keys(raw, fail)

    def text(value: Any, name: str) -> str:
        if not isinstance(value, str) or not value.strip():
            fail(f"{name!r} must be a non-empty string")
        return value.strip()

    def number(value: Any, name: str, low: float, high: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            fail(f"{name!r} must be a number from {low:g} to {high:g}, got {value!r}")
        return float(value)

    def integer(value: Any, name: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            fail(f"{name!r} must be an integer from {low} to {high}, got {value!r}")
        return value

    cidr = text(raw["network"], "network")
    try:
        network = ipaddress.ip_network(cidr)
    except ValueError as e:
        fail(f"'network': {e}")

    continent, country, location, asn = (raw[k] for k in ("continent", "country", "location", "asn"))
    continent_code = text(continent["code"], "continent.code")
    if continent_code not in _CONTINENTS:
        fail(f"'continent.code' must be one of {', '.join(sorted(_CONTINENTS))}")
    country_code = text(country["iso_code"], "country.iso_code")
    if not _COUNTRY.match(country_code):
        fail("'country.iso_code' must be two capital letters (ISO 3166-1 alpha-2)")

    region_code = region_name = None
    if "region" in raw:
        region_code = text(raw["region"]["iso_code"], "region.iso_code")
        prefix, _, subdivision = region_code.partition("-")
        if prefix != country_code or not _SUBDIVISION.match(subdivision):
            fail(f"'region.iso_code' must be ISO 3166-2 within {country_code}, like '{country_code}-XX'")
        region_name = text(raw["region"]["name"], "region.name")

    return Site(
        network=network,
        continent_code=continent_code,
        continent_name=text(continent["name"], "continent.name"),
        country_iso_code=country_code,
        country_name=text(country["name"], "country.name"),
        region_iso_code=region_code,
        region_name=region_name,
        city_name=text(raw["city"], "city") if "city" in raw else None,
        latitude=number(location["lat"], "location.lat", -90, 90),
        longitude=number(location["lon"], "location.lon", -180, 180),
        time_zone=text(location["time_zone"], "location.time_zone"),
        accuracy_radius=integer(location["accuracy_radius"], "location.accuracy_radius", 0, 0xFFFF),
        as_number=integer(asn["number"], "asn.number", 1, 0xFFFFFFFF),
        as_organization=text(asn["organization"], "asn.organization"),
    )


def tree_networks(network: IPNetwork) -> list[ipaddress.IPv6Network]:
    """Where a network sits in an IPv6 search tree.

    Readers look an IPv4 address up under ::/96. MaxMind's writer also aliases
    ::ffff:0:0/96 (IPv4-mapped), 2001::/32 (Teredo) and 2002::/16 (6to4) to that
    subtree; mmdb_writer has no aliases, so the network is inserted there as copies.
    """
    if network.version == 6:
        return [network]
    v4, length = int(network.network_address), network.prefixlen
    return [
        ipaddress.IPv6Network((v4, 96 + length)),
        ipaddress.IPv6Network(((0xFFFF << 32) | v4, 96 + length)),
        ipaddress.IPv6Network(((0x2001_0000 << 96) | (v4 << 64), 32 + length)),
        ipaddress.IPv6Network(((0x2002 << 112) | (v4 << 80), 16 + length)),
    ]


def _check_overlaps(sites: list[Site], source: Path) -> None:
    # Compared where they land in the tree, so an IPv6 entry cannot shadow an IPv4 one
    # through the aliases either.
    placed = [(n, site, tree_networks(site.network)) for n, site in enumerate(sites, 1)]
    for i, (n_a, a, nets_a) in enumerate(placed):
        for n_b, b, nets_b in placed[i + 1 :]:
            if any(x.overlaps(y) for x in nets_a for y in nets_b):
                raise WorldError(
                    f"{source}: network {n_b} ({b.network}) overlaps network {n_a} ({a.network})"
                )


def _geoname_id(*place: str) -> MmdbU32:
    # world.yaml carries no GeoNames ids; a hash of the place gives one place the same
    # id in every record and every build.
    return MmdbU32(zlib.crc32("/".join(place).encode()))


def _city_record(site: Site) -> dict[str, Any]:
    country = {
        "geoname_id": _geoname_id("country", site.country_iso_code),
        "iso_code": site.country_iso_code,
        "names": {"en": site.country_name},
    }
    record: dict[str, Any] = {
        "continent": {
            "code": site.continent_code,
            "geoname_id": _geoname_id("continent", site.continent_code),
            "names": {"en": site.continent_name},
        },
        "country": country,
        "location": {
            "accuracy_radius": MmdbU16(site.accuracy_radius),
            "latitude": MmdbF64(site.latitude),
            "longitude": MmdbF64(site.longitude),
            "time_zone": site.time_zone,
        },
        # No network of the test world is registered abroad.
        "registered_country": country,
    }
    if site.region_iso_code:
        record["subdivisions"] = [
            {
                "geoname_id": _geoname_id("subdivision", site.region_iso_code),
                # MaxMind stores the part after the country; readers such as
                # Elasticsearch put the "US-" back in front.
                "iso_code": site.region_iso_code.partition("-")[2],
                "names": {"en": site.region_name},
            }
        ]
    if site.city_name:
        record["city"] = {
            "geoname_id": _geoname_id("city", site.region_iso_code or site.country_iso_code, site.city_name),
            "names": {"en": site.city_name},
        }
    return record


def _asn_record(site: Site) -> dict[str, Any]:
    return {
        "autonomous_system_number": MmdbU32(site.as_number),
        "autonomous_system_organization": site.as_organization,
    }


class _Writer(MMDBWriter):
    def _build_meta(self) -> dict[str, Any]:
        return {**super()._build_meta(), "build_epoch": BUILD_EPOCH}


def build_world(source: Path, out_dir: Path) -> tuple[Path, Path]:
    """Write out_dir/GeoLite2-City.mmdb and out_dir/GeoLite2-ASN.mmdb from `source`."""
    sites = load_world(source)
    writers = {
        name: _Writer(ip_version=6, database_type=kind, languages=["en"], description=DESCRIPTION)
        for name, kind in ((CITY_FILE, "GeoLite2-City"), (ASN_FILE, "GeoLite2-ASN"))
    }
    for site in sites:
        where = IPSet(str(net) for net in tree_networks(site.network))
        writers[CITY_FILE].insert_network(where, _city_record(site))
        writers[ASN_FILE].insert_network(where, _asn_record(site))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, writer in writers.items():
        writer.to_db_file(str(out_dir / name))
        paths.append(out_dir / name)
    return paths[0], paths[1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wgsiem.geoworld",
        description=f"Build {CITY_FILE} and {ASN_FILE} for tests from the test GeoIP world.",
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", type=Path)
    parser.add_argument(
        "--source", metavar="FILE", type=Path, default=DEFAULT_SOURCE, help=f"default: {DEFAULT_SOURCE}"
    )
    args = parser.parse_args(argv)
    try:
        paths = build_world(args.source, args.out_dir)
    except (WorldError, OSError) as e:
        print(f"geoworld: {e}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
