"""Rejects callback and website URLs that reach internal networks (SSRF).

`UrlGuard.check` parses a URL and resolves its host through an injectable
resolver. It rejects the URL when any resolved address is loopback,
private, link-local, CGNAT, multicast, unspecified, reserved or a cloud
metadata endpoint. IPv6 forms that embed an IPv4 address (mapped,
compatible, NAT64, 6to4, Teredo) are judged by that IPv4 address.
Networks in the allow-list pass, so tests can use 127.0.0.1.

Callers then connect to the checked address itself (`GuardedUrl.pinned`),
so a second DNS result cannot swap in an internal address, and they check
every redirect target again.
"""

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpx

from connectors.verification.errors import UrlRejectedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Instance metadata and platform endpoints of cloud providers. Several lie in
# ranges rejected anyway, but 168.63.129.16 (Azure WireServer) is public.
CLOUD_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.253",  # AWS VPC DNS resolver
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure WireServer
        "fd00:ec2::254",  # AWS IMDS over IPv6
    )
)
CLOUD_METADATA_HOSTS = frozenset(
    {"metadata", "metadata.google.internal", "instance-data", "metadata.azure.com"}
)

# The first network in this order that contains an address names the reason.
BLOCKED_NETWORKS: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "cgnat"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link_local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),
        ("192.0.2.0/24", "reserved"),
        ("192.88.99.0/24", "reserved"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "reserved"),
        ("198.51.100.0/24", "reserved"),
        ("203.0.113.0/24", "reserved"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("100::/64", "reserved"),
        ("2001:db8::/32", "reserved"),
        ("fc00::/7", "private"),
        ("fe80::/10", "link_local"),
        ("fec0::/10", "private"),
        ("ff00::/8", "multicast"),
    )
)

_NAT64_PREFIXES = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
)
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Hosts made only of digits, hex letters, "x" and dots may be IPv4 in a
# legacy form ("127.1", "0x7f.0.0.1", "2130706433") that resolvers accept.
_LEGACY_IPV4 = re.compile(r"^[0-9a-fx.]+$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def classify_address(address: IPAddress) -> str | None:
    """Return why `address` must not be reached, or None if it is public.

    Reasons: "cloud_metadata", "unspecified", "loopback", "private", "cgnat",
    "link_local", "multicast" and "reserved".
    """
    if address in CLOUD_METADATA_ADDRESSES:
        return "cloud_metadata"

    embedded = embedded_ipv4(address)
    if embedded is not None:
        return classify_address(embedded)

    for network, reason in BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return reason
    if not address.is_global:
        return "reserved"
    return None


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address that an IPv6 address carries, if it carries one."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        # The client address is the one the packet finally reaches.
        return address.teredo[1]
    for prefix in _NAT64_PREFIXES:
        if address in prefix:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve `host` with the operating system's resolver."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class GuardedUrl:
    """A URL that passed the guard, with the addresses its host resolved to."""

    url: httpx.URL
    host: str
    port: int
    addresses: tuple[IPAddress, ...]

    def pinned(self) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
        """Return the URL with the first checked address as host, plus headers
        and request extensions that keep the original name for HTTP and TLS.
        """
        address = self.addresses[0]
        pinned_url = self.url.copy_with(host=str(address))
        default_port = _DEFAULT_PORTS.get(self.url.scheme)
        host_part = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == default_port:
            host_header = host_part
        else:
            host_header = f"{host_part}:{self.port}"
        extensions: dict[str, str] = {}
        if self.url.scheme == "https" and _literal_address(self.host) is None:
            extensions["sni_hostname"] = self.host
        return pinned_url, {"Host": host_header}, extensions


class UrlGuard:
    """Checks URLs against the blocked address ranges before any request."""

    def __init__(
        self,
        *,
        allow_networks: Iterable[str] = (),
        resolver: Resolver | None = None,
    ) -> None:
        try:
            self._allowed = tuple(
                ipaddress.ip_network(network, strict=False)
                for network in allow_networks
            )
        except ValueError as exc:
            raise ValueError(
                f"invalid network in the URL allow-list ({exc}); set "
                f'TIDINGS_VERIFY_URL_ALLOW_NETWORKS to CIDRs such as ["127.0.0.0/8"]'
            ) from exc
        self._resolver = resolver or system_resolver

    def is_allowed(self, address: IPAddress) -> bool:
        """Return whether `address` is inside an allow-listed network."""
        return any(
            address.version == network.version and address in network
            for network in self._allowed
        )

    async def check(self, url: str | httpx.URL) -> GuardedUrl:
        """Return the checked URL, or raise UrlRejectedError naming the reason."""
        text = str(url)
        parsed = _parse(text)
        host = parsed.raw_host.decode("ascii").rstrip(".").lower()
        port = parsed.port or _DEFAULT_PORTS[parsed.scheme]

        if host in CLOUD_METADATA_HOSTS:
            raise UrlRejectedError(
                text,
                "cloud_metadata",
                f"{host!r} is a cloud metadata host name; use a public URL",
            )

        literal = _literal_address(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            addresses = await self._resolve(text, host, port)

        for address in addresses:
            self._check_address(text, address)
        return GuardedUrl(url=parsed, host=host, port=port, addresses=tuple(addresses))

    async def _resolve(self, text: str, host: str, port: int) -> list[IPAddress]:
        try:
            addresses = await self._resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise UrlRejectedError(
                text,
                "dns_failed",
                f"the host {host!r} did not resolve ({exc}); check the host name",
            ) from exc
        if not addresses:
            raise UrlRejectedError(
                text, "dns_failed", f"the host {host!r} resolved to no address"
            )
        # A scope id such as "%eth0" is not part of the address itself.
        return [ipaddress.ip_address(text.split("%", 1)[0]) for text in addresses]

    def _check_address(self, text: str, address: IPAddress) -> None:
        if self.is_allowed(address):
            return
        reason = classify_address(address)
        if reason is None:
            return
        raise UrlRejectedError(
            text,
            reason,
            f"it resolves to {address}, a {reason.replace('_', ' ')} address that "
            f"callbacks and website checks must not reach; use a public URL",
            address=str(address),
        )


def _parse(text: str) -> httpx.URL:
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise UrlRejectedError(
            text, "invalid_url", f"it is not a valid URL ({exc})"
        ) from exc
    if parsed.scheme not in _DEFAULT_PORTS:
        raise UrlRejectedError(
            text,
            "scheme",
            f"the scheme {parsed.scheme!r} is not allowed; use http or https",
        )
    if parsed.userinfo:
        raise UrlRejectedError(
            text,
            "credentials",
            "it contains a user name or password; put credentials in headers",
        )
    if not parsed.raw_host:
        raise UrlRejectedError(text, "invalid_url", "it has no host")
    # httpx accepts any number as a port, and connecting to one above 65535
    # raises OverflowError instead of an HTTP error.
    if parsed.port is not None and not 0 < parsed.port <= 65535:
        raise UrlRejectedError(
            text,
            "invalid_url",
            f"the port {parsed.port} is out of range; use a port from 1 to 65535",
        )
    return parsed


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None
