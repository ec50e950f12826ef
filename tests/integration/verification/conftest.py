"""Fixtures: scripted servers on 127.0.0.1, test certificates, a fake resolver."""

import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.verification.servers import Reply, ScriptedServer
from tests.integration.verification.tls import CertificateSet, make_pki

SITE_HOST = "shop.test"

StartServer = Callable[..., Awaitable[ScriptedServer]]


class FakeResolver:
    """Resolves names from a table, so no test queries a real DNS server."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    async def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


@pytest.fixture()
def resolver() -> FakeResolver:
    return FakeResolver(
        {
            SITE_HOST: ["127.0.0.1"],
            "hooks.test": ["127.0.0.1"],
            "intranet.test": ["10.0.0.5"],
        }
    )


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> CertificateSet:
    folder: Path = tmp_path_factory.mktemp("pki")
    return make_pki(folder, SITE_HOST)


@pytest.fixture()
async def start_server() -> AsyncIterator[StartServer]:
    """Start scripted servers; all of them stop when the test ends."""
    servers: list[ScriptedServer] = []

    async def start(
        default: Reply | None = None, *, tls: ssl.SSLContext | None = None
    ) -> ScriptedServer:
        server = ScriptedServer(default, tls=tls)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture()
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    """A client that ignores proxy settings, closed when the test ends."""
    async with httpx.AsyncClient(timeout=0.3, trust_env=False) as client:
        yield client
