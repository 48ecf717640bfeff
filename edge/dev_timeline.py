"""Dev mode's `/_dev/requests` pages: recent requests, and one request's spans across the processes.

    browser -> edge (these pages) -> TraceStoreClient -> the dev stack's trace store

The store holds what every process exported (`python -m devstack.trace_store`);
these pages only read it. Span text is client-controlled (paths, headers), so
every value is escaped, and the pages allow no script at all.
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Awaitable, Sequence
from typing import Annotated, Literal, TypeVar
from urllib.parse import quote

import msgspec
from litestar import MediaType, Response, Router, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException, HTTPException, NotFoundException
from litestar.params import FromPath, QueryParameter

from edge.trace_store_client import (
    RequestSummary,
    RequestTrace,
    Span,
    TraceStoreBadAnswer,
    TraceStoreClient,
    TraceStoreDown,
)
from service_defaults.request_context import WELL_FORMED_ID

T = TypeVar("T")
DEV_TIMELINE_PATH = "/_dev/requests"
# No script may run, whatever a span held; the one stylesheet is inline.
PAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
}


def is_dev_timeline_path(path: str) -> bool:
    return path == DEV_TIMELINE_PATH or path.startswith(f"{DEV_TIMELINE_PATH}/")


def create_dev_timeline_routes(trace_store: Provide) -> Router:
    """The pages under `/_dev/requests`; `trace_store` provides the `TraceStoreClient`."""
    return Router(
        DEV_TIMELINE_PATH,
        route_handlers=[index_page, request_page],
        dependencies={"trace_store": trace_store},
        include_in_schema=False,
    )


Store = NamedDependency[TraceStoreClient]
Format = Annotated[Literal["html", "json"], QueryParameter(name="format")]


@get("/")
async def index_page(
    trace_store: Store,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    output: Format = "html",
) -> Response[bytes]:
    # The timeline's own page views are traced too: not what anyone came to see.
    summaries = [
        summary
        for summary in await _asking(trace_store.recent_requests(min(limit * 2, 1000)))
        if not is_dev_timeline_path(summary.path) and not is_dev_timeline_path(summary.route)
    ][:limit]
    if output == "json":
        return Response(msgspec.json.encode(summaries), media_type=MediaType.JSON)
    return _page(render_index(summaries))


@get("/{request_id:str}")
async def request_page(
    request_id: FromPath[str], trace_store: Store, output: Format = "html"
) -> Response[bytes]:
    if not WELL_FORMED_ID.fullmatch(request_id.encode("utf-8", "surrogateescape")):
        raise ClientException(
            status_code=400,
            detail="A request id is 1 to 128 letters, digits, '.', '_', ':' or '-'.",
        )
    found = await _asking(trace_store.request_trace(request_id))
    if output == "json":
        if found is None:
            raise NotFoundException(detail=f"The trace store holds no request {request_id}.")
        return Response(msgspec.json.encode(found), media_type=MediaType.JSON)
    if found is None:
        return _page(render_not_found(request_id), status_code=404)
    return _page(render_request(found))


async def _asking(call: Awaitable[T]) -> T:
    try:
        return await call
    except TraceStoreDown:
        raise HTTPException(
            status_code=503,
            detail="The trace store is not running: `make run` starts it with the stack.",
        ) from None
    except TraceStoreBadAnswer:
        raise HTTPException(
            status_code=502, detail="The trace store answered something unreadable."
        ) from None


def _page(body: str, status_code: int = 200) -> Response[bytes]:
    return Response(
        body.encode(), status_code=status_code, media_type=MediaType.HTML, headers=PAGE_HEADERS
    )


# ---------------------------------------------------------------------------
# The pages: plain HTML strings, every value that came from a span through `_e`.

CSS = (
    ":root{--line:#dde1e7;--muted:#5d6675;--ok:#1f7a3d;--warn:#9a5b00;--bad:#b3261e}"
    "*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,sans-serif;"
    "color:#1d2330;background:#f7f8fa}header{padding:.6rem 1.2rem;background:#fff;"
    "border-bottom:1px solid var(--line)}main{padding:1rem 1.2rem;max-width:90rem}"
    "h1{font-size:1.2rem}a{color:#1b4fd1}.muted,.kind,th{color:var(--muted)}"
    "code{font:12px/1.4 ui-monospace,monospace;overflow-wrap:anywhere}"
    "table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;"
    "padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}"
    "tr.error td:first-child{box-shadow:inset 3px 0 var(--bad)}.ms{text-align:right}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dd{margin:0}"
    ".note{background:#fff6df;border:1px solid #f0d48a;padding:.5rem .8rem}"
    ".chip,.svc{padding:0 .4rem;border-radius:3px;color:#fff;font-size:12px}"
    ".badge{display:inline-block;margin:0 .2rem .1rem 0;padding:0 .35rem;font-size:12px;"
    "border:1px solid var(--line);border-radius:3px;background:#fff}.ok{color:var(--ok)}"
    ".warn{color:var(--warn);border-color:#e7c27a}.badge.bad{color:#fff;background:var(--bad)}"
    "ol{list-style:none;margin:0;padding:0;background:#fff;border:1px solid var(--line)}"
    ".row{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,4fr) 5.5rem;gap:.6rem;"
    "padding:.25rem .5rem;border-bottom:1px solid var(--line)}.failed{background:#fdf0ef}"
    ".what{overflow-wrap:anywhere}.name{font-weight:600}.kind{font-size:11px}"
    ".track{position:relative;height:1rem;margin-top:.15rem;background:#f0f2f5}"
    ".bar{position:absolute;top:0;bottom:0;min-width:2px;border-radius:2px}"
    "summary{cursor:pointer}details table{margin:.3rem 0;font-size:12px}"
    "pre{white-space:pre-wrap;margin:0}"
    + "".join(
        f".s{i} .svc,.s{i} .bar,.chip.s{i}{{background:{colour}}}"
        for i, colour in enumerate(
            ["#3b6fd8", "#2f9e6b", "#c2621b", "#8b4fc8", "#c23b6b", "#1f8fa3", "#7a7d2a", "#5b6475"]
        )
    )
)
PALETTE_SIZE = 8


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return msgspec.json.encode(value).decode()


def _e(value: object) -> str:
    return html.escape(_text(value), quote=True)


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f'<header><a href="{DEV_TIMELINE_PATH}">Recent requests</a>'
        ' <span class="muted">Frontdoor dev timeline</span></header>'
        f"<main>{body}</main></body></html>"
    )


def _href(request_id: str) -> str:
    return _e(f"{DEV_TIMELINE_PATH}/{quote(request_id, safe='')}")


def _utc(unix_nano: int) -> str:
    try:
        moment = datetime.datetime.fromtimestamp(unix_nano / 1e9, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return str(unix_nano)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} UTC"


def _ms(span: Span) -> str:
    return f"{(span.end_unix_nano - span.start_unix_nano) / 1e6:.1f} ms"


def _http_status(attributes: dict[str, object]) -> int | None:
    status = attributes.get("http.response.status_code", attributes.get("http.status_code"))
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def _status_badge(status: int | None) -> str:
    if status is None:
        return _badge("?")
    return _badge(status, "bad" if status >= 500 else "warn" if status >= 400 else "ok")


def _badge(text: object, tone: str = "") -> str:
    return f'<span class="badge {tone}">{_e(text)}</span>'


def render_index(summaries: Sequence[RequestSummary]) -> str:
    if not summaries:
        return _document(
            "Recent requests",
            "<h1>Recent requests</h1><p>None yet. Each process sends its spans a moment "
            f'after the response: <a href="{DEV_TIMELINE_PATH}">reload</a>.</p>',
        )
    rows = "".join(
        f'<tr class="{"error" if s.error else ""}"><td>{_e(_utc(s.start_unix_nano))}</td>'
        f"<td>{_e(s.method)}</td><td><code>{_e(s.path or s.route or s.name)}</code></td>"
        f'<td>{_status_badge(s.status)}</td><td class="ms">{s.duration_ms:.1f} ms</td>'
        f'<td>{_e(s.services)}</td><td><a href="{_href(s.request_id)}">'
        f"<code>{_e(s.request_id)}</code></a></td></tr>"
        for s in summaries
    )
    return _document(
        "Recent requests",
        "<h1>Recent requests</h1><table><thead><tr><th>Started</th><th>Method</th><th>Path</th>"
        "<th>Status</th><th>Duration</th><th>Processes</th><th>Request id</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>",
    )


def render_not_found(request_id: str) -> str:
    return _document(
        "Request not found",
        f"<h1>No spans of request <code>{_e(request_id)}</code> (yet)</h1>"
        "<p>Spans reach the trace store a moment after the response. "
        f'<a href="{_href(request_id)}">Reload</a>, or pick one of the '
        f'<a href="{DEV_TIMELINE_PATH}">recent requests</a>.</p>'
        '<p class="muted">The store keeps the most recent traces only; older ones are gone.</p>',
    )


def still_arriving(spans: Sequence[Span]) -> str:
    """Why the trace looks incomplete, or "" when every span seems to be here."""
    if all(span.parent_span_id for span in spans):
        return "the request's first span has not arrived"
    parents = {span.parent_span_id for span in spans}
    calls = [
        span
        for span in spans
        if span.kind == "CLIENT"
        and span.status != "ERROR"  # a call that failed may never have reached anyone
        and "db.system" not in span.attributes
        and ("http.request.method" in span.attributes or "http.method" in span.attributes)
        and span.span_id not in parents
    ]
    if calls:
        return f"{len(calls)} call(s) have no spans yet from the process they called"
    ids = {span.span_id for span in spans}
    orphans = sum(1 for span in spans if span.parent_span_id and span.parent_span_id not in ids)
    return f"{orphans} span(s) wait for their parent" if orphans else ""


def tree_order(spans: Sequence[Span]) -> list[tuple[Span, int]]:
    """Each span after its parent, siblings by start, with its depth."""
    ordered = sorted(spans, key=lambda span: span.start_unix_nano)
    ids = {span.span_id for span in ordered}
    children: dict[str, list[Span]] = {}
    tops = []
    for span in ordered:
        if span.parent_span_id in ids and span.parent_span_id != span.span_id:
            children.setdefault(span.parent_span_id, []).append(span)
        else:
            tops.append(span)
    rows: list[tuple[Span, int]] = []
    seen: set[str] = set()
    stack = [(span, 0) for span in reversed(tops)]
    while stack:
        span, depth = stack.pop()
        if span.span_id not in seen:
            seen.add(span.span_id)
            rows.append((span, depth))
            stack += [(child, depth + 1) for child in reversed(children.get(span.span_id, []))]
    # Spans in a parent cycle (a broken exporter) are still shown, at the top level.
    return rows + [(span, 0) for span in ordered if span.span_id not in seen]


def badges(span: Span) -> list[str]:
    """The attributes that tell what happened to the call, as small labels."""
    a = span.attributes
    found = []
    if (route := a.get("http.route")) and route != a.get("frontdoor.route"):
        found.append(_badge(f"route {_text(route)}"))
    if (status := _http_status(a)) is not None:
        found.append(_status_badge(status))
    if edge_route := a.get("frontdoor.route"):
        found.append(_badge(f"edge route {_text(edge_route)}"))
    if auth := a.get("frontdoor.auth.outcome"):
        found.append(_badge(f"auth {_text(auth)}", "warn" if auth == "rejected" else ""))
    if decision := a.get("frontdoor.rate_limit.decision"):
        text = f"rate limit {_text(a.get('frontdoor.rate_limit.policy', ''))}: {_text(decision)}"
        if (remaining := a.get("frontdoor.rate_limit.remaining")) is not None:
            text += f", {_text(remaining)} left"
        found.append(
            _badge(text, {"allowed": "", "failed_closed": "bad"}.get(_text(decision), "warn"))
        )
    if isinstance(resends := a.get("http.request.resend_count"), int) and resends > 0:
        found.append(_badge(f"retry #{resends}", "warn"))
    if breaker := a.get("frontdoor.breaker.state"):
        tone = {"open": "bad", "half_open": "warn"}.get(_text(breaker), "")
        found.append(_badge(f"breaker {_text(breaker)}", tone))
    if degraded := a.get("frontdoor.degraded_sections"):
        found.append(_badge(f"degraded: {_text(degraded)}", "warn"))
    for name, label in (("frontdoor.cache", "cache"), ("frontdoor.upstream", "upstream")):
        if value := a.get(name):
            found.append(_badge(f"{label} {_text(value)}"))
    if system := a.get("db.system"):
        found.append(_badge(f"db {_text(system)}"))
    if statement := a.get("db.statement", a.get("db.query.text")):
        text = " ".join(_text(statement).split())
        short = text if len(text) <= 80 else f"{text[:79]}…"
        found.append(f'<code title="{_e(text)}">{_e(short)}</code>')
    if error_type := a.get("error.type"):
        found.append(_badge(f"error {_text(error_type)}", "bad"))
    if span.status == "ERROR":
        message = f"ERROR: {span.status_message}" if span.status_message else "ERROR"
        found.append(_badge(message, "bad"))
    return found


def _details(span: Span, start: int) -> str:
    """Every attribute and event of the span, shown when its row is opened (no script)."""
    rows = "".join(
        f"<tr><th><code>{_e(key)}</code></th><td><code>{_e(value)}</code></td></tr>"
        for key, value in sorted(span.attributes.items())
    )
    events = "".join(
        f"<tr><th>+{(event.time_unix_nano - start) / 1e6:.1f} ms {_e(event.name)}</th><td>"
        + "".join(f"<pre>{_e(k)}: {_e(v)}</pre>" for k, v in sorted(event.attributes.items()))
        + "</td></tr>"
        for event in span.events
    )
    ids = f"span <code>{_e(span.span_id)}</code>, parent <code>{_e(span.parent_span_id)}</code>"
    return f"<p>{ids}</p><table>{rows}{events}</table>"


def _row(span: Span, depth: int, colour: int, start: int, total: int) -> str:
    left = (span.start_unix_nano - start) / total * 100
    width = min(max((span.end_unix_nano - span.start_unix_nano) / total * 100, 0.3), 100 - left)
    return (
        f'<li class="row s{colour}{" failed" if span.status == "ERROR" else ""}">'
        f'<details class="what" style="padding-left:{min(depth, 24) * 1.1:.1f}rem"><summary>'
        f'<span class="svc">{_e(span.service)}</span> <span class="name">{_e(span.name)}</span>'
        f' <span class="kind">{_e(span.kind)}</span> {"".join(badges(span))}</summary>'
        f"{_details(span, start)}</details>"
        f'<div class="track"><span class="bar" style="left:{left:.3f}%;width:{width:.3f}%">'
        f'</span></div><div class="ms">{_ms(span)}</div></li>'
    )


def render_request(trace: RequestTrace) -> str:
    ordered = tree_order(trace.spans)
    by_start = sorted(trace.spans, key=lambda span: span.start_unix_nano)
    services = dict.fromkeys(span.service for span in by_start)  # in the order they joined
    colours = {service: i % PALETTE_SIZE for i, service in enumerate(services)}
    start = by_start[0].start_unix_nano if by_start else 0
    total = max(max((span.end_unix_nano for span in by_start), default=0) - start, 1)
    root = next((span for span, _ in ordered if not span.parent_span_id), None)
    chips = " ".join(f'<span class="chip s{colours[s]}">{_e(s)}</span>' for s in colours)
    dropped = f", {trace.dropped_spans} dropped" if trace.dropped_spans else ""
    facts = [
        ("Request id", f"<code>{_e(trace.request_id)}</code>"),
        ("Trace id", f"<code>{_e(trace.trace_id)}</code>"),
        ("Started", _e(_utc(start))),
        ("Duration", _ms(root) if root else "?"),
        ("Status", _status_badge(_http_status(root.attributes) if root else None)),
        ("Processes", chips),
        ("Spans", f"{len(trace.spans)}{dropped}"),
    ]
    if trace.other_trace_ids:
        facts.append(("Same id, older traces", _e(trace.other_trace_ids)))
    note = ""
    if reason := still_arriving(trace.spans):
        note = (
            f'<p class="note">Spans may still be arriving: {_e(reason)}. '
            f'<a href="{_href(trace.request_id)}">Reload</a> in a moment.</p>'
        )
    rows = "".join(_row(s, depth, colours[s.service], start, total) for s, depth in ordered)
    summary = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    return _document(
        f"Request {trace.request_id}",
        f"<h1>Request <code>{_e(trace.request_id)}</code></h1>"
        f"<dl>{summary}</dl>{note}<ol>{rows}</ol>",
    )
