"""`Upstream.call_json`: typed decoding, retries, deadlines, pass-through errors, metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
import respx
from litestar.exceptions import HTTPException
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from service_defaults.deadlines import BUDGET_HEADER, Deadline
from service_defaults.upstream import Upstream, UpstreamError, UpstreamMetrics

SERVICE = "http://svc.test"
WIDGET_URL = f"{SERVICE}/widgets/w1"
AUTH = {"authorization": "Bearer tok"}
WIDGET = {"id": "w1", "size": 3}


class Widget(msgspec.Struct, frozen=True):
    id: str
    size: int


class NewWidget(msgspec.Struct, frozen=True):
    size: int


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=SERVICE) as client:
        yield client


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def svc(client: httpx.AsyncClient, registry: CollectorRegistry) -> Upstream:
    return Upstream("svc", client, UpstreamMetrics(registry))


async def get_widget(upstream: Upstream, deadline: Deadline | None = None) -> Widget:
    return await upstream.call_json(
        "GET", "/widgets/w1", Widget, deadline=deadline or Deadline(5.0), headers=AUTH
    )


async def post_widget(upstream: Upstream) -> Widget:
    return await upstream.call_json(
        "POST", "/widgets", Widget, deadline=Deadline(5.0), headers=AUTH, body=NewWidget(size=5)
    )


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    """One value of the /metrics text as Prometheus reads it, or None when absent."""
    text = generate_latest(registry).decode()
    values = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return values.get((name, frozenset(labels.items())))


# Decoding


async def test_ok_answer_decodes_into_the_struct(svc: Upstream, wire: respx.MockRouter) -> None:
    route = wire.get(WIDGET_URL).respond(json={**WIDGET, "extra": 1})

    widget = await svc.call_json(
        "GET", "/widgets/w1", Widget, deadline=Deadline(5.0), headers=AUTH, params={"v": 2}
    )

    assert widget == Widget(id="w1", size=3)
    sent = route.calls.last.request
    assert sent.headers["authorization"] == "Bearer tok"
    assert sent.url.params["v"] == "2"


async def test_body_is_sent_as_json(svc: Upstream, wire: respx.MockRouter) -> None:
    route = wire.post(f"{SERVICE}/widgets").respond(201, json={"id": "w2", "size": 5})

    widget = await post_widget(svc)

    assert widget == Widget(id="w2", size=5)
    sent = route.calls.last.request
    assert sent.headers["content-type"] == "application/json"
    assert sent.content == b'{"size":5}'


@pytest.mark.parametrize(
    "body",
    [b"<html>oops</html>", b'{"id": "w1"}', b'{"id": "w1", "size": "big"}', b"[]"],
    ids=["not-json", "missing-field", "wrong-type", "wrong-shape"],
)
async def test_unexpected_body_is_502(body: bytes, svc: Upstream, wire: respx.MockRouter) -> None:
    wire.get(WIDGET_URL).respond(200, content=body)

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 502


async def test_undecodable_content_encoding_is_502(svc: Upstream, wire: respx.MockRouter) -> None:
    # A stream, so that decoding happens in the client as it reads, as on a real socket.
    wire.get(WIDGET_URL).mock(
        return_value=httpx.Response(
            200, headers={"content-encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip")
        )
    )

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 502


# Retries: only idempotent methods, only when the request may not have arrived or the answer was 503


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("no connection")],
    ids=["connect-error", "connect-timeout"],
)
async def test_request_that_never_reached_the_service_is_retried_then_502(
    failure: httpx.TransportError, svc: Upstream, wire: respx.MockRouter
) -> None:
    # httpx-aiohttp reports a refused connection as a ConnectTimeout.
    route = wire.get(WIDGET_URL).mock(side_effect=failure)

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 502
    assert route.call_count == 3


async def test_503_is_retried_and_the_next_answer_is_used(
    svc: Upstream, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=WIDGET)]
    )

    widget = await get_widget(svc)

    assert widget == Widget(id="w1", size=3)
    assert route.call_count == 2


async def test_500_is_502_and_not_retried(svc: Upstream, wire: respx.MockRouter) -> None:
    route = wire.get(WIDGET_URL).respond(500, json={"detail": "internal detail"})

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 502
    assert "internal detail" not in raised.value.detail
    assert route.call_count == 1


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.Response(503)],
    ids=["connect-error", "503"],
)
async def test_post_is_never_retried(
    failure: Exception | httpx.Response, svc: Upstream, wire: respx.MockRouter
) -> None:
    route = wire.post(f"{SERVICE}/widgets").mock(side_effect=[failure, httpx.Response(201)])

    with pytest.raises(UpstreamError) as raised:
        await post_widget(svc)

    assert raised.value.status_code == 502
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (httpx.ConnectError("refused"), 502),
        (httpx.RemoteProtocolError("peer closed"), 502),
        (httpx.ConnectTimeout("no connection"), 502),
        (httpx.ReadTimeout("slow answer"), 504),
        (httpx.PoolTimeout("no free connection"), 504),
    ],
    ids=["connect-error", "protocol-error", "connect-timeout", "read-timeout", "pool-timeout"],
)
async def test_transport_failure_is_upstream_error(
    failure: httpx.TransportError, status: int, svc: Upstream, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).mock(side_effect=failure)

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == status


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("slow answer"), httpx.WriteTimeout("slow upload")],
    ids=["read-timeout", "write-timeout"],
)
async def test_timeout_is_504_and_not_retried(
    failure: httpx.TimeoutException, svc: Upstream, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).mock(side_effect=[failure, httpx.Response(200, json=WIDGET)])

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 504
    assert route.call_count == 1


# Deadlines


async def test_deadline_cuts_a_slow_answer_short_with_504(
    svc: Upstream, wire: respx.MockRouter
) -> None:
    started_requests: list[httpx.Request] = []

    async def answer_after_a_second(request: httpx.Request) -> httpx.Response:
        started_requests.append(request)
        await asyncio.sleep(1.0)
        return httpx.Response(200, json=WIDGET)

    wire.get(WIDGET_URL).mock(side_effect=answer_after_a_second)
    started = time.monotonic()

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc, Deadline(0.2))

    assert raised.value.status_code == 504
    assert time.monotonic() - started < 1.0
    assert len(started_requests) == 1  # and not retried


async def test_spent_deadline_is_504_without_a_request(
    svc: Upstream, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc, Deadline(0.0))

    assert raised.value.status_code == 504
    assert not route.called


async def test_remaining_budget_is_sent_downstream_in_milliseconds(
    svc: Upstream, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)

    await get_widget(svc, Deadline(0.75))

    budget = route.calls.last.request.headers[BUDGET_HEADER]
    assert budget.isdigit()
    assert 0 < int(budget) <= 750


# Errors that are the caller's answer too


async def test_401_passes_through_with_its_challenge(svc: Upstream, wire: respx.MockRouter) -> None:
    challenge = 'Bearer error="invalid_token"'
    wire.get(WIDGET_URL).respond(401, headers={"www-authenticate": challenge})

    with pytest.raises(HTTPException) as raised:
        await get_widget(svc)

    assert not isinstance(raised.value, UpstreamError)
    assert raised.value.status_code == 401
    assert raised.value.headers == {"WWW-Authenticate": challenge}


async def test_404_passes_through_with_the_service_detail(
    svc: Upstream, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(404, json={"status": 404, "detail": "No widget."})

    with pytest.raises(HTTPException) as raised:
        await get_widget(svc)

    assert not isinstance(raised.value, UpstreamError)
    assert raised.value.status_code == 404
    assert raised.value.detail == "No widget."
    assert route.call_count == 1


@pytest.mark.parametrize("body", [b"Not Found", b"[]", b'"gone"', b"null", b'{"detail": 4}'])
async def test_404_with_a_non_problem_body_is_still_404(
    body: bytes, svc: Upstream, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).respond(404, content=body)

    with pytest.raises(HTTPException) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 404
    assert raised.value.detail == "The request was refused."


@pytest.mark.parametrize("status", [400, 403, 409])
async def test_other_caller_errors_pass_through_with_the_service_detail(
    status: int, svc: Upstream, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).respond(status, json={"status": status, "detail": "Not like that."})

    with pytest.raises(HTTPException) as raised:
        await get_widget(svc)

    assert not isinstance(raised.value, UpstreamError)
    assert raised.value.status_code == status
    assert raised.value.detail == "Not like that."


async def test_422_passes_the_service_field_errors_through(
    svc: Upstream, wire: respx.MockRouter
) -> None:
    wire.post(f"{SERVICE}/widgets").respond(
        422,
        json={
            "status": 422,
            "detail": "size: must be at most 10",
            "errors": [{"field": "size", "message": "must be at most 10"}],
        },
    )

    with pytest.raises(HTTPException) as raised:
        await post_widget(svc)

    assert raised.value.status_code == 422
    assert raised.value.detail == "size: must be at most 10"
    assert raised.value.extra == [{"key": "size", "message": "must be at most 10"}]


@pytest.mark.parametrize("status", [405, 410, 429, 501])
async def test_other_error_status_is_502_without_the_service_detail(
    status: int, svc: Upstream, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).respond(status, json={"detail": "internal detail"})

    with pytest.raises(UpstreamError) as raised:
        await get_widget(svc)

    assert raised.value.status_code == 502
    assert "internal detail" not in raised.value.detail


# Metrics


async def test_successful_call_counts_as_ok(
    svc: Upstream, wire: respx.MockRouter, registry: CollectorRegistry
) -> None:
    wire.get(WIDGET_URL).respond(json=WIDGET)

    await get_widget(svc)
    await get_widget(svc)

    calls = "frontdoor_bff_upstream_calls_total"
    assert sample(registry, calls, upstream="svc", outcome="ok") == 2.0
    assert sample(registry, "frontdoor_bff_circuit_state", upstream="svc") == 0.0


async def test_failed_calls_are_counted_by_outcome(
    svc: Upstream, wire: respx.MockRouter, registry: CollectorRegistry
) -> None:
    wire.get(WIDGET_URL).respond(500)
    wire.get(f"{SERVICE}/widgets/w2").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(UpstreamError):
        await get_widget(svc)
    with pytest.raises(UpstreamError):
        await svc.call_json("GET", "/widgets/w2", Widget, deadline=Deadline(5.0), headers=AUTH)

    calls = "frontdoor_bff_upstream_calls_total"
    assert sample(registry, calls, upstream="svc", outcome="status_500") == 1.0
    assert sample(registry, calls, upstream="svc", outcome="timeout") == 1.0
    assert sample(registry, calls, upstream="svc", outcome="ok") is None


async def test_retries_counter_counts_the_retries_made(
    svc: Upstream, wire: respx.MockRouter, registry: CollectorRegistry
) -> None:
    route = wire.get(WIDGET_URL).mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(UpstreamError):
        await get_widget(svc)

    assert route.call_count == 3
    calls = "frontdoor_bff_upstream_calls_total"
    assert sample(registry, calls, upstream="svc", outcome="unreachable") == 3.0
    # Three attempts are two retries.
    assert sample(registry, "frontdoor_bff_upstream_retries_total", upstream="svc") == 2.0
