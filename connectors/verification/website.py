"""Website check: reachable, valid TLS, the subject's name and contacts present.

`fetch_website` follows redirects itself and passes every target through
the `UrlGuard`, so a public page cannot redirect the check to an internal
address. `check_website` turns the page into a `WebsiteCheck` with readable
reasons for every finding that speaks against the subject.
"""

import ssl
from dataclasses import dataclass

import httpx

from connectors.verification.adverse import mentions_name
from connectors.verification.errors import WebsiteFetchError
from connectors.verification.names import NameKind
from connectors.verification.page_text import PageText, parse_page, phone_digits
from connectors.verification.pinned_http import (
    PinnedResponse,
    Verify,
    new_client,
    send_pinned,
)
from connectors.verification.url_guard import GuardedUrl, UrlGuard

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Phone numbers compare by their last digits, so "+86 755 1234 5678" and
# "0755-12345678" agree. Eight digits is a local number in most countries.
PHONE_SUFFIX_DIGITS = 8
USER_AGENT = "TidingsVerification/1.0"


@dataclass(frozen=True)
class WebsiteSubject:
    """The subject's claimed name and contacts, to compare with its website."""

    name: str
    kind: NameKind = "company"
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class FetchedPage:
    url: str
    status_code: int
    body: bytes
    charset: str | None
    truncated: bool
    redirects: tuple[str, ...]


@dataclass(frozen=True)
class ContactCheck:
    """Contact details on the page and whether the subject's agree with them.

    A consistency value is None when the subject gave no such detail.
    """

    emails_found: tuple[str, ...]
    phones_found: tuple[str, ...]
    email_consistent: bool | None
    phone_consistent: bool | None


@dataclass(frozen=True)
class WebsiteCheck:
    """The outcome of checking a subject's website.

    `tls_valid` is None for a plain-http site. `reasons` lists every
    finding that speaks against the subject, in readable words.
    """

    url: str
    final_url: str | None
    reachable: bool
    status_code: int | None
    tls_valid: bool | None
    name_present: bool | None
    contact: ContactCheck | None
    redirects: tuple[str, ...]
    reasons: tuple[str, ...]


async def check_website(
    url: str,
    subject: WebsiteSubject,
    *,
    guard: UrlGuard,
    timeout: float = 10.0,
    max_bytes: int = 2_000_000,
    max_redirects: int = 5,
    verify: Verify = True,
) -> WebsiteCheck:
    """Fetch the subject's website and compare it with the subject.

    A certificate that fails verification makes `tls_valid` False, and the page
    is then fetched without verification so its content is still checked.
    Raises UrlRejectedError when the URL or a redirect target is not allowed.
    """

    async def fetch(verify_tls: Verify) -> FetchedPage:
        return await fetch_website(
            url,
            guard=guard,
            timeout=timeout,
            max_bytes=max_bytes,
            max_redirects=max_redirects,
            verify=verify_tls,
        )

    try:
        page = await fetch(verify)
        tls_problem = None
    except WebsiteFetchError as error:
        if error.reason != "tls_invalid":
            return _unreachable(url, error)
        tls_problem = error.detail
        try:
            page = await fetch(False)
        except WebsiteFetchError as retry_error:
            return _unreachable(url, retry_error, tls_problem=tls_problem)

    return _assess(url, subject, page, tls_problem)


def _unreachable(
    url: str, error: WebsiteFetchError, tls_problem: str | None = None
) -> WebsiteCheck:
    reasons = [f"the website is unreachable ({error.reason}): {error.detail}"]
    if tls_problem is not None:
        reasons.insert(0, f"the TLS certificate is not valid: {tls_problem}")
    return WebsiteCheck(
        url=url,
        final_url=None,
        reachable=False,
        status_code=None,
        tls_valid=False if tls_problem is not None else None,
        name_present=None,
        contact=None,
        redirects=(),
        reasons=tuple(reasons),
    )


def _assess(
    url: str, subject: WebsiteSubject, page: FetchedPage, tls_problem: str | None
) -> WebsiteCheck:
    reasons: list[str] = []
    https = page.url.startswith("https://")
    tls_valid = (tls_problem is None) if https else None
    if tls_problem is not None:
        reasons.append(f"the TLS certificate is not valid: {tls_problem}")
    elif not https:
        reasons.append("the website does not use https")

    reachable = page.status_code < 400
    if not reachable:
        reasons.append(f"the website responded with HTTP {page.status_code}")

    content = parse_page(page.body.decode(page.charset or "utf-8", errors="replace"))
    name_present = mentions_name(
        f"{content.title} {content.text}", subject.name, subject.kind
    )
    if not name_present:
        reasons.append(f"the name {subject.name!r} does not appear on the page")

    contact = _check_contact(subject, content, httpx.URL(page.url).host)
    if contact.email_consistent is False:
        reasons.append(
            f"the e-mail address {subject.email!r} is not on the page and its domain "
            f"differs from the website's"
        )
    if contact.phone_consistent is False:
        reasons.append(f"the phone number {subject.phone!r} is not on the page")

    return WebsiteCheck(
        url=url,
        final_url=page.url,
        reachable=reachable,
        status_code=page.status_code,
        tls_valid=tls_valid,
        name_present=name_present,
        contact=contact,
        redirects=page.redirects,
        reasons=tuple(reasons),
    )


def _check_contact(subject: WebsiteSubject, page: PageText, host: str) -> ContactCheck:
    email_consistent = None
    if subject.email:
        email = subject.email.strip().lower()
        domain = email.rpartition("@")[2]
        same_site = bool(domain) and (host == domain or host.endswith(f".{domain}"))
        email_consistent = email in page.emails or same_site

    phone_consistent = None
    if subject.phone:
        wanted = phone_digits(subject.phone)[-PHONE_SUFFIX_DIGITS:]
        phone_consistent = bool(wanted) and any(
            phone_digits(found).endswith(wanted) for found in page.phones
        )

    return ContactCheck(
        emails_found=tuple(sorted(page.emails)),
        phones_found=tuple(sorted(page.phones)),
        email_consistent=email_consistent,
        phone_consistent=phone_consistent,
    )


async def fetch_website(
    url: str,
    *,
    guard: UrlGuard,
    timeout: float,
    max_bytes: int,
    max_redirects: int,
    verify: Verify = True,
) -> FetchedPage:
    """GET `url`, following redirects through the guard; raise WebsiteFetchError."""
    current = url
    redirects: list[str] = []
    async with new_client(timeout=timeout, verify=verify) as client:
        while True:
            target = await guard.check(current)
            response = await _get(client, target, current, max_bytes)
            location = response.headers.get("Location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                break
            if len(redirects) >= max_redirects:
                raise WebsiteFetchError(
                    url,
                    "too_many_redirects",
                    f"more than {max_redirects} redirects; the last one pointed to "
                    f"{location!r}",
                )
            current = str(target.url.join(location))
            redirects.append(current)

    return FetchedPage(
        url=current,
        status_code=response.status_code,
        body=response.body,
        charset=_charset(response.headers),
        truncated=response.truncated,
        redirects=tuple(redirects),
    )


async def _get(
    client: httpx.AsyncClient, target: GuardedUrl, url: str, max_bytes: int
) -> PinnedResponse:
    try:
        return await send_pinned(
            client,
            target,
            "GET",
            max_bytes=max_bytes,
            headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*;q=0.5"},
        )
    except httpx.TimeoutException as exc:
        raise WebsiteFetchError(
            url, "timeout", f"the request timed out ({type(exc).__name__})"
        ) from exc
    except httpx.HTTPError as exc:
        if _is_certificate_error(exc):
            raise WebsiteFetchError(url, "tls_invalid", str(exc)) from exc
        raise WebsiteFetchError(
            url, "connection_failed", f"{type(exc).__name__}: {exc}"
        ) from exc


def _is_certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _charset(headers: httpx.Headers) -> str | None:
    content_type = str(headers.get("Content-Type", ""))
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset: str = value.strip("\"'")
            try:
                "".encode(charset)
            except LookupError:
                return None
            return charset
    return None
