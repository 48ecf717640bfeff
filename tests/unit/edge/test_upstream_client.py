"""The upstream client against a scripted HTTP/1.1 server, over real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from edge.upstream_client import (
    UpstreamClient,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tests.unit.edge.scripted_upstream import CLOSE, Pause, ScriptedUpstream, ok, refused_origin

Headers = list[tuple[bytes, bytes]]
NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"


async def read(response: UpstreamResponse) -> bytes:
    try:
        return b"".join([chunk async for chunk in response.chunks()])
    finally:
        response.release()


async def fetch(
    client: UpstreamClient,
    upstream: ScriptedUpstream,
    method: str = "GET",
    target: bytes = b"/",
    headers: Headers | None = None,
    body: bytes | AsyncIterator[bytes] | None = None,
    timeout_s: float = 2.0,
) -> tuple[UpstreamResponse, bytes]:
    response = await client.request(
        upstream.origin, method, target, headers or [], body, timeout_s=timeout_s
    )
    return response, await read(response)


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def eventually(condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def closed_by_client(upstream: ScriptedUpstream, index: int = 0) -> bool:
    try:
        await asyncio.wait_for(upstream.connections[index].closed_by_client.wait(), 2.0)
    except TimeoutError:
        return False
    return True


# Keep-alive and framing of answers


async def test_sequential_requests_share_one_connection(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok(b"one"))
    upstream.answer(ok(b"two"))

    bodies = [(await fetch(client, upstream))[1] for _ in range(2)]

    assert bodies == [b"one", b"two"]
    assert len(upstream.connections) == 1
    assert len(upstream.connections[0].requests) == 2


async def test_content_length_body_arriving_in_parts_is_read_whole(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    whole = ok(b"0123456789" * 1000)
    upstream.answer(whole[:50], Pause(0.02), whole[50:5000], Pause(0.02), whole[5000:])

    response, body = await fetch(client, upstream)

    assert response.status == 200
    assert body == b"0123456789" * 1000


async def test_chunked_body_is_dechunked_without_its_trailers(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-checksum\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-checksum: 1\r\n\r\n"
    )
    upstream.answer(ok(b"next"))

    response, body = await fetch(client, upstream)
    _, after = await fetch(client, upstream)

    assert body == b"hello world"
    assert (b"x-checksum", b"1") not in response.headers
    assert after == b"next"
    assert len(upstream.connections) == 1


async def test_body_without_length_is_read_to_the_close_and_not_reused(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(b"HTTP/1.1 200 OK\r\n\r\nall of it, ", Pause(0.02), b"until the end", CLOSE)
    upstream.answer(ok(b"next"))

    _, body = await fetch(client, upstream)
    _, after = await fetch(client, upstream)

    assert body == b"all of it, until the end"
    assert after == b"next"
    assert len(upstream.connections) == 2


async def test_connection_close_answer_is_read_and_the_connection_closed(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok(b"bye", b"Connection: close"))
    upstream.answer(ok(b"next"))

    _, body = await fetch(client, upstream)
    _, after = await fetch(client, upstream)

    assert (body, after) == (b"bye", b"next")
    assert len(upstream.connections) == 2
    assert await closed_by_client(upstream, 0)


@pytest.mark.parametrize(
    ("answer", "connections"),
    [
        (b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok", 2),
        (b"HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok", 1),
    ],
    ids=["plain", "keep-alive"],
)
async def test_http_1_0_answer_is_reused_only_with_keep_alive(
    client: UpstreamClient, upstream: ScriptedUpstream, answer: bytes, connections: int
) -> None:
    upstream.answer(answer)
    upstream.answer(ok(b"next"))

    _, body = await fetch(client, upstream)
    _, after = await fetch(client, upstream)

    assert (body, after) == (b"ok", b"next")
    assert len(upstream.connections) == connections


async def test_head_answer_has_no_body_and_the_connection_is_reused(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(b"HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n")
    upstream.answer(ok(b"next"))

    response, body = await fetch(client, upstream, "HEAD")
    _, after = await fetch(client, upstream)

    assert body == b""
    assert (b"content-length", b"1234") in response.headers
    assert after == b"next"
    assert len(upstream.connections) == 1


@pytest.mark.parametrize(
    "answer",
    [NO_CONTENT, b'HTTP/1.1 304 Not Modified\r\ncontent-length: 99\r\netag: "v1"\r\n\r\n'],
    ids=["204", "304"],
)
async def test_no_content_and_not_modified_have_no_body_and_keep_the_connection(
    client: UpstreamClient, upstream: ScriptedUpstream, answer: bytes
) -> None:
    upstream.answer(answer)
    upstream.answer(ok(b"next"))

    _, body = await fetch(client, upstream)
    _, after = await fetch(client, upstream)

    assert (body, after) == (b"", b"next")
    assert len(upstream.connections) == 1


async def test_informational_answers_are_skipped_for_the_final_one(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(
        b"HTTP/1.1 100 Continue\r\n\r\n",
        Pause(0.02),
        b"HTTP/1.1 103 Early Hints\r\nlink: </app.css>; rel=preload\r\n\r\n" + ok(b"final"),
    )
    upstream.answer(ok(b"next"))

    response, body = await fetch(client, upstream)
    _, after = await fetch(client, upstream)

    assert (response.status, body) == (200, b"final")
    assert all(name != b"link" for name, _ in response.headers)
    assert after == b"next"
    assert len(upstream.connections) == 1


async def test_header_names_keep_their_case_and_repeats(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(
        b"HTTP/1.1 201 Created\r\nX-MiXeD-Case: a\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        b"content-length: 0\r\n\r\n"
    )

    response, _ = await fetch(client, upstream)

    assert response.status == 201
    assert response.headers == [
        (b"X-MiXeD-Case", b"a"),
        (b"Set-Cookie", b"a=1"),
        (b"Set-Cookie", b"b=2"),
        (b"content-length", b"0"),
    ]


async def test_bytes_after_the_answer_make_the_connection_unusable(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok(b"one") + NO_CONTENT)
    upstream.answer(ok(b"two"))

    response, body = await fetch(client, upstream)
    _, after = await fetch(client, upstream)

    assert (response.status, body, after) == (200, b"one", b"two")
    assert len(upstream.connections) == 2


async def test_bytes_on_an_idle_connection_close_it(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok(b"one"), Pause(0.05), b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    upstream.answer(ok(b"two"))

    await fetch(client, upstream)
    assert await closed_by_client(upstream, 0)
    _, after = await fetch(client, upstream)

    assert after == b"two"
    assert len(upstream.connections) == 2


# The request as sent


async def test_request_head_is_sent_as_given_with_host_added(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok())
    headers = [(b"X-Odd-Case", b"1"), (b"accept", b"*/*"), (b"accept", b"text/html")]

    await fetch(client, upstream, target=b"/a/%2e/b?q=%20x&y", headers=headers)

    assert bytes(upstream.connections[0].raw) == (
        b"GET /a/%2e/b?q=%20x&y HTTP/1.1\r\nX-Odd-Case: 1\r\naccept: */*\r\n"
        b"accept: text/html\r\nhost: 127.0.0.1:" + str(upstream.port).encode() + b"\r\n\r\n"
    )


async def test_given_host_is_sent_instead_of_the_origin(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok())

    await fetch(client, upstream, headers=[(b"Host", b"orders.internal")])

    assert upstream.requests[0].headers == [(b"Host", b"orders.internal")]


@pytest.mark.parametrize(
    ("target", "headers"),
    [
        (b"/", [(b"x-a", b"1\r\nx-injected: 1")]),
        (b"/", [(b"x-a", b"1\nx-injected: 1")]),
        (b"/", [(b"x-a", b"1\rx-injected: 1")]),
        (b"/a HTTP/1.1\r\nhost: x\r\n\r\nGET /b", []),
    ],
    ids=["crlf-in-value", "lf-in-value", "cr-in-value", "crlf-in-target"],
)
async def test_line_breaks_in_the_head_are_refused_unsent(
    client: UpstreamClient, upstream: ScriptedUpstream, target: bytes, headers: Headers
) -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        await client.request(upstream.origin, "GET", target, headers, None, timeout_s=1)

    assert upstream.connections == []


async def test_bytes_body_is_sent_with_its_content_length(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok())
    upstream.answer(ok())
    given = [(b"content-type", b"text/plain"), (b"content-length", b"5")]

    await fetch(client, upstream, "POST", headers=given, body=b"hello")
    await fetch(client, upstream, "POST", headers=[], body=b"world")

    first, second = upstream.requests
    assert (first.headers[:2], first.body) == (given, b"hello")
    assert ((b"content-length", b"5"), second.body) == (second.headers[-1], b"world")


async def test_streamed_body_without_length_is_sent_chunked(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok())
    upstream.answer(ok(b"next"))

    await fetch(client, upstream, "POST", body=stream(b"ab", b"", b"cde"))
    _, after = await fetch(client, upstream)

    raw = bytes(upstream.connections[0].raw)
    assert b"\r\ntransfer-encoding: chunked\r\n" in raw
    assert b"\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n" in raw
    assert upstream.requests[0].body == b"abcde"
    assert after == b"next"
    assert len(upstream.connections) == 1


async def test_streamed_body_with_length_is_sent_as_it_comes(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok())

    await fetch(
        client, upstream, "PUT", headers=[(b"content-length", b"5")], body=stream(b"ab", b"cde")
    )

    raw = bytes(upstream.connections[0].raw)
    assert raw.endswith(b"content-length: 5\r\nhost: 127.0.0.1:%d\r\n\r\nabcde" % upstream.port)
    assert b"transfer-encoding" not in raw


async def test_streamed_body_longer_than_its_length_is_refused(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    with pytest.raises(ValueError, match="longer than its content-length"):
        await client.request(
            upstream.origin,
            "PUT",
            b"/",
            [(b"content-length", b"3")],
            stream(b"ab", b"cd"),
            timeout_s=1,
        )

    assert await closed_by_client(upstream, 0)


async def test_large_streamed_body_waits_for_the_upstream_to_read(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    chunk, count = b"x" * 65536, 512  # 32 MiB
    pulled = 0

    async def large() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(count):
            pulled += len(chunk)
            yield chunk

    upstream.answer(ok(b"stored"))
    upstream.hold_reading()
    request = asyncio.ensure_future(fetch(client, upstream, "POST", body=large()))
    await asyncio.sleep(0.3)
    # Socket buffers take a few MiB; the rest waits in the source, not in memory.
    held = pulled
    upstream.resume_reading()
    _, body = await request

    assert held < 16 * 1024 * 1024
    assert body == b"stored"
    assert len(upstream.requests[0].body) == count * len(chunk)


async def test_large_answer_waits_for_the_reader(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    size = 32 * 1024 * 1024
    upstream.answer(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % size + b"y" * size)

    response = await client.request(upstream.origin, "GET", b"/", [], None, timeout_s=2)
    await asyncio.sleep(0.3)
    transport = upstream.connections[0].transport
    assert transport is not None
    # The client stopped reading: most of the answer is still on the server's side.
    unsent = transport.get_write_buffer_size()
    body = await read(response)

    assert unsent > 16 * 1024 * 1024
    assert len(body) == size


# Connections the upstream closes


async def test_idle_connection_closed_by_the_upstream_is_not_handed_out(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok(b"one"), Pause(0.05), CLOSE)
    upstream.answer(ok(b"two"))

    await fetch(client, upstream)
    await eventually(lambda: len(upstream.connections) == 1 and upstream.connections[0].ended)
    await asyncio.sleep(0.05)
    # A streamed body is never sent twice: this succeeds only on a live connection.
    _, after = await fetch(client, upstream, "POST", body=stream(b"data"))

    assert after == b"two"
    assert len(upstream.connections) == 2
    assert upstream.connections[1].requests[0].body == b"data"


async def test_reused_connection_closed_as_the_request_goes_out_is_retried_once(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok(b"one"))
    upstream.answer(CLOSE)  # reads the request, answers nothing
    upstream.answer(ok(b"two"))

    await fetch(client, upstream)
    response, body = await fetch(client, upstream, "POST", body=b"again")

    assert (response.status, body) == (200, b"two")
    assert [len(c.requests) for c in upstream.connections] == [2, 1]
    assert upstream.connections[1].requests[0].body == b"again"


async def test_streamed_body_on_a_reused_connection_that_closes_is_not_retried(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok(b"one"))
    upstream.answer(CLOSE)

    await fetch(client, upstream)
    with pytest.raises(UpstreamUnavailable):
        await fetch(client, upstream, "POST", body=stream(b"once"))

    assert len(upstream.connections) == 1


async def test_fresh_connection_closed_before_answering_is_not_retried(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(CLOSE)

    with pytest.raises(UpstreamUnavailable):
        await fetch(client, upstream)

    assert len(upstream.requests) == 1


async def test_closed_after_part_of_the_answer_is_not_retried(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok(b"one"))
    upstream.answer(b"HTTP/1.1 200 OK\r\ncontent-", CLOSE)

    await fetch(client, upstream)
    with pytest.raises(UpstreamUnavailable):
        await fetch(client, upstream)

    assert len(upstream.connections) == 1


async def test_body_cut_short_raises_from_the_chunks(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", Pause(0.02), CLOSE)
    response = await client.request(upstream.origin, "GET", b"/", [], None, timeout_s=2)
    received: list[bytes] = []

    with pytest.raises(UpstreamUnavailable):
        async for chunk in response.chunks():
            received.append(chunk)
    response.release()

    assert (response.status, received) == (200, [b"abc"])


@pytest.mark.parametrize(
    "answer",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\nconnection: upgrade\r\n\r\n",
    ],
    ids=["not-http", "two-lengths", "bad-chunk", "upgrade"],
)
async def test_malformed_answer_is_unavailable_and_the_connection_closed(
    client: UpstreamClient, upstream: ScriptedUpstream, answer: bytes
) -> None:
    upstream.answer(answer)

    with pytest.raises(UpstreamUnavailable):
        await fetch(client, upstream)

    assert await closed_by_client(upstream, 0)


# Timeouts, refusals and the pool


async def test_answer_that_never_comes_times_out(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer()  # silence
    started = time.monotonic()

    with pytest.raises(UpstreamTimeout):
        await fetch(client, upstream, timeout_s=0.2)

    assert 0.2 <= time.monotonic() - started < 1.0
    assert await closed_by_client(upstream, 0)


async def test_body_that_stalls_times_out_from_the_chunks(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
    response = await client.request(upstream.origin, "GET", b"/", [], None, timeout_s=0.2)

    with pytest.raises(UpstreamTimeout):
        await read(response)

    assert await closed_by_client(upstream, 0)


async def test_body_that_keeps_flowing_outlasts_the_timeout(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    parts = [b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n"]
    upstream.answer(parts[0], *[step for _ in range(6) for step in (Pause(0.05), b"x")])

    _, body = await fetch(client, upstream, timeout_s=0.15)

    assert body == b"xxxxxx"


async def test_each_wait_times_out_on_its_own_deadline(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer()  # silence for both
    upstream.answer()
    started = time.monotonic()
    patient = asyncio.ensure_future(fetch(client, upstream, timeout_s=0.6))
    await eventually(lambda: len(upstream.requests) == 1)

    with pytest.raises(UpstreamTimeout):
        await fetch(client, upstream, timeout_s=0.1)
    hasty_s = time.monotonic() - started
    with pytest.raises(UpstreamTimeout):
        await patient
    patient_s = time.monotonic() - started

    assert hasty_s < 0.5
    assert 0.6 <= patient_s < 1.5


async def test_refused_port_is_unavailable(client: UpstreamClient) -> None:
    with pytest.raises(UpstreamUnavailable):
        await client.request(refused_origin(), "GET", b"/", [], None, timeout_s=1)


async def test_https_origin_is_refused(client: UpstreamClient) -> None:
    with pytest.raises(ValueError, match="plain http"):
        await client.request("https://127.0.0.1:1", "GET", b"/", [], None, timeout_s=1)


async def test_release_before_the_body_is_read_closes_the_connection(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\nten bytes.")
    upstream.answer(ok(b"next"))

    response = await client.request(upstream.origin, "GET", b"/", [], None, timeout_s=2)
    response.release()
    response.release()
    _, after = await fetch(client, upstream)

    assert after == b"next"
    assert len(upstream.connections) == 2
    assert await closed_by_client(upstream, 0)


async def test_unread_body_is_not_pooled_even_when_it_arrived_whole(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok(b"never read"))
    upstream.answer(ok(b"next"))

    response = await client.request(upstream.origin, "GET", b"/", [], None, timeout_s=2)
    response.release()
    _, after = await fetch(client, upstream)

    assert after == b"next"
    assert len(upstream.connections) == 2


async def test_cancelled_request_leaves_no_connection_in_the_pool(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer()  # silence: the request waits for its answer
    waiting = asyncio.ensure_future(fetch(client, upstream))
    await eventually(lambda: len(upstream.requests) == 1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    upstream.answer(ok(b"after"))

    _, after = await fetch(client, upstream)

    assert after == b"after"
    assert len(upstream.connections) == 2
    assert await closed_by_client(upstream, 0)


async def test_cancelled_body_read_leaves_no_connection_in_the_pool(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
    response = await client.request(upstream.origin, "GET", b"/", [], None, timeout_s=2)

    async def read_without_release() -> None:
        async for _ in response.chunks():
            pass

    reading = asyncio.ensure_future(read_without_release())
    await asyncio.sleep(0.02)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    upstream.answer(ok(b"after"))

    _, after = await fetch(client, upstream)

    assert after == b"after"
    assert len(upstream.connections) == 2
    # Closed by the iterator itself, before any release().
    assert await closed_by_client(upstream, 0)
    response.release()


async def test_idle_connection_past_the_idle_timeout_is_not_reused(
    upstream: ScriptedUpstream,
) -> None:
    client = UpstreamClient(idle_timeout_s=0.05)
    upstream.answer(ok(b"one"))
    upstream.answer(ok(b"two"))
    try:
        await fetch(client, upstream)
        await asyncio.sleep(0.1)
        _, after = await fetch(client, upstream)
    finally:
        await client.close()

    assert after == b"two"
    assert len(upstream.connections) == 2
    assert await closed_by_client(upstream, 0)


async def test_request_over_a_full_pool_waits_for_a_free_connection(
    upstream: ScriptedUpstream,
) -> None:
    client = UpstreamClient(max_connections_per_origin=1)
    upstream.answer(Pause(0.05), ok(b"one"))
    upstream.answer(ok(b"two"))
    try:
        results = await asyncio.gather(fetch(client, upstream), fetch(client, upstream))
    finally:
        await client.close()

    assert sorted(body for _, body in results) == [b"one", b"two"]
    assert len(upstream.connections) == 1


async def test_wait_for_a_free_connection_is_bounded_by_the_timeout(
    upstream: ScriptedUpstream,
) -> None:
    client = UpstreamClient(max_connections_per_origin=1)
    upstream.answer(ok(b"held"))
    upstream.answer(ok(b"after"))
    try:
        held = await client.request(upstream.origin, "GET", b"/", [], None, timeout_s=2)
        with pytest.raises(UpstreamTimeout):
            await fetch(client, upstream, timeout_s=0.1)
        assert await read(held) == b"held"
        _, after = await fetch(client, upstream)
    finally:
        await client.close()

    assert after == b"after"
    assert len(upstream.connections) == 1


async def test_close_closes_every_connection(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok())
    await fetch(client, upstream)

    await client.close()

    assert await closed_by_client(upstream, 0)
    with pytest.raises(UpstreamUnavailable):
        await fetch(client, upstream)


async def test_close_fails_requests_under_way_without_opening_more(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer(ok(b"one"))
    upstream.answer()  # silence: the second request waits
    await fetch(client, upstream)
    waiting = asyncio.ensure_future(fetch(client, upstream))
    await eventually(lambda: len(upstream.requests) == 2)

    await client.close()

    with pytest.raises(UpstreamUnavailable):
        await waiting
    assert len(upstream.connections) == 1
