"""URL guard: blocked ranges for IPv4 and IPv6, resolution, allow-list, pinning."""

import ipaddress
import socket

import pytest

from connectors.verification.errors import UrlRejectedError
from connectors.verification.url_guard import UrlGuard, classify_address


class FakeResolver:
    """Resolves names from a table and records every lookup; unknown names fail."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "cgnat"),
        ("100.127.255.254", "cgnat"),
        ("169.254.1.1", "link_local"),
        ("169.254.169.254", "cloud_metadata"),
        ("169.254.170.2", "cloud_metadata"),
        ("100.100.100.200", "cloud_metadata"),
        ("168.63.129.16", "cloud_metadata"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("255.255.255.255", "reserved"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.10", "reserved"),
        ("198.18.0.1", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link_local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fd00:ec2::254", "cloud_metadata"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "cloud_metadata"),
        ("::ffff:10.0.0.1", "private"),
        ("::127.0.0.1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "cloud_metadata"),
        ("64:ff9b::c0a8:101", "private"),
        ("2002:7f00:1::", "loopback"),
        ("2002:a00:1::1", "private"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),
    ],
)
def test_blocked_address(address: str, reason: str) -> None:
    assert classify_address(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", [PUBLIC_V4, "8.8.8.8", PUBLIC_V6, "::ffff:93.184.215.14"]
)
def test_public_address_allowed(address: str) -> None:
    assert classify_address(ipaddress.ip_address(address)) is None


async def test_public_host_passes() -> None:
    guard = UrlGuard(resolver=FakeResolver({"shop.test": [PUBLIC_V4, PUBLIC_V6]}))

    checked = await guard.check("https://shop.test/about")

    assert checked.host == "shop.test"
    assert checked.port == 443
    assert [str(a) for a in checked.addresses] == [PUBLIC_V4, PUBLIC_V6]


async def test_any_private_address_rejects() -> None:
    resolver = FakeResolver({"mixed.test": [PUBLIC_V4, "10.0.0.7"]})

    with pytest.raises(UrlRejectedError) as caught:
        await UrlGuard(resolver=resolver).check("http://mixed.test/")

    assert caught.value.reason == "private"
    assert caught.value.address == "10.0.0.7"


async def test_rejection_message_names_fix() -> None:
    resolver = FakeResolver({"internal.test": ["192.168.0.5"]})

    with pytest.raises(UrlRejectedError, match="use a public URL"):
        await UrlGuard(resolver=resolver).check("http://internal.test/")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://0x7f.0.0.1/", "loopback"),
        ("http://0177.0.0.1/", "invalid_url"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:7f00:1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "cloud_metadata"),
        ("http://[fe80::1%25eth0]/", "link_local"),
        ("http://metadata.google.internal/computeMetadata/v1/", "cloud_metadata"),
        ("ftp://shop.test/file", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("http://user:secret@shop.test/", "credentials"),
        ("http://[::1/", "invalid_url"),
        ("http://shop.test:99999/hook", "invalid_url"),
    ],
)
async def test_url_rejected_without_lookup(url: str, reason: str) -> None:
    resolver = FakeResolver({"shop.test": [PUBLIC_V4]})

    with pytest.raises(UrlRejectedError) as caught:
        await UrlGuard(resolver=resolver).check(url)

    assert caught.value.reason == reason
    assert resolver.lookups == []


async def test_unresolvable_host_rejected() -> None:
    with pytest.raises(UrlRejectedError) as caught:
        await UrlGuard(resolver=FakeResolver({})).check("https://nowhere.test/")

    assert caught.value.reason == "dns_failed"
    assert isinstance(caught.value.__cause__, socket.gaierror)


async def test_empty_resolution_rejected() -> None:
    guard = UrlGuard(resolver=FakeResolver({"empty.test": []}))

    with pytest.raises(UrlRejectedError, match="no address"):
        await guard.check("https://empty.test/")


async def test_allow_list_admits_loopback() -> None:
    resolver = FakeResolver({"localhost": ["127.0.0.1", "::1"]})
    guard = UrlGuard(allow_networks=["127.0.0.0/8", "::1/128"], resolver=resolver)

    checked = await guard.check("http://localhost:8443/hook")

    assert checked.port == 8443


async def test_allow_list_is_narrow() -> None:
    guard = UrlGuard(allow_networks=["127.0.0.0/8"], resolver=FakeResolver({}))

    with pytest.raises(UrlRejectedError) as caught:
        await guard.check("http://[::ffff:10.0.0.1]/")

    assert caught.value.reason == "private"


def test_allow_list_rejects_bad_network() -> None:
    with pytest.raises(ValueError, match="TIDINGS_VERIFY_URL_ALLOW_NETWORKS"):
        UrlGuard(allow_networks=["not-a-network"])


async def test_pinned_keeps_host_name() -> None:
    guard = UrlGuard(resolver=FakeResolver({"shop.test": [PUBLIC_V4]}))
    checked = await guard.check("https://shop.test:8443/a?b=1")

    url, headers, extensions = checked.pinned()

    assert str(url) == f"https://{PUBLIC_V4}:8443/a?b=1"
    assert headers == {"Host": "shop.test:8443"}
    assert extensions == {"sni_hostname": "shop.test"}


async def test_pinned_ipv6_address() -> None:
    guard = UrlGuard(resolver=FakeResolver({"shop.test": [PUBLIC_V6]}))
    checked = await guard.check("http://shop.test/")

    url, headers, extensions = checked.pinned()

    assert url.host == PUBLIC_V6
    assert headers == {"Host": "shop.test"}
    assert extensions == {}
