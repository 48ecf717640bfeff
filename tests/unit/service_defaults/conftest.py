"""Fixtures for the kit: an issuer, the wire mocked, a fake clock, instant retries, a sample app."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, Literal

import httpx
import msgspec
import pytest
import respx
from litestar import Litestar, get, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient

from service_defaults import tokens
from service_defaults.app import create_service_app
from service_defaults.health import ReadinessCheck
from service_defaults.request_context import current_request_id
from service_defaults.tokens import JwksKeySource, TokenVerifier
from tests.token_issuer import AUDIENCE, ISSUER, TestIssuer

JWKS_URL = "http://issuer.test/.well-known/jwks.json"
OnFetch = Callable[[Literal["ok", "failed"]], None] | None


def make_verifier(
    client: httpx.AsyncClient, *, refetch_floor_s: float = 10.0, on_fetch: OnFetch = None
) -> TokenVerifier:
    source = JwksKeySource(
        client, JWKS_URL, refetch_floor_s=refetch_floor_s, on_fetch=on_fetch or (lambda _: None)
    )
    return TokenVerifier(source, issuer=ISSUER, audience=AUDIENCE)


def valid_claims() -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 300}


def with_kid(kid: str) -> str:
    """A well-signed token whose header names `kid`, from a key nobody published."""
    return TestIssuer(kid).token()


class FakeClock:
    """Stands in for `time` inside `service_defaults.tokens`, so refetch floors pass on demand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        # Wall-clock reads (token expiry in the verifier's cache) stay real.
        return time.time()

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def wire() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    # Only the tokens module sees the fake: the event loop keeps its real clock.
    fake = FakeClock()
    monkeypatch.setattr(tokens, "time", fake)
    return fake


class Thing(msgspec.Struct, frozen=True):
    name: str
    count: int


@post("/things", status_code=201)
async def create_thing(data: JSONBody[Thing]) -> Thing:
    return data


@get("/boom")
async def boom() -> None:
    raise RuntimeError("leaked secret: password=hunter2")


@get("/request-id", sync_to_thread=False)
def request_id() -> dict[str, str]:
    return {"request_id": current_request_id()}


def create_sample_app(readiness: Mapping[str, ReadinessCheck] | None = None) -> Litestar:
    return create_service_app(
        title="sample", route_handlers=[create_thing, boom, request_id], readiness=readiness
    )


@pytest.fixture
async def sample() -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_sample_app()) as client:
        yield client
