"""The geoip processor's lookup, with Elasticsearch 9's properties and output.

`GeoIpDatabases(directories)` finds `<name>.mmdb` files by file name (the processor's
`database_file`), opens each lazily with maxminddb and caches lookups per (file, address)
in a bounded LRU (ES's `ingest.geoip.cache_size` defaults to 1000 entries too).

What it pins (modules/ingest-geoip: Database.java, MaxmindIpDataLookups.java,
IpDataLookupFactories.java, GeoIpProcessor.java; the docs page
docs/reference/enrich-processor/geoip-processor.md; the REST tests in
src/yamlRestTest/.../ingest_geoip/20_geoip_processor.yml):

* The database's kind comes from the `database_type` in its metadata, by suffix, case
  sensitive: -City, -Country, -ASN, -Anonymous-IP, -Connection-Type, -Domain,
  -Enterprise, -ISP. So GeoLite2-City and GeoIP2-City are both "City"; any other type
  (and every ipinfo type, which the geoip processor refuses) is "Unsupported database
  type [T] for file [F]".
* Each kind has its valid properties and default properties (Database.java); a property
  name is matched case-insensitively and a bad one is refused with
  "illegal property value [x]. valid values are [IP, ...]" (the valid ones, upper case,
  in the enum's order).
* Output keys are the property names. A key is left out when the record lacks the value;
  `location` is {"lat", "lon"} and only set when both are there; `region_iso_code` is
  "<country iso>-<subdivision iso>" of the most specific subdivision, only when both are
  there; `country_in_european_union` only when the country has an iso code; `ip` is the
  address as ES prints it; `network` is the record's network in CIDR, IPv6 written the
  way Java's InetAddress writes it (2001:db8:0:0:0:0:0:0/32).
* An address with no record (private, reserved, or just not in the file) gives None,
  and so does a record that yields no requested value: ES then sets nothing.
* A string that is not an address raises ValueError "'x' is not an IP string literal.".
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import maxminddb

from wgsiem.ingest.formats.convert import IPAddress, parse_ip

from ..errors import WgsiemError

DEFAULT_CACHE_SIZE = 1000  # ingest.geoip.cache_size

# Database.Property, in the enum's order (ES sorts by it in its error message).
PROPERTIES: tuple[str, ...] = (
    "ip",
    "country_confidence",
    "country_in_european_union",
    "country_iso_code",
    "country_name",
    "continent_code",
    "continent_name",
    "region_iso_code",
    "region_name",
    "city_confidence",
    "city_name",
    "timezone",
    "location",
    "asn",
    "organization_name",
    "network",
    "hosting_provider",
    "tor_exit_node",
    "anonymous_vpn",
    "anonymous",
    "public_proxy",
    "residential_proxy",
    "domain",
    "isp",
    "isp_organization_name",
    "mobile_country_code",
    "mobile_network_code",
    "connection_type",
    "user_type",
    "type",
    "postal_code",
    "postal_confidence",
    "accuracy_radius",
    "hosting",
    "tor",
    "proxy",
    "relay",
    "vpn",
    "service",
    "registered_country_in_european_union",
    "registered_country_iso_code",
    "registered_country_name",
)

_CITY = {
    "ip", "country_in_european_union", "country_iso_code", "continent_code", "country_name", "continent_name",
    "region_iso_code", "region_name", "city_name", "timezone", "location", "postal_code", "accuracy_radius",
    "registered_country_in_european_union", "registered_country_iso_code", "registered_country_name",
}  # fmt: skip
_CITY_DEFAULT = {
    "country_iso_code", "country_name", "continent_name", "region_iso_code", "region_name", "city_name", "location",
}  # fmt: skip
_COUNTRY = {
    "ip", "continent_code", "continent_name", "country_name", "country_in_european_union", "country_iso_code",
    "registered_country_in_european_union", "registered_country_iso_code", "registered_country_name",
}  # fmt: skip
_ANONYMOUS = {"hosting_provider", "tor_exit_node", "anonymous_vpn", "anonymous", "public_proxy", "residential_proxy"}
_ISP = {"ip", "asn", "organization_name", "network", "isp", "isp_organization_name", "mobile_country_code",
        "mobile_network_code"}  # fmt: skip
_ENTERPRISE = (
    _CITY
    | _ANONYMOUS
    | _ISP
    | {"country_confidence", "city_confidence", "postal_confidence", "domain", "user_type", "connection_type"}
)

# kind -> (valid properties, default properties)
DATABASES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "City": (frozenset(_CITY), frozenset(_CITY_DEFAULT)),
    "Country": (frozenset(_COUNTRY), frozenset({"continent_name", "country_name", "country_iso_code"})),
    "Asn": (frozenset({"ip", "asn", "organization_name", "network"}),) * 2,
    "AnonymousIp": (frozenset(_ANONYMOUS | {"ip"}), frozenset(_ANONYMOUS)),
    "ConnectionType": (frozenset({"ip", "connection_type"}), frozenset({"connection_type"})),
    "Domain": (frozenset({"ip", "domain"}), frozenset({"domain"})),
    "Enterprise": (frozenset(_ENTERPRISE), frozenset(_CITY_DEFAULT)),
    "Isp": (frozenset(_ISP), frozenset(_ISP)),
}

# MaxmindIpDataLookups.getMaxmindDatabase: the first suffix that matches, case sensitive.
_SUFFIXES = (
    ("-City", "City"),
    ("-Country", "Country"),
    ("-ASN", "Asn"),
    ("-Anonymous-IP", "AnonymousIp"),
    ("-Connection-Type", "ConnectionType"),
    ("-Domain", "Domain"),
    ("-Enterprise", "Enterprise"),
    ("-ISP", "Isp"),
)


class GeoIpConfigError(WgsiemError):
    """A database file or properties the geoip processor would refuse (configuration time)."""


def database_kind(database_type: str, database_file: str) -> str:
    """Elasticsearch's Database for a metadata database_type ("GeoIP2-City" -> "City")."""
    if database_type.lower().startswith("ipinfo"):
        # ipinfo databases belong to the ip_location processor; geoip refuses them.
        raise GeoIpConfigError(f"Unsupported database type [{database_type}] for file [{database_file}]")
    for suffix, kind in _SUFFIXES:
        if database_type.endswith(suffix):
            return kind
    raise GeoIpConfigError(f"Unsupported database type [{database_type}] for file [{database_file}]")


def unavailable_tag(database_file: str, processor_type: str = "geoip") -> str:
    """The tag ES appends to `tags` when `database_file` is not available at all."""
    return f"_{processor_type}_database_unavailable_{database_file}"


def ip_text(address: IPAddress) -> str:
    """NetworkAddress.format: dotted IPv4, RFC 5952 IPv6 (longest zero run of 2+ as ::)."""
    if address.version == 4:
        return str(address)
    hextets = [int(address) >> (112 - 16 * i) & 0xFFFF for i in range(8)]
    best_start, best_len, start = -1, 0, -1
    for i in range(9):
        if i < 8 and hextets[i] == 0:
            start = i if start < 0 else start
        elif start >= 0:
            if i - start > best_len:
                best_start, best_len = start, i - start
            start = -1
    if best_len < 2:
        return ":".join(f"{h:x}" for h in hextets)
    head = ":".join(f"{h:x}" for h in hextets[:best_start])
    tail = ":".join(f"{h:x}" for h in hextets[best_start + best_len :])
    return f"{head}::{tail}"


def network_text(address: IPAddress, prefix_len: int) -> str:
    """MaxMind's Network.toString(): the masked address as Java prints it, "/", the prefix."""
    network = ipaddress.ip_network(f"{address}/{prefix_len}", strict=False)
    base = network.network_address
    if base.version == 4:
        return f"{base}/{prefix_len}"
    # Inet6Address.getHostAddress(): eight hextets, no zero compression.
    hextets = [int(base) >> (112 - 16 * i) & 0xFFFF for i in range(8)]
    return ":".join(f"{h:x}" for h in hextets) + f"/{prefix_len}"


def _name(record: dict[str, Any]) -> Any:
    return (record.get("names") or {}).get("en")


def _geo_data(
    record: dict[str, Any], properties: Iterable[str], ip: str, network: str
) -> dict[str, Any]:
    """The City / Country / Enterprise transform (MaxmindIpDataLookups)."""
    country = record.get("country") or {}
    registered = record.get("registered_country") or {}
    continent = record.get("continent") or {}
    city = record.get("city") or {}
    location = record.get("location") or {}
    postal = record.get("postal") or {}
    subdivisions = record.get("subdivisions") or []
    subdivision = subdivisions[-1] if subdivisions else {}  # the most specific one
    traits = record.get("traits") or {}
    values: dict[str, Any] = {
        "ip": ip,
        "country_confidence": country.get("confidence"),
        "country_in_european_union": (
            bool(country.get("is_in_european_union", False)) if country.get("iso_code") is not None else None
        ),
        "country_iso_code": country.get("iso_code"),
        "country_name": _name(country),
        "continent_code": continent.get("code"),
        "continent_name": _name(continent),
        "region_iso_code": (
            f"{country['iso_code']}-{subdivision['iso_code']}"
            if country.get("iso_code") is not None and subdivision.get("iso_code") is not None
            else None
        ),
        "region_name": _name(subdivision),
        "city_confidence": city.get("confidence"),
        "city_name": _name(city),
        "timezone": location.get("time_zone"),
        "location": (
            {"lat": location["latitude"], "lon": location["longitude"]}
            if location.get("latitude") is not None and location.get("longitude") is not None
            else None
        ),
        "accuracy_radius": location.get("accuracy_radius"),
        "postal_code": postal.get("code"),
        "postal_confidence": postal.get("confidence"),
        "asn": traits.get("autonomous_system_number"),
        "organization_name": traits.get("autonomous_system_organization"),
        "network": network,
        "hosting_provider": bool(traits.get("is_hosting_provider", False)),
        "tor_exit_node": bool(traits.get("is_tor_exit_node", False)),
        "anonymous_vpn": bool(traits.get("is_anonymous_vpn", False)),
        "anonymous": bool(traits.get("is_anonymous", False)),
        "public_proxy": bool(traits.get("is_public_proxy", False)),
        "residential_proxy": bool(traits.get("is_residential_proxy", False)),
        "domain": traits.get("domain"),
        "isp": traits.get("isp"),
        "isp_organization_name": traits.get("organization"),
        "mobile_country_code": traits.get("mobile_country_code"),
        "mobile_network_code": traits.get("mobile_network_code"),
        "user_type": traits.get("user_type"),
        "connection_type": traits.get("connection_type"),
        "registered_country_in_european_union": (
            bool(registered.get("is_in_european_union", False)) if registered.get("iso_code") is not None else None
        ),
        "registered_country_iso_code": registered.get("iso_code"),
        "registered_country_name": _name(registered),
    }
    return {name: values[name] for name in properties if values.get(name) is not None}


def _flat_data(record: dict[str, Any], properties: Iterable[str], ip: str, network: str) -> dict[str, Any]:
    """The ASN, ISP, Anonymous-IP, Connection-Type and Domain transforms (flat records)."""
    values: dict[str, Any] = {
        "ip": ip,
        "asn": record.get("autonomous_system_number"),
        "organization_name": record.get("autonomous_system_organization"),
        "network": network,
        "isp": record.get("isp"),
        "isp_organization_name": record.get("organization"),
        "mobile_country_code": record.get("mobile_country_code"),
        "mobile_network_code": record.get("mobile_network_code"),
        "hosting_provider": bool(record.get("is_hosting_provider", False)),
        "tor_exit_node": bool(record.get("is_tor_exit_node", False)),
        "anonymous_vpn": bool(record.get("is_anonymous_vpn", False)),
        "anonymous": bool(record.get("is_anonymous", False)),
        "public_proxy": bool(record.get("is_public_proxy", False)),
        "residential_proxy": bool(record.get("is_residential_proxy", False)),
        "connection_type": record.get("connection_type"),
        "domain": record.get("domain"),
    }
    return {name: values[name] for name in properties if values.get(name) is not None}


class GeoIpDatabases:
    """The .mmdb files of some directories, by file name; the first directory wins."""

    def __init__(self, directories: Sequence[Path], cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        if cache_size <= 0:
            raise ValueError("cache_size must be positive")
        self.directories = [Path(d) for d in directories]
        self._files: dict[str, Path] = {}
        self._readers: dict[str, Any] = {}
        self._kinds: dict[str, str] = {}
        self._cache: OrderedDict[tuple[str, IPAddress], tuple[Any, int] | None] = OrderedDict()
        self.cache_size = cache_size
        self._scan()

    # --- files and readers ---

    def _scan(self) -> None:
        for directory in self.directories:
            if directory.is_dir():
                for path in sorted(directory.glob("*.mmdb")):
                    self._files.setdefault(path.name, path)

    def files(self) -> list[str]:
        """The database file names found, sorted."""
        self._scan()
        return sorted(self._files)

    def has_database(self, database_file: str) -> bool:
        if database_file not in self._files:
            self._scan()
        return database_file in self._files

    def _reader(self, database_file: str) -> Any:
        reader = self._readers.get(database_file)
        if reader is not None:
            return reader
        if not self.has_database(database_file):
            where = ", ".join(str(d) for d in self.directories) or "no directory"
            raise GeoIpConfigError(f"database file [{database_file}] not found (looked in {where})")
        path = self._files[database_file]
        try:
            reader = maxminddb.open_database(str(path))
        except (maxminddb.InvalidDatabaseError, OSError, ValueError) as error:
            raise GeoIpConfigError(f"database file [{database_file}] is not a MaxMind DB file: {error}") from error
        self._readers[database_file] = reader
        return reader

    def database_type(self, database_file: str) -> str:
        """The metadata's database_type, e.g. "GeoLite2-City"."""
        return str(self._reader(database_file).metadata().database_type)

    def _kind(self, database_file: str) -> str:
        kind = self._kinds.get(database_file)
        if kind is None:
            kind = self._kinds[database_file] = database_kind(self.database_type(database_file), database_file)
        return kind

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()
        self._kinds.clear()
        self._cache.clear()

    def __enter__(self) -> GeoIpDatabases:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- properties ---

    def check_properties(self, database_file: str, properties: list[str] | None) -> list[str]:
        """The properties to extract, validated for the file's kind; None gives the defaults.

        Names are matched case-insensitively and returned lower case, without duplicates,
        in the order given (the defaults in the enum's order).
        """
        valid, default = DATABASES[self._kind(database_file)]
        if properties is None:
            return [name for name in PROPERTIES if name in default]
        chosen: list[str] = []
        for raw in properties:
            name = str(raw).lower()
            if name not in valid:
                allowed = ", ".join(p.upper() for p in PROPERTIES if p in valid)
                raise GeoIpConfigError(f"illegal property value [{raw}]. valid values are [{allowed}]")
            if name not in chosen:
                chosen.append(name)
        return chosen

    # --- lookups ---

    def _record(self, database_file: str, address: IPAddress) -> tuple[Any, int] | None:
        key = (database_file, address)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        record, prefix_len = self._reader(database_file).get_with_prefix_len(address)
        found = None if record is None else (record, prefix_len)
        self._cache[key] = found
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return found

    @property
    def cached(self) -> int:
        """How many (file, address) lookups the LRU holds."""
        return len(self._cache)

    def lookup(self, database_file: str, ip: str, properties: list[str]) -> dict[str, Any] | None:
        """The object ES puts in target_field for `ip`, or None when ES would set nothing.

        `properties` should come from check_properties. Raises ValueError for a string that
        is not an IP address (and, as MaxMind's reader does, for an IPv6 address looked up
        in an IPv4-only database).
        """
        address = parse_ip(ip)  # ::ffff:a.b.c.d becomes a.b.c.d, as in Java
        kind = self._kind(database_file)
        found = self._record(database_file, address)
        if found is None:
            return None
        record, prefix_len = found
        if not isinstance(record, dict):
            return None
        network = network_text(address, prefix_len)
        transform = _geo_data if kind in ("City", "Country", "Enterprise") else _flat_data
        data = transform(record, properties, ip_text(address), network)
        return data or None
