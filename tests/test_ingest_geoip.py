"""The geoip processor's lookup against Elasticsearch 9's behaviour.

The databases are the project's test world (fixtures/geoip/world.yaml, built by
wgsiem.geoworld as GeoLite2-City.mmdb and GeoLite2-ASN.mmdb) plus a few small files
written here for the other database types.

Sources named in the comments:
  REST   = modules/ingest-geoip/src/yamlRestTest/.../ingest_geoip/20_geoip_processor.yml;
  DOC    = docs/reference/enrich-processor/geoip-processor.md (ES 9);
  DB     = modules/ingest-geoip/src/main/.../Database.java (properties, defaults, message);
  LOOKUP = modules/ingest-geoip/src/main/.../MaxmindIpDataLookups.java (keys and values);
  LT     = modules/ingest-geoip/src/test/.../MaxmindIpDataLookupsTests.java;
  GPT    = modules/ingest-geoip/src/test/.../GeoIpProcessorTests.java;
  FACT   = modules/ingest-geoip/src/main/.../IpDataLookupFactories.java, GeoIpProcessor.java.
"""

from __future__ import annotations

import pytest
from mmdb_writer import MmdbU32, MMDBWriter
from netaddr import IPSet

from wgsiem.ingest.geoip_databases import (
    DATABASES,
    PROPERTIES,
    GeoIpConfigError,
    GeoIpDatabases,
    database_kind,
    unavailable_tag,
)

CITY = "GeoLite2-City.mmdb"
ASN = "GeoLite2-ASN.mmdb"
CITY_DEFAULTS = {
    "continent_name",
    "country_iso_code",
    "country_name",
    "region_iso_code",
    "region_name",
    "city_name",
    "location",
}


def _write(path, database_type, networks):
    writer = MMDBWriter(ip_version=6, database_type=database_type, languages=["en"], description="wgsiem test")
    for network, record in networks:
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))


@pytest.fixture(scope="module")
def extra_dir(tmp_path_factory):
    """GeoIP2-named and other-typed databases, each holding 192.0.2.0/24 (::c000:200/120)."""
    directory = tmp_path_factory.mktemp("geoip-extra")
    net = "::c000:200/120"
    country = {"iso_code": "NL", "names": {"en": "Netherlands"}, "is_in_european_union": True}
    _write(
        directory / "GeoIP2-Country.mmdb",
        "GeoIP2-Country",
        [(net, {"continent": {"code": "EU", "names": {"en": "Europe"}}, "country": country})],
    )
    _write(
        directory / "GeoIP2-Anonymous-IP.mmdb",
        "GeoIP2-Anonymous-IP",
        [(net, {"is_anonymous": True, "is_tor_exit_node": True})],
    )
    _write(
        directory / "GeoIP2-ISP.mmdb",
        "GeoIP2-ISP",
        [(net, {"autonomous_system_number": MmdbU32(64496), "isp": "Example ISP", "organization": "Example Org"})],
    )
    _write(directory / "Custom-Thing.mmdb", "Example-Thing", [(net, {"x": "y"})])
    _write(directory / "ipinfo.mmdb", "ipinfo standard_location.mmdb", [(net, {"country": "NL"})])
    # A City database with an empty record: found, but with nothing to report.
    _write(directory / "Sparse-City.mmdb", "GeoIP2-City", [(net, {"location": {"time_zone": "UTC"}})])
    return directory


@pytest.fixture(scope="module")
def dbs(geoip_world, extra_dir):
    with GeoIpDatabases([geoip_world.city.parent, extra_dir]) as databases:
        yield databases


# --- database files and types -------------------------------------------------------------


def test_database_types(dbs):
    # DOC: "The type (city, country, or ASN) will be pulled from the file metadata, so the
    # filename does not matter"; FACT dispatches on the metadata's database_type.
    assert dbs.database_type(CITY) == "GeoLite2-City"
    assert dbs.database_type(ASN) == "GeoLite2-ASN"
    assert CITY in dbs.files() and "GeoIP2-Country.mmdb" in dbs.files()


@pytest.mark.parametrize(
    ("database_type", "kind"),
    [
        ("GeoLite2-City", "City"),
        ("GeoIP2-City", "City"),
        ("GeoLite2-Country", "Country"),
        ("GeoIP2-Country", "Country"),
        ("GeoLite2-ASN", "Asn"),
        ("GeoIP2-Anonymous-IP", "AnonymousIp"),
        ("GeoIP2-Connection-Type", "ConnectionType"),
        ("GeoIP2-Domain", "Domain"),
        ("GeoIP2-Enterprise", "Enterprise"),
        ("GeoIP2-ISP", "Isp"),
        ("MyCompany-City", "City"),  # a custom type with the suffix still works (with a warning in ES)
    ],
)
def test_database_kind(database_type, kind):
    # LT testDatabaseTypeParsing; LOOKUP getMaxmindDatabase: by suffix, GeoLite2 or GeoIP2.
    assert database_kind(database_type, "x.mmdb") == kind


@pytest.mark.parametrize("database_type", ["GeoLite2-city", "Example-Thing", "ipinfo standard_location.mmdb"])
def test_unsupported_database_types(database_type):
    # FACT: "Unsupported database type [T] for file [F]"; the suffix test is case sensitive
    # and the geoip processor refuses ipinfo databases.
    with pytest.raises(GeoIpConfigError, match=rf"^Unsupported database type \[{database_type}\] for file \[f\]$"):
        database_kind(database_type, "f")


def test_unsupported_file(dbs):
    with pytest.raises(GeoIpConfigError, match="Unsupported database type"):
        dbs.check_properties("Custom-Thing.mmdb", None)
    with pytest.raises(GeoIpConfigError, match="Unsupported database type"):
        dbs.check_properties("ipinfo.mmdb", None)


def test_missing_file(dbs):
    # GeoIpProcessor: a database that is not there gives a processor that tags documents
    # (DatabaseUnavailableProcessor); here the lookup object refuses the name, and
    # unavailable_tag gives the tag for a wrapper that wants ES's behaviour.
    assert not dbs.has_database("GeoLite2-Country.mmdb")
    with pytest.raises(GeoIpConfigError, match=r"database file \[GeoLite2-Country.mmdb\] not found"):
        dbs.check_properties("GeoLite2-Country.mmdb", None)
    assert unavailable_tag("GeoLite2-Country.mmdb") == "_geoip_database_unavailable_GeoLite2-Country.mmdb"


# --- properties -----------------------------------------------------------------------------


def test_default_properties(dbs):
    # DB: each database's default set; DOC lists the City ones as the `properties` default.
    assert set(dbs.check_properties(CITY, None)) == CITY_DEFAULTS
    assert set(dbs.check_properties(ASN, None)) == {"ip", "asn", "organization_name", "network"}
    assert set(dbs.check_properties("GeoIP2-Country.mmdb", None)) == {"continent_name", "country_name", "country_iso_code"}


def test_property_lists_match_the_docs():
    # DOC: the fields each database type may add.
    assert DATABASES["City"][0] == {
        "ip", "country_iso_code", "country_name", "country_in_european_union", "registered_country_iso_code",
        "registered_country_name", "registered_country_in_european_union", "continent_code", "continent_name",
        "region_iso_code", "region_name", "city_name", "postal_code", "timezone", "location", "accuracy_radius",
    }  # fmt: skip
    assert DATABASES["Asn"][0] == {"ip", "asn", "organization_name", "network"}
    assert DATABASES["Isp"][0] == {
        "ip", "asn", "organization_name", "network", "isp", "isp_organization_name", "mobile_country_code",
        "mobile_network_code",
    }  # fmt: skip
    assert set().union(*(valid for valid, _ in DATABASES.values())) <= set(PROPERTIES)


def test_properties_case_insensitive_and_deduplicated(dbs):
    # DB parseProperty: value.toUpperCase(Locale.ROOT) against the enum; a Set results.
    assert dbs.check_properties(CITY, ["CITY_NAME", "ip", "city_name"]) == ["city_name", "ip"]


def test_illegal_property(dbs):
    # DB parseProperty: the valid properties, upper case, in the enum's order.
    with pytest.raises(GeoIpConfigError) as error:
        dbs.check_properties(ASN, ["asn", "city_name"])
    assert str(error.value) == "illegal property value [city_name]. valid values are [IP, ASN, ORGANIZATION_NAME, NETWORK]"
    with pytest.raises(GeoIpConfigError, match=r"^illegal property value \[asn\]\. valid values are \[IP, "):
        dbs.check_properties(CITY, ["asn"])


# --- City ---------------------------------------------------------------------------------------


def test_city_defaults(dbs):
    # REST "Test geoip processor with defaults": seven keys; DOC's example for 89.160.20.128
    # (Linköping, SE-E) has the same shape.
    result = dbs.lookup(CITY, "89.160.20.130", dbs.check_properties(CITY, None))
    assert result == {
        "continent_name": "Europe",
        "country_iso_code": "SE",
        "country_name": "Sweden",
        "region_iso_code": "SE-E",
        "region_name": "Östergötland",
        "city_name": "Linköping",
        "location": {"lat": 58.4108, "lon": 15.6214},
    }


def test_city_all_properties(dbs):
    # LT testCity_withIpV6 (every City property): absent values (postal_code here) are left
    # out; region_iso_code is country + "-" + the subdivision's code.
    result = dbs.lookup(CITY, "192.0.2.77", sorted(DATABASES["City"][0]))
    assert result == {
        "ip": "192.0.2.77",
        "country_in_european_union": False,
        "country_iso_code": "US",
        "country_name": "United States",
        "continent_code": "NA",
        "continent_name": "North America",
        "region_iso_code": "US-NV",
        "region_name": "Nevada",
        "city_name": "Las Vegas",
        "timezone": "America/Los_Angeles",
        "location": {"lat": 36.1716, "lon": -115.1391},
        "accuracy_radius": 20,
        "registered_country_in_european_union": False,
        "registered_country_iso_code": "US",
        "registered_country_name": "United States",
    }


def test_city_with_fields(dbs):
    # REST "Test geoip processor with fields": nine chosen properties, ip included.
    properties = dbs.check_properties(
        CITY,
        ["city_name", "country_iso_code", "ip", "location", "timezone", "country_name", "region_iso_code", "region_name",
         "continent_name"],
    )  # fmt: skip
    result = dbs.lookup(CITY, "216.160.83.57", properties)
    assert len(result) == 9
    assert result["ip"] == "216.160.83.57"
    assert result["region_iso_code"] == "US-WA"
    assert result["timezone"] == "America/Los_Angeles"


def test_city_ipv6(dbs):
    # GPT testCity_withIpV6: IPv6 addresses are looked up too; `ip` is printed compressed.
    result = dbs.lookup(CITY, "2001:db8:0:0:0:0:0:9", ["ip", "city_name", "region_iso_code"])
    assert result == {"ip": "2001:db8::9", "city_name": "Greenwich", "region_iso_code": "GB-ENG"}


def test_country_only_record(dbs):
    # LOOKUP: region and city keys are omitted when the record has no subdivision or city
    # (67.43.156.0/24 is placed in Bhutan with no region or city in the test world).
    result = dbs.lookup(CITY, "67.43.156.1", dbs.check_properties(CITY, None))
    assert result == {
        "continent_name": "Asia",
        "country_iso_code": "BT",
        "country_name": "Bhutan",
        "location": {"lat": 27.5, "lon": 90.5},
    }


@pytest.mark.parametrize("ip", ["127.0.0.1", "10.0.0.1", "192.168.1.1", "172.16.0.1", "::1", "fe80::1", "80.231.5.0"])
def test_not_found(dbs, ip):
    # GPT testAddressIsNotInTheDatabase, REST "Test geoip processor with list" (127.0.0.1
    # gives null), DOC (80.231.5.0 "cannot be found": no target_field). Private and
    # reserved addresses are simply absent from the database.
    assert dbs.lookup(CITY, ip, dbs.check_properties(CITY, None)) is None
    assert dbs.lookup(ASN, ip, dbs.check_properties(ASN, None)) is None


def test_record_without_requested_values(dbs):
    # GeoIpProcessor: data.isEmpty() sets nothing; LT testCityWithMissingLocation: with the
    # ip property the same record gives just {"ip": ...}.
    defaults = dbs.check_properties("Sparse-City.mmdb", None)
    assert dbs.lookup("Sparse-City.mmdb", "192.0.2.1", defaults) is None
    assert dbs.lookup("Sparse-City.mmdb", "192.0.2.1", ["ip", "city_name"]) == {"ip": "192.0.2.1"}
    assert dbs.lookup("Sparse-City.mmdb", "192.0.2.1", ["timezone"]) == {"timezone": "UTC"}


def test_ipv4_mapped_is_ipv4(dbs):
    # Java's InetAddress turns ::ffff:a.b.c.d into an Inet4Address: ip and network are IPv4.
    result = dbs.lookup(ASN, "::ffff:198.51.100.7", ["ip", "network"])
    assert result == {"ip": "198.51.100.7", "network": "198.51.100.0/24"}


@pytest.mark.parametrize("ip", ["www.google.com", "192.0.2", "01.2.3.4", "fe80::1%eth0", ""])
def test_invalid_ip(dbs, ip):
    # GPT testInvalid / LT testInvalid: no DNS lookups, "not an IP string literal".
    with pytest.raises(ValueError, match=rf"^'{ip}' is not an IP string literal\.$"):
        dbs.lookup(CITY, ip, ["ip"])


# --- ASN and the others -----------------------------------------------------------------------


def test_asn_defaults(dbs):
    # REST "... GeoLite2-ASN": four keys, asn a number, network in CIDR.
    result = dbs.lookup(ASN, "198.51.100.7", dbs.check_properties(ASN, None))
    assert result == {
        "ip": "198.51.100.7",
        "asn": 64497,
        "organization_name": "Example Canal Transit B.V.",
        "network": "198.51.100.0/24",
    }


def test_asn_ipv6_network_is_written_like_java(dbs):
    # LOOKUP network.toString(): MaxMind's Network prints Inet6Address.getHostAddress(),
    # which does not compress zeros.
    result = dbs.lookup(ASN, "2001:db8::1", ["network", "ip"])
    assert result == {"network": "2001:db8:0:0:0:0:0:0/32", "ip": "2001:db8::1"}


def test_geoip2_country(dbs):
    # LT testCountry: GeoIP2 naming works the same; country_in_european_union from the record.
    result = dbs.lookup("GeoIP2-Country.mmdb", "192.0.2.1", sorted(DATABASES["Country"][0]))
    assert result == {
        "ip": "192.0.2.1",
        "country_in_european_union": True,
        "country_iso_code": "NL",
        "country_name": "Netherlands",
        "continent_code": "EU",
        "continent_name": "Europe",
    }


def test_anonymous_ip(dbs):
    # LT testAnonymousIp: the flags are always written, false when absent.
    result = dbs.lookup("GeoIP2-Anonymous-IP.mmdb", "192.0.2.1", dbs.check_properties("GeoIP2-Anonymous-IP.mmdb", None))
    assert result == {
        "hosting_provider": False,
        "tor_exit_node": True,
        "anonymous_vpn": False,
        "anonymous": True,
        "public_proxy": False,
        "residential_proxy": False,
    }


def test_isp(dbs):
    # LT testIsp: asn, isp, isp_organization_name (the record's "organization"), network.
    result = dbs.lookup("GeoIP2-ISP.mmdb", "192.0.2.9", dbs.check_properties("GeoIP2-ISP.mmdb", None))
    assert result == {
        "ip": "192.0.2.9",
        "asn": 64496,
        "network": "192.0.2.0/24",
        "isp": "Example ISP",
        "isp_organization_name": "Example Org",
    }


# --- caching --------------------------------------------------------------------------------


def test_cache_is_bounded_and_results_are_fresh(geoip_world):
    # GeoIpCache: lookups are cached per (database, address) in a bounded cache (ES's
    # ingest.geoip.cache_size, 1000 by default); callers get their own dicts.
    with GeoIpDatabases([geoip_world.city.parent], cache_size=2) as databases:
        properties = databases.check_properties(CITY, None)
        first = databases.lookup(CITY, "192.0.2.1", properties)
        first["location"]["lat"] = 0.0
        again = databases.lookup(CITY, "192.0.2.1", properties)
        assert again["location"]["lat"] == 36.1716
        for ip in ("198.51.100.1", "203.0.113.1", "10.0.0.1"):
            databases.lookup(CITY, ip, properties)
        assert databases.cached == 2
