"""Which headers cross the edge: hop-by-hop dropped, forwarding headers the edge's own."""

from __future__ import annotations

from edge.headers import HeaderPolicy, Headers, response_headers
from edge.request_fields import RequestFields


def values(headers: Headers, name: bytes) -> list[bytes]:
    return [value for key, value in headers if key.lower() == name]


def names(headers: Headers) -> set[bytes]:
    return {key.lower() for key, _ in headers}


POLICY = HeaderPolicy(["X-User-Id", " x-auth-* "])


def forward(inbound: Headers, policy: HeaderPolicy = POLICY) -> Headers:
    # The server hands the edge lower-case names; the policy still compares any case.
    fields = RequestFields([(name.lower(), value) for name, value in inbound])
    return policy.outbound(
        inbound,
        fields,
        forwarded_for="203.0.113.7",
        request_id="rid-1",
        budget_ms=1500,
        content_length=None,
    )


def test_end_to_end_headers_pass_through_unchanged() -> None:
    inbound = [
        (b"authorization", b"Bearer tok"),
        (b"accept", b"application/json"),
        (b"content-type", b"application/json"),
        (b"cookie", b"a=1"),
    ]

    assert forward(inbound)[: len(inbound)] == inbound


def test_hop_by_hop_headers_are_removed_in_any_case() -> None:
    inbound = [
        (b"Connection", b"keep-alive"),
        (b"Keep-Alive", b"timeout=5"),
        (b"TE", b"trailers"),
        (b"Trailer", b"x-checksum"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Upgrade", b"websocket"),
        (b"Proxy-Authorization", b"Basic cHJveHk6cHc="),
        (b"Proxy-Connection", b"keep-alive"),
        (b"accept", b"*/*"),
    ]

    forwarded = names(forward(inbound))

    assert forwarded.isdisjoint(
        {
            b"connection",
            b"keep-alive",
            b"te",
            b"trailer",
            b"transfer-encoding",
            b"upgrade",
            b"proxy-authorization",
            b"proxy-connection",
        }
    )
    assert b"accept" in forwarded


def test_headers_named_in_connection_are_removed_in_any_case() -> None:
    inbound = [
        (b"connection", b"close, X-Internal-Debug ,x-other"),
        (b"X-INTERNAL-DEBUG", b"1"),
        (b"X-Other", b"2"),
        (b"x-kept", b"3"),
    ]

    forwarded = forward(inbound)

    assert names(forwarded).isdisjoint({b"x-internal-debug", b"x-other"})
    assert values(forwarded, b"x-kept") == [b"3"]


def test_client_forwarding_headers_are_replaced_by_the_edges_values() -> None:
    inbound = [
        (b"Host", b"shop.example"),
        (b"X-Forwarded-For", b"10.0.0.1"),
        (b"x-forwarded-for", b"10.0.0.2"),
        (b"X-Forwarded-Host", b"evil.example"),
        (b"X-Forwarded-Proto", b"http"),
        (b"X-Forwarded-Port", b"1"),
        (b"X-Real-IP", b"10.0.0.3"),
        (b"Forwarded", b"for=10.0.0.1;host=evil.example"),
        (b"X-Request-Id", b"client-chosen"),
    ]

    forwarded = forward(inbound)

    assert values(forwarded, b"x-forwarded-for") == [b"203.0.113.7"]
    assert values(forwarded, b"x-forwarded-host") == [b"shop.example"]
    assert values(forwarded, b"x-forwarded-proto") == [b"https"]
    assert values(forwarded, b"x-request-id") == [b"rid-1"]
    assert names(forwarded).isdisjoint({b"forwarded", b"x-forwarded-port", b"x-real-ip"})


def test_client_host_and_content_length_are_left_to_the_upstream_client() -> None:
    forwarded = forward([(b"Host", b"shop.example"), (b"Content-Length", b"12")])

    assert names(forwarded).isdisjoint({b"host", b"content-length"})


def test_identity_headers_a_client_could_forge_are_stripped_exactly_or_by_prefix() -> None:
    inbound = [
        (b"X-USER-ID", b"admin"),
        (b"X-Auth-Subject", b"admin"),
        (b"x-auth-roles", b"root"),
        (b"x-user-idx", b"kept"),
        (b"x-authx", b"kept"),
    ]

    forwarded = names(forward(inbound))

    assert forwarded.isdisjoint({b"x-user-id", b"x-auth-subject", b"x-auth-roles"})
    assert {b"x-user-idx", b"x-authx"} <= forwarded


def test_response_drops_headers_the_edge_writes_itself_and_hop_by_hop_ones() -> None:
    upstream = [
        (b"Date", b"Sun, 22 Nov 2026 00:00:00 GMT"),
        (b"Server", b"uvicorn"),
        (b"x-request-id", b"rid-1"),
        (b"Strict-Transport-Security", b"max-age=1"),
        (b"Connection", b"keep-alive, X-Upstream-Secret"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Transfer-Encoding", b"chunked"),
        (b"x-upstream-secret", b"s3cret"),
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]

    kept, length = response_headers(upstream)

    assert kept == [
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]
    assert length is None


def test_the_answer_gives_the_length_the_upstream_gave() -> None:
    _, length = response_headers([(b"Content-Length", b"5"), (b"content-type", b"text/plain")])
    _, named_hop_by_hop = response_headers(
        [(b"Connection", b"content-length"), (b"Content-Length", b"5")]
    )

    assert length == 5
    assert named_hop_by_hop is None, "a length the upstream named hop-by-hop is not passed on"


def test_a_header_with_an_underscore_is_dropped() -> None:
    sent = forward([(b"x_user_id", b"admin"), (b"x-harmless", b"kept")])

    assert b"x_user_id" not in names(sent)
    assert values(sent, b"x-harmless") == [b"kept"]


def test_headers_the_edge_sets_are_never_the_clients_even_with_no_stripped_list() -> None:
    inbound = [(b"x-request-budget-ms", b"999999"), (b"x-request-id", b"forged")]

    sent = forward(inbound, HeaderPolicy([]))

    assert values(sent, b"x-request-budget-ms") == [b"1500"]
    assert values(sent, b"x-request-id") == [b"rid-1"]
