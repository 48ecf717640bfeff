"""An edge process in front of the echo backend, with a test issuer's keys, for the edge's tests."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from devstack.certs import DevCertificates, ensure_dev_certificates
from devstack.stack import Stack
from devstack.topology import ProcessSpec
from tests.running_stack import free_port
from tests.token_issuer import AUDIENCE, ISSUER, TestIssuer

ROUTES = Path(__file__).with_name("edge_routes.yaml")


@dataclass
class EdgeUnderTest:
    stack: Stack
    certs: DevCertificates
    issuer: TestIssuer
    jwks_file: Path
    edge_ports: list[int]
    backend_url: str

    @property
    def url(self) -> str:
        return f"https://localhost:{self.edge_ports[0]}"

    def client(self, index: int = 0) -> httpx.Client:
        return httpx.Client(
            base_url=f"https://localhost:{self.edge_ports[index]}",
            verify=self.certs.client_context(),
            trust_env=False,
            timeout=10.0,
        )

    @asynccontextmanager
    async def signed_in_clients(self, token: str) -> AsyncIterator[list[httpx.AsyncClient]]:
        """One client per edge, each sending `token`, closed on the way out."""
        async with AsyncExitStack() as stack:
            yield [
                await stack.enter_async_context(
                    httpx.AsyncClient(
                        base_url=f"https://localhost:{port}",
                        verify=self.certs.client_context(),
                        headers={"Authorization": f"Bearer {token}"},
                        trust_env=False,
                        timeout=10.0,
                    )
                )
                for port in self.edge_ports
            ]

    def token(self, subject: str = "user-1", **claims: object) -> str:
        return self.issuer.token(subject, **claims)

    def upstream_calls(self) -> int:
        calls: int = httpx.get(f"{self.backend_url}/_calls", trust_env=False).json()["calls"]
        return calls

    def publish(self, *issuers: TestIssuer) -> None:
        """Replace the JWKS the backend serves, as a key rotation would."""
        keys = [key for issuer in issuers for key in issuer.jwks()["keys"]]
        self.jwks_file.write_text(json.dumps({"keys": keys}))

    def raw(self, request: bytes, index: int = 0) -> bytes:
        """Send bytes exactly as given over TLS and read the whole answer (Connection: close)."""
        context = self.certs.client_context()
        with (
            socket.create_connection(("127.0.0.1", self.edge_ports[index]), timeout=10) as sock,
            context.wrap_socket(sock, server_hostname="localhost") as tls,
        ):
            tls.sendall(request)
            chunks = []
            while True:
                try:
                    chunk = tls.recv(65536)
                except (ssl.SSLError, ConnectionResetError):
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks)


@contextmanager
def edge_under_test(
    directory: Path,
    *,
    edges: int = 1,
    settings: Mapping[str, str] | None = None,
) -> Iterator[EdgeUnderTest]:
    certs = ensure_dev_certificates(directory / "certs")
    issuer = TestIssuer()
    jwks_file = directory / "jwks.json"
    jwks_file.write_text(json.dumps(issuer.jwks()))
    backend_port = free_port()
    backend_url = f"http://127.0.0.1:{backend_port}"
    specs = [
        ProcessSpec(
            "echo",
            "tests.integration.echo_backend",
            {"ECHO_PORT": str(backend_port), "ECHO_JWKS_FILE": str(jwks_file)},
            f"{backend_url}/readyz",
        )
    ]
    ports = [free_port() for _ in range(edges)]
    for index, port in enumerate(ports):
        env = {
            "EDGE_ENVIRONMENT": "dev",
            "EDGE_HOST": "127.0.0.1",
            "EDGE_PORT": str(port),
            "EDGE_TLS_CERTFILE": str(certs.cert_file),
            "EDGE_TLS_KEYFILE": str(certs.key_file),
            "EDGE_ROUTES_FILE": str(ROUTES),
            "EDGE_UPSTREAMS": json.dumps(
                {"echo": backend_url, "dead": f"http://127.0.0.1:{free_port()}"}
            ),
            "EDGE_JWKS_URL": f"{backend_url}/jwks.json",
            "EDGE_TOKEN_ISSUER": ISSUER,
            "EDGE_TOKEN_AUDIENCE": AUDIENCE,
            **(settings or {}),
        }
        specs.append(ProcessSpec(f"edge{index}", "edge", env, f"https://localhost:{port}/readyz"))
    stack = Stack(specs, tls=certs.client_context(), echo=False)
    try:
        stack.start()
        yield EdgeUnderTest(stack, certs, issuer, jwks_file, ports, backend_url)
    finally:
        stack.stop()
