"""One trace per request across the five processes, exported over OTLP/HTTP to a receiver here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.topology import DEFAULT_PORTS, Topology
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.running_stack import bearer, login, relaxed_route_file, start_stack

pytestmark = pytest.mark.integration

FIVE = {"edge", "bff_web", "bff_mobile", "users", "orders"}
# The test's "load balancer": the edge trusts the trace context of 127.0.0.2 only.
TRUSTED_PROXY = "127.0.0.2"
SENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SENT_TRACEPARENT = f"00-{SENT_TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def traced(receiver: OtlpReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    state = tmp_path_factory.mktemp("traced")
    export = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{receiver.endpoint}/v1/traces",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
    }
    overrides = {name: dict(export) for name in DEFAULT_PORTS}
    overrides["edge"] |= {
        "EDGE_ROUTES_FILE": str(relaxed_route_file(Path(state))),
        "EDGE_TRUSTED_PROXIES": json.dumps([f"{TRUSTED_PROXY}/32"]),
    }
    stack, topology = start_stack(state, overrides)
    try:
        yield topology
    finally:
        stack.stop()


def _client(topology: Topology, source: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(
        base_url=topology.edge_url,
        verify=topology.certs.client_context(),
        trust_env=False,
        transport=httpx.HTTPTransport(verify=topology.certs.client_context(), local_address=source),
    )


@pytest.fixture(scope="module")
def token(traced: Topology) -> str:
    with _client(traced) as client:
        return login(client, "alice")


def _trace_of(receiver: OtlpReceiver, request_id: str, services: set[str]) -> list[ReceivedSpan]:
    """The trace whose edge span has `request_id`, once each of `services` sent its server span."""

    def trace_id(spans: list[ReceivedSpan]) -> str | None:
        return next(
            (
                s.trace_id
                for s in spans
                if s.service == "edge" and s.attributes.get("frontdoor.request_id") == request_id
            ),
            None,
        )

    def complete(spans: list[ReceivedSpan]) -> bool:
        found = trace_id(spans)
        # A process sends its server span last: it ends after every call it made.
        servers = {s.service for s in spans if s.trace_id == found and s.kind == "SERVER"}
        return found is not None and services <= servers

    spans = receiver.wait_for(complete)
    found = trace_id(spans)
    assert found is not None, f"no edge span for request {request_id}"
    return [s for s in spans if s.trace_id == found]


def _one(spans: list[ReceivedSpan], service: str, kind: str) -> ReceivedSpan:
    matching = [s for s in spans if s.service == service and s.kind == kind]
    assert len(matching) == 1, [(s.service, s.kind, s.name) for s in spans]
    return matching[0]


def _children(spans: list[ReceivedSpan], parent: ReceivedSpan) -> list[ReceivedSpan]:
    return [s for s in spans if s.parent_span_id == parent.span_id]


def test_dashboard_is_one_trace_from_edge_to_databases(
    traced: Topology, receiver: OtlpReceiver, token: str
) -> None:
    with _client(traced) as client:
        response = client.get("/api/web/dashboard", headers=bearer(token))
    assert response.status_code == 200, response.text

    spans = _trace_of(
        receiver, response.headers["x-request-id"], {"edge", "bff_web", "users", "orders"}
    )

    root = _one(spans, "edge", "SERVER")
    assert root.parent_span_id == ""
    assert root.name == "GET web"
    assert root.attributes["http.route"] == "web"
    assert root.attributes["frontdoor.auth.outcome"] == "accepted"
    assert root.attributes["frontdoor.rate_limit.decision"] == "allowed"
    assert isinstance(root.attributes["frontdoor.rate_limit.remaining"], int)
    assert root.attributes["http.response.status_code"] == 200
    [edge_call] = [s for s in _children(spans, root) if s.kind == "CLIENT"]
    bff = _one(spans, "bff_web", "SERVER")
    assert bff.parent_span_id == edge_call.span_id
    assert bff.attributes["http.route"] == "/api/web/dashboard"
    calls = [s for s in _children(spans, bff) if s.kind == "CLIENT"]
    by_upstream = {s.attributes["frontdoor.upstream"] for s in calls}
    assert by_upstream == {"users", "orders"}
    to_users = next(s for s in calls if s.attributes["frontdoor.upstream"] == "users")
    to_orders = [s for s in calls if s.attributes["frontdoor.upstream"] == "orders"]
    assert any(s.start_ns < to_users.end_ns and to_users.start_ns < s.end_ns for s in to_orders), (
        "the calls to users and orders run concurrently"
    )
    for service in ("users", "orders"):
        # (users may also answer orders' first fetch of the signing keys, in this trace too)
        servers = [s for s in spans if s.service == service and s.kind == "SERVER"]
        assert any(s.parent_span_id in {c.span_id for c in calls} for s in servers)
        database = [s for s in spans if s.service == service and "db.system" in s.attributes]
        assert database, f"{service} shows its statements"
        assert all(s.parent_span_id in {x.span_id for x in servers} for s in database)


def test_failed_section_has_an_error_span_and_the_screen_names_it(
    traced: Topology, receiver: OtlpReceiver, token: str
) -> None:
    with _client(traced) as client:
        response = client.get(
            "/api/web/dashboard", headers={**bearer(token), "X-Fault": "orders=down"}
        )
    assert response.status_code == 200 and response.json()["degraded"], response.text

    spans = _trace_of(receiver, response.headers["x-request-id"], {"edge", "bff_web", "users"})

    bff = _one(spans, "bff_web", "SERVER")
    assert set(bff.attributes["frontdoor.degraded_sections"]) == set(response.json()["degraded"])
    failed = [
        s
        for s in spans
        if s.kind == "CLIENT" and s.attributes.get("frontdoor.upstream") == "orders"
    ]
    assert failed and all(s.status == "STATUS_CODE_ERROR" for s in failed)


def test_untrusted_traceparent_starts_a_new_trace_linked_to_it(
    traced: Topology, receiver: OtlpReceiver, token: str
) -> None:
    with _client(traced) as client:
        response = client.get(
            "/api/web/dashboard",
            headers={**bearer(token), "traceparent": SENT_TRACEPARENT, "tracestate": "x=1"},
        )
    assert response.status_code == 200

    spans = _trace_of(receiver, response.headers["x-request-id"], {"edge", "bff_web"})

    root = _one(spans, "edge", "SERVER")
    assert root.trace_id != SENT_TRACE_ID
    assert root.parent_span_id == ""
    assert {"trace_id": SENT_TRACE_ID, "span_id": "00f067aa0ba902b7"} in root.links
    assert all(s.trace_state == "" for s in spans)


def test_trusted_proxy_continues_its_trace_and_tracestate_reaches_the_services(
    traced: Topology, receiver: OtlpReceiver, token: str
) -> None:
    with _client(traced, source=TRUSTED_PROXY) as client:
        response = client.get(
            "/api/web/dashboard",
            headers={**bearer(token), "traceparent": SENT_TRACEPARENT, "tracestate": "lb=7"},
        )
    assert response.status_code == 200

    spans = _trace_of(receiver, response.headers["x-request-id"], {"edge", "bff_web", "orders"})

    root = _one(spans, "edge", "SERVER")
    assert root.trace_id == SENT_TRACE_ID
    assert root.parent_span_id == "00f067aa0ba902b7"
    orders = [s for s in spans if s.service == "orders" and s.kind == "SERVER"]
    assert orders and all(s.trace_state == "lb=7" for s in orders)


def test_refused_request_is_traced_with_its_auth_outcome(
    traced: Topology, receiver: OtlpReceiver
) -> None:
    with _client(traced) as client:
        response = client.get("/api/web/dashboard", headers=bearer("not-a-token"))
    assert response.status_code == 401

    [root] = _trace_of(receiver, response.headers["x-request-id"], {"edge"})

    assert root.attributes["frontdoor.auth.outcome"] == "rejected"
    assert root.attributes["http.response.status_code"] == 401


def test_mobile_etag_hit_is_named_on_its_span(
    traced: Topology, receiver: OtlpReceiver, token: str
) -> None:
    with _client(traced) as client:
        first = client.get("/api/mobile/home", headers=bearer(token))
        again = client.get(
            "/api/mobile/home", headers={**bearer(token), "If-None-Match": first.headers["etag"]}
        )
    assert again.status_code == 304

    spans = _trace_of(receiver, again.headers["x-request-id"], {"edge", "bff_mobile"})

    assert _one(spans, "bff_mobile", "SERVER").attributes["frontdoor.cache"] == "not_modified"


def test_no_span_holds_the_token_or_a_query_value(
    traced: Topology, receiver: OtlpReceiver, token: str
) -> None:
    with _client(traced) as client:
        response = client.get("/api/web/orders?limit=2&note=s3cret-in-a-url", headers=bearer(token))
    assert response.status_code == 200, response.text

    spans = _trace_of(receiver, response.headers["x-request-id"], {"edge", "bff_web", "orders"})

    values = [str(value) for span in spans for value in span.attributes.values()]
    assert not [v for v in values if token in v or "s3cret" in v or "Bearer" in v]
    assert _one(spans, "edge", "SERVER").attributes["url.query"] == "limit=*&note=*"
