"""GeoIP/ASN enrichment against the test GeoIP world."""

from __future__ import annotations

import json

import pytest

from wgsiem.enrich.geoip import GeoIP, GeoIPError, Place, distance_km
from wgsiem.errors import WgsiemError

# What Elasticsearch's geoip processor writes for a City database by default.
ES_DEFAULT_KEYS = {
    "continent_name",
    "country_iso_code",
    "country_name",
    "region_iso_code",
    "region_name",
    "city_name",
    "location",
}


@pytest.fixture(scope="module")
def geoip(geoip_world):
    with GeoIP(geoip_world.city, geoip_world.asn) as resolver:
        yield resolver


def test_amsterdam(geoip):
    place = geoip.lookup("198.51.100.7")
    assert place == Place(
        geo={
            "continent_name": "Europe",
            "country_iso_code": "NL",
            "country_name": "Netherlands",
            "region_iso_code": "NL-NH",
            "region_name": "North Holland",
            "city_name": "Amsterdam",
            "location": {"lat": 52.3676, "lon": 4.9041},
        },
        as_number=64497,
        as_organization="Example Canal Transit B.V.",
    )
    assert set(place.geo) == ES_DEFAULT_KEYS


@pytest.mark.parametrize(
    ("ip", "country", "region", "city", "as_number"),
    [
        ("192.0.2.77", "US", "US-NV", "Las Vegas", 64496),
        ("203.0.113.200", "ES", "ES-M", "Madrid", 64498),
        ("2001:db8:1::9", "GB", "GB-ENG", "Greenwich", 64499),
        ("81.2.69.150", "GB", "GB-ENG", "London", 64500),
        ("89.160.20.130", "SE", "SE-E", "Linköping", 64501),
        ("175.16.199.9", "CN", "CN-22", "Changchun", 64502),
        ("216.160.83.57", "US", "US-WA", "Milton", 64504),
    ],
)
def test_places(geoip, ip, country, region, city, as_number):
    place = geoip.lookup(ip)
    assert (place.geo["country_iso_code"], place.geo["region_iso_code"], place.geo["city_name"]) == (
        country,
        region,
        city,
    )
    assert set(place.geo["location"]) == {"lat", "lon"}
    assert place.as_number == as_number
    assert place.as_organization.startswith("Example ")


def test_country_only_network_has_no_region_or_city_keys(geoip):
    place = geoip.lookup("67.43.156.9")
    assert dict(place.geo) == {
        "continent_name": "Asia",
        "country_iso_code": "BT",
        "country_name": "Bhutan",
        "location": {"lat": 27.5, "lon": 90.5},
    }
    assert place.as_number == 64503


def test_ipv4_mapped_address_is_looked_up_as_ipv4(geoip):
    assert geoip.lookup("::ffff:203.0.113.9") == geoip.lookup("203.0.113.9")


@pytest.mark.parametrize(
    "ip",
    [
        "10.1.2.3",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.10.1",
        "0.0.0.0",
        "::1",
        "::",
        "fe80::1",
        "fd12:3456::1",
        "::ffff:192.168.1.1",
    ],
)
def test_private_loopback_link_local_are_not_placed(geoip, ip):
    assert geoip.lookup(ip) is None


@pytest.mark.parametrize("ip", ["8.8.8.8", "2606:4700::1111"])
def test_unknown_public_address(geoip, ip):
    assert geoip.lookup(ip) is None


@pytest.mark.parametrize("enabled", [True, False])
def test_not_an_address(geoip, enabled):
    with pytest.raises(ValueError):
        (geoip if enabled else GeoIP()).lookup("not-an-ip")


def test_no_database():
    resolver = GeoIP()
    assert resolver.enabled is False
    assert resolver.lookup("198.51.100.7") is None
    resolver.close()


def test_asn_only(geoip_world):
    with GeoIP(asn=geoip_world.asn) as resolver:
        assert resolver.enabled
        place = resolver.lookup("198.51.100.7")
    assert place == Place(geo={}, as_number=64497, as_organization="Example Canal Transit B.V.")


def test_city_only(geoip_world):
    with GeoIP(city=geoip_world.city) as resolver:
        place = resolver.lookup("198.51.100.7")
    assert place.geo["city_name"] == "Amsterdam"
    assert (place.as_number, place.as_organization) == (None, None)


def test_second_lookup_comes_from_the_cache(geoip_world):
    with GeoIP(geoip_world.city, geoip_world.asn) as resolver:
        first = resolver.lookup("198.51.100.7")
        second = resolver.lookup("198.51.100.7")
        assert second is first
        info = resolver.cache_info()
        assert (info.hits, info.misses) == (1, 1)


def test_cache_size_is_bounded(geoip_world):
    with GeoIP(geoip_world.city, cache_size=2) as resolver:
        for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
            resolver.lookup(ip)
        assert resolver.cache_info().currsize == 2


def test_place_is_read_only_and_converts_for_documents(geoip):
    place = geoip.lookup("198.51.100.7")
    with pytest.raises(TypeError):
        place.geo["city_name"] = "Rotterdam"
    with pytest.raises(TypeError):
        place.geo["location"]["lat"] = 0.0
    document = place.geo_dict()
    assert type(document) is dict and type(document["location"]) is dict
    assert json.loads(json.dumps(document)) == document


def test_close_disables(geoip_world):
    resolver = GeoIP(geoip_world.city, geoip_world.asn)
    resolver.close()
    assert resolver.enabled is False
    assert resolver.lookup("198.51.100.7") is None
    resolver.close()  # twice is fine


@pytest.mark.parametrize(("kind", "wrong"), [("city", "asn"), ("asn", "city")])
def test_wrong_database_type(geoip_world, kind, wrong):
    path = getattr(geoip_world, wrong)
    with pytest.raises(GeoIPError) as caught:
        GeoIP(**{kind: path})
    message = str(caught.value)
    assert str(path) in message
    assert ("GeoLite2-ASN" if wrong == "asn" else "GeoLite2-City") in message


def test_missing_database(tmp_path):
    with pytest.raises(GeoIPError, match="no such file") as caught:
        GeoIP(city=tmp_path / "GeoLite2-City.mmdb")
    assert str(tmp_path / "GeoLite2-City.mmdb") in str(caught.value)
    assert isinstance(caught.value, WgsiemError)  # what the command line reports as an error


def test_not_a_database(tmp_path):
    junk = tmp_path / "GeoLite2-ASN.mmdb"
    junk.write_text("not a MaxMind DB\n" * 100)
    with pytest.raises(GeoIPError, match="not a MaxMind DB file") as caught:
        GeoIP(asn=junk)
    assert str(junk) in str(caught.value)


def test_directory_is_not_a_database(tmp_path):
    with pytest.raises(GeoIPError, match="not a file"):
        GeoIP(city=tmp_path)


def test_distance_amsterdam_madrid(geoip):
    amsterdam = geoip.lookup("198.51.100.7").geo["location"]
    madrid = geoip.lookup("203.0.113.7").geo["location"]
    assert distance_km(amsterdam, madrid) == pytest.approx(1480, abs=20)
    assert distance_km(madrid, amsterdam) == pytest.approx(distance_km(amsterdam, madrid))


def test_distance_same_point_and_antipodes():
    point = {"lat": 51.5, "lon": -0.1}
    assert distance_km(point, point) == 0.0
    # Half the circumference, where rounding could push the haversine past 1.
    antipode = distance_km({"lat": 0.0, "lon": 0.0}, {"lat": 0.0, "lon": 180.0})
    assert antipode == pytest.approx(20015.1, abs=0.1)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (None, {"lat": 1.0, "lon": 2.0}),
        ({"lat": 1.0, "lon": 2.0}, None),
        (None, None),
        ({}, {"lat": 1.0, "lon": 2.0}),
        ({"lat": 1.0}, {"lat": 1.0, "lon": 2.0}),
    ],
)
def test_distance_missing_location(a, b):
    assert distance_km(a, b) is None
