"""The token rule: a route that requires a token gets one valid for its audiences, else 401."""

from __future__ import annotations

import pytest

from edge.auth import Authenticator
from edge.refusal import Refused
from edge.request_fields import RequestFields
from edge.routing import Route
from edge.rules.token import authenticated_subject
from tests.token_issuer import TestIssuer
from tests.unit.edge.conftest import Connection, RouteFiles, request_head


def authorization(*values: str) -> RequestFields:
    return RequestFields([(b"authorization", value.encode()) for value in values])


@pytest.fixture
def route(route_files: RouteFiles) -> Route:
    return route_files.route()  # auth: required, audiences: frontdoor (the defaults)


async def test_a_valid_token_gives_its_subject(
    authenticator: Authenticator, issuer: TestIssuer, route: Route
) -> None:
    fields = authorization(f"Bearer {issuer.token('alice')}")

    assert await authenticated_subject(authenticator, route, fields) == "alice"


async def test_a_route_without_auth_has_no_subject_whatever_is_sent(
    authenticator: Authenticator, issuer: TestIssuer, route_files: RouteFiles
) -> None:
    route = route_files.route(auth="none")

    # Not even a valid token is read: the route's upstream sees no verified subject.
    assert await authenticated_subject(authenticator, route, authorization("garbage")) is None
    valid = authorization(f"Bearer {issuer.token('alice')}")
    assert await authenticated_subject(authenticator, route, valid) is None


async def test_no_token_is_401_asking_for_a_bearer(
    authenticator: Authenticator, route: Route
) -> None:
    with pytest.raises(Refused) as refused:
        await authenticated_subject(authenticator, route, RequestFields([]))

    assert refused.value.status == 401
    assert refused.value.headers == [(b"www-authenticate", b"Bearer")]


async def test_an_invalid_token_is_401_saying_so(
    authenticator: Authenticator, route: Route
) -> None:
    with pytest.raises(Refused) as refused:
        await authenticated_subject(authenticator, route, authorization("Bearer x.y.z"))

    assert refused.value.status == 401
    assert refused.value.headers == [(b"www-authenticate", b'Bearer error="invalid_token"')]


async def test_a_token_for_another_audience_is_401_on_this_route(
    authenticator: Authenticator, issuer: TestIssuer, route_files: RouteFiles
) -> None:
    fields = authorization(f"Bearer {issuer.token(aud='partners')}")
    partners = route_files.route(audiences=["partners"])

    with pytest.raises(Refused) as refused:
        await authenticated_subject(authenticator, route_files.route(), fields)

    assert refused.value.status == 401
    assert await authenticated_subject(authenticator, partners, fields) == "user-1"


async def test_two_authorization_fields_are_400_even_when_both_are_valid(
    authenticator: Authenticator, issuer: TestIssuer, route: Route
) -> None:
    token = issuer.token("alice")
    fields = authorization(f"Bearer {token}", f"Bearer {token}")

    with pytest.raises(Refused) as refused:
        await authenticated_subject(authenticator, route, fields)

    assert refused.value.status == 400
    assert "one Authorization header" in refused.value.detail


async def test_two_authorization_fields_sent_in_different_cases_are_still_two(
    authenticator: Authenticator, issuer: TestIssuer, route: Route, connection: Connection
) -> None:
    exchange = connection.exchange(
        request_head(
            headers=[
                ("Authorization", f"Bearer {issuer.token('alice')}"),
                ("authorization", f"Bearer {issuer.token('mallory')}"),
            ]
        )
    )

    with pytest.raises(Refused) as refused:
        await authenticated_subject(authenticator, route, RequestFields(exchange.headers))

    assert refused.value.status == 400
