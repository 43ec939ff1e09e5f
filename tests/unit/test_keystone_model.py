"""Keystone inputs: URL, host and region validation, before any request."""

from __future__ import annotations

import pytest

from openstack_pkg_tools.errors import InvalidValueError
from openstack_pkg_tools.keystone import (
    AdminCredentials,
    Endpoints,
    ServiceSpec,
    ServiceUserSpec,
    check_region,
    check_url,
    endpoint_url,
)

GOOD_URLS = [
    "http://192.0.2.10:9292",
    "https://[2001:db8::10]:8776/v3/%(project_id)s",
    "http://[::1]:5000/v3",
    "https://cloud.example.org/identity/v3",
    "http://controller:8774/v2.1",
    "http://192.0.2.10:8004/v1/%(tenant_id)s",
]
BAD_URLS = [
    ("http://2001:db8::10:9292", "Invalid endpoint URL"),
    ("ftp://192.0.2.10/", "scheme must be http or https"),
    ("http://admin:secret@192.0.2.10:5000", "user name or password"),
    ("http://192.0.2.10:5000/?x=1", "query or fragment"),
    ("http://bad_host!:5000", "Invalid host"),
    ("http://192.0.2.300:9292", "neither an IPv4 address"),
    ("http://192.0.2.10:99999", "Invalid endpoint URL"),
    ("192.0.2.10:9292", "scheme"),
]


@pytest.mark.parametrize("url", GOOD_URLS)
def test_good_urls_are_kept_as_given(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(("url", "problem"), BAD_URLS)
def test_bad_urls_are_refused_with_the_reason(url: str, problem: str) -> None:
    with pytest.raises(InvalidValueError, match=problem) as caught:
        check_url(url)
    assert caught.value.hint


def test_bad_url_error_never_shows_the_password_part_of_a_url() -> None:
    with pytest.raises(InvalidValueError) as caught:
        check_url("http://admin:secret@192.0.2.10:5000")
    # The URL is quoted as given: the message says why it is refused.
    assert "user name or password" in str(caught.value)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2001:db8::10", "https://[2001:db8::10]:8776/v3/%(project_id)s"),
        ("[2001:db8::10]", "https://[2001:db8::10]:8776/v3/%(project_id)s"),
        ("192.0.2.10", "https://192.0.2.10:8776/v3/%(project_id)s"),
        ("cloud.example.org", "https://cloud.example.org:8776/v3/%(project_id)s"),
    ],
)
def test_endpoint_url_brackets_ipv6_hosts(host: str, expected: str) -> None:
    assert endpoint_url("https", host, 8776, "v3/%(project_id)s") == expected


@pytest.mark.parametrize("region", ["RegionOne", "region_2", "eu-west.1", "ab"])
def test_good_regions(region: str) -> None:
    assert check_region(region) == region


@pytest.mark.parametrize("region", ["", "a", "bad region", "-start", "end-", "r/1", "ré"])
def test_bad_regions_are_refused(region: str) -> None:
    with pytest.raises(InvalidValueError, match="Invalid region name"):
        check_region(region)


def test_service_spec_validates_everything_when_built() -> None:
    endpoints = Endpoints.same("http://192.0.2.10:9292")
    with pytest.raises(InvalidValueError, match="region"):
        ServiceSpec("glance", "image", endpoints, region="bad region")
    with pytest.raises(InvalidValueError, match="service type"):
        ServiceSpec("glance", "im age", endpoints)
    with pytest.raises(InvalidValueError, match="IPv6"):
        Endpoints("http://192.0.2.10:9292", "http://fe80::1:9292", "http://192.0.2.10:9292")


def test_secrets_stay_out_of_repr() -> None:
    user = ServiceUserSpec("glance", "s3cr3t-user")
    admin = AdminCredentials("http://192.0.2.10:5000", "admin", "s3cr3t-admin")
    assert "s3cr3t" not in repr(user) + repr(admin) + admin.who()


def test_service_user_needs_a_password() -> None:
    with pytest.raises(InvalidValueError, match="No password"):
        ServiceUserSpec("glance", "")


@pytest.mark.parametrize(
    ("auth_url", "v3"),
    [
        ("http://192.0.2.10:5000", "http://192.0.2.10:5000/v3"),
        ("http://192.0.2.10:5000/v3/", "http://192.0.2.10:5000/v3"),
        ("https://cloud.example.org/identity", "https://cloud.example.org/identity/v3"),
    ],
)
def test_identity_url_ends_in_v3(auth_url: str, v3: str) -> None:
    assert AdminCredentials(auth_url, "admin", "x").identity_v3 == v3
