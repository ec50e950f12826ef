"""Website checks against pages served on 127.0.0.1, over http and https."""

import pytest

from connectors.verification.errors import UrlRejectedError
from connectors.verification.url_guard import UrlGuard
from connectors.verification.website import WebsiteSubject, check_website
from tests.integration.verification.conftest import (
    SITE_HOST,
    FakeResolver,
    StartServer,
)
from tests.integration.verification.servers import (
    Reply,
    closed_port,
    html_reply,
    redirect_reply,
)
from tests.integration.verification.tls import CertificateSet

PAGE = """<html><head><title>深圳示例科技有限公司</title></head><body>
<h1>深圳示例科技</h1><p>Tel: +86 755 1234 5678</p>
<a href="mailto:hello@shop.test">Contact</a></body></html>"""

SUBJECT = WebsiteSubject(
    name="深圳示例科技有限公司", email="sales@shop.test", phone="0755-1234 5678"
)


@pytest.fixture()
def guard(resolver: FakeResolver) -> UrlGuard:
    return UrlGuard(allow_networks=["127.0.0.0/8"], resolver=resolver)


def site_url(port: int, path: str = "/", scheme: str = "http") -> str:
    return f"{scheme}://{SITE_HOST}:{port}{path}"


async def test_consistent_site(start_server: StartServer, guard: UrlGuard) -> None:
    server = await start_server(html_reply(PAGE))

    check = await check_website(site_url(server.port), SUBJECT, guard=guard)

    assert check.reachable
    assert check.name_present
    assert check.contact is not None
    assert check.contact.email_consistent is True
    assert check.contact.phone_consistent is True
    assert check.tls_valid is None
    assert check.reasons == ("the website does not use https",)


async def test_request_keeps_host_name(
    start_server: StartServer, guard: UrlGuard
) -> None:
    server = await start_server(html_reply(PAGE))

    await check_website(site_url(server.port), SUBJECT, guard=guard)

    assert server.requests[0].headers["host"] == f"{SITE_HOST}:{server.port}"


async def test_valid_certificate(
    start_server: StartServer, guard: UrlGuard, pki: CertificateSet
) -> None:
    server = await start_server(html_reply(PAGE), tls=pki.server_context())

    check = await check_website(
        site_url(server.port, scheme="https"),
        SUBJECT,
        guard=guard,
        verify=pki.client_context(),
    )

    assert check.tls_valid is True
    assert check.reasons == ()


async def test_self_signed_certificate(
    start_server: StartServer, guard: UrlGuard, pki: CertificateSet
) -> None:
    tls = pki.server_context(self_signed=True)
    server = await start_server(html_reply(PAGE), tls=tls)

    check = await check_website(
        site_url(server.port, scheme="https"),
        SUBJECT,
        guard=guard,
        verify=pki.client_context(),
    )

    assert check.tls_valid is False
    assert check.reachable
    assert check.name_present
    assert check.reasons[0].startswith("the TLS certificate is not valid")


async def test_name_missing(start_server: StartServer, guard: UrlGuard) -> None:
    server = await start_server(html_reply("<p>Parked domain for sale</p>"))

    check = await check_website(site_url(server.port), SUBJECT, guard=guard)

    assert check.name_present is False
    assert f"the name {SUBJECT.name!r} does not appear on the page" in check.reasons


async def test_contacts_inconsistent(
    start_server: StartServer, guard: UrlGuard
) -> None:
    server = await start_server(html_reply(PAGE))
    subject = WebsiteSubject(
        name="深圳示例科技", email="boss@mail.example", phone="+1 212 555 0100"
    )

    check = await check_website(site_url(server.port), subject, guard=guard)

    assert check.contact is not None
    assert check.contact.email_consistent is False
    assert check.contact.phone_consistent is False


async def test_redirect_followed(start_server: StartServer, guard: UrlGuard) -> None:
    server = await start_server(html_reply(PAGE))
    server.then(redirect_reply("/about"))

    check = await check_website(site_url(server.port), SUBJECT, guard=guard)

    assert check.final_url == site_url(server.port, "/about")
    assert check.redirects == (site_url(server.port, "/about"),)
    assert [request.target for request in server.requests] == ["/", "/about"]


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://10.0.0.5/admin", "private"),
        ("http://169.254.169.254/latest/meta-data/", "cloud_metadata"),
        ("http://intranet.test/", "private"),
        ("http://[::ffff:192.168.0.1]/", "private"),
    ],
)
async def test_redirect_to_internal_rejected(
    start_server: StartServer, guard: UrlGuard, location: str, reason: str
) -> None:
    server = await start_server(redirect_reply(location))

    with pytest.raises(UrlRejectedError) as caught:
        await check_website(site_url(server.port), SUBJECT, guard=guard)

    assert caught.value.reason == reason


async def test_too_many_redirects(start_server: StartServer, guard: UrlGuard) -> None:
    server = await start_server(redirect_reply("/again"))

    check = await check_website(
        site_url(server.port), SUBJECT, guard=guard, max_redirects=3
    )

    assert not check.reachable
    assert "too_many_redirects" in check.reasons[0]
    assert len(server.requests) == 4


async def test_slow_site_times_out(start_server: StartServer, guard: UrlGuard) -> None:
    server = await start_server(Reply(delay=5.0))

    check = await check_website(
        site_url(server.port), SUBJECT, guard=guard, timeout=0.3
    )

    assert not check.reachable
    assert "(timeout)" in check.reasons[0]


async def test_refused_connection(guard: UrlGuard) -> None:
    check = await check_website(site_url(closed_port()), SUBJECT, guard=guard)

    assert not check.reachable
    assert "(connection_failed)" in check.reasons[0]


async def test_error_status_unreachable(
    start_server: StartServer, guard: UrlGuard
) -> None:
    server = await start_server(html_reply("<h1>Not Found</h1>", status=404))

    check = await check_website(site_url(server.port), SUBJECT, guard=guard)

    assert not check.reachable
    assert check.status_code == 404


async def test_large_page_truncated(start_server: StartServer, guard: UrlGuard) -> None:
    server = await start_server(html_reply(PAGE + "<p>filler</p>" * 10_000))

    check = await check_website(
        site_url(server.port), SUBJECT, guard=guard, max_bytes=4096
    )

    assert check.name_present


async def test_loopback_needs_allow_list(
    start_server: StartServer, resolver: FakeResolver
) -> None:
    server = await start_server(html_reply(PAGE))

    with pytest.raises(UrlRejectedError) as caught:
        await check_website(
            site_url(server.port), SUBJECT, guard=UrlGuard(resolver=resolver)
        )

    assert caught.value.reason == "loopback"
    assert server.requests == []
