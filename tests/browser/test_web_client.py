"""The web client in the system Chromium, against the real stack through the edge."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    Route,
    expect,
    sync_playwright,
)

from devstack.stack import Stack
from devstack.topology import Topology
from tests.running_stack import bearer, login

pytestmark = pytest.mark.integration

# Debian's package, never a browser that Playwright downloads.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # runs as root in containers, where the sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def system_chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    message = f"{CHROMIUM} is missing; install it with: apt-get install chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def spki_sha256(cert_file: Path) -> str:
    """The base64 SHA-256 of a certificate's public key, as Chromium's SPKI list wants it."""
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture(scope="module")
def browser(topology: Topology) -> Iterator[Browser]:
    executable = system_chromium()
    # The edge's certificate comes from the stack's private dev CA, which Chromium
    # would only trust through an NSS database. Instead of ignoring every TLS error,
    # the browser accepts exactly the edge's key: any other certificate still fails.
    # (Playwright always gives Chromium a --user-data-dir, which this flag requires.)
    pinned = f"--ignore-certificate-errors-spki-list={spki_sha256(topology.certs.cert_file)}"
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's driver (Node.js, which sends `route.fetch` requests) reads this
        # when it starts: it trusts the dev CA itself, no pinning needed there.
        patch.setenv("NODE_EXTRA_CA_CERTS", str(topology.certs.ca_file))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=[*CHROMIUM_ARGS, pinned]
            )
            try:
                yield browser
            finally:
                browser.close()


@pytest.fixture
def page(browser: Browser, topology: Topology) -> Iterator[Page]:
    context = browser.new_context(
        base_url=topology.edge_url, viewport={"width": 1280, "height": 800}
    )
    try:
        yield context.new_page()
    finally:
        context.close()


@contextmanager
def screenshot_on_failure(page: Page, path: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        page.screenshot(path=path, full_page=True)
        raise


def collect_page_errors(page: Page) -> list[str]:
    """Uncaught exceptions and console errors (CSP violations among them), as they happen."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def sign_in(page: Page, username: str) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(username)
    page.get_by_test_id("signin-submit").click()


def wait_until_orders_answer(topology: Topology, timeout_s: float = 15.0) -> None:
    """After an outage the web BFF's circuit breaker keeps failing fast for a few seconds."""
    with httpx.Client(
        base_url=topology.edge_url, verify=topology.certs.client_context(), trust_env=False
    ) as client:
        headers = bearer(login(client, "alice"))
        deadline = time.monotonic() + timeout_s
        while client.get("/api/web/orders?limit=1", headers=headers).status_code != 200:
            assert time.monotonic() < deadline, "the web BFF did not recover from the outage"
            time.sleep(0.2)


def is_order_creation(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/api/web/orders")


def test_alice_places_and_cancels_an_order(page: Page, tmp_path: Path) -> None:
    errors = collect_page_errors(page)
    with screenshot_on_failure(page, tmp_path / "failure.png"):
        sign_in(page, "alice")
        expect(page.get_by_test_id("dashboard-name")).to_have_text("Alice Example")

        page.get_by_label("Espresso cup set").fill("2")
        with page.expect_response(is_order_creation) as created:
            page.get_by_test_id("create-order").click()
        assert created.value.status == 201
        order_id = created.value.json()["id"]

        row = page.locator(f'[data-testid="order-row"][data-order-id="{order_id}"]')
        expect(row.get_by_test_id("order-status")).to_have_text("placed")
        expect(row).to_contain_text("2 items")

        row.get_by_test_id("cancel-order").click()
        expect(row.get_by_test_id("order-status")).to_have_text("cancelled")
        expect(row.get_by_test_id("cancel-order")).to_have_count(0)
        expect(page.get_by_test_id("request-id")).to_have_text(REQUEST_ID)
        expect(page.get_by_test_id("alert")).to_have_count(0)
    assert errors == []


def test_retry_after_a_lost_response_reuses_the_idempotency_key(page: Page, tmp_path: Path) -> None:
    sent: list[Request] = []
    created: list[str] = []

    def lose_first_answer(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        sent.append(route.request)
        if len(sent) > 1:
            route.continue_()
            return
        # The order reaches the server and is created; its answer never reaches the page.
        response = route.fetch()
        created.append(response.json()["id"])
        route.abort("connectionreset")

    with screenshot_on_failure(page, tmp_path / "failure.png"):
        sign_in(page, "alice")
        expect(page.get_by_test_id("dashboard-name")).to_have_text("Alice Example")
        page.route("**/api/web/orders", lose_first_answer)
        page.get_by_label("Desk lamp").fill("1")
        page.get_by_test_id("create-order").click()
        expect(page.get_by_test_id("alert")).to_contain_text("could not be reached")

        with page.expect_response(is_order_creation) as replayed:
            page.get_by_test_id("create-order").click()
        assert replayed.value.status == 201
        assert replayed.value.json()["id"] == created[0]
        first, second = (request.header_value("Idempotency-Key") for request in sent)
        assert first is not None
        assert first == second
        expect(page.locator(f'[data-order-id="{created[0]}"]')).to_have_count(2)  # list + recent


def test_orders_down_shows_sections_as_unavailable(
    page: Page, stack: Stack, topology: Topology, tmp_path: Path
) -> None:
    with screenshot_on_failure(page, tmp_path / "failure.png"):
        sign_in(page, "alice")
        expect(page.get_by_test_id("dashboard-name")).to_have_text("Alice Example")

        stack.stop_process("orders")
        try:
            page.reload()  # still signed in: the token survives a reload
            expect(page.get_by_test_id("dashboard-name")).to_have_text("Alice Example")
            expect(page.get_by_test_id("degraded-recent_orders")).to_contain_text(
                "unavailable right now"
            )
            expect(page.get_by_test_id("degraded-stats")).to_contain_text("unavailable right now")
            # The list has no partial answer to give: it fails whole, with the request id.
            expect(page.get_by_test_id("orders-failed")).to_be_visible()
            expect(page.get_by_test_id("alert-request-id")).to_have_text(REQUEST_ID)
        finally:
            stack.start_process("orders")
            wait_until_orders_answer(topology)

        page.get_by_test_id("orders-retry").click()
        expect(page.get_by_test_id("order-row").first).to_be_visible()
        expect(page.get_by_test_id("orders-failed")).to_be_hidden()
        expect(page.get_by_test_id("alert")).to_have_count(0)


def test_the_request_id_links_to_its_timeline_on_the_dev_stack(page: Page, tmp_path: Path) -> None:
    errors = collect_page_errors(page)
    with screenshot_on_failure(page, tmp_path / "failure.png"):
        sign_in(page, "alice")
        expect(page.get_by_test_id("dashboard-name")).to_have_text("Alice Example")
        expect(page.get_by_test_id("order-row").first).to_be_visible()

        link = page.get_by_test_id("request-id-link")
        expect(link).to_have_attribute(
            "href", re.compile(r"^/_dev/requests/[A-Za-z0-9._:-]{8,128}$")
        )
        expect(page.get_by_test_id("request-id")).to_have_text(REQUEST_ID)
        request_id = link.inner_text()
        with page.context.expect_page() as opened:
            link.click()
        timeline = opened.value
        # The spans reach the store a moment after the response, each process's in its own
        # batch: reload until the edge's, the first of the request, is there too.
        rows = timeline.locator("li.row")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            rows.count() == 0 or "edge" not in rows.first.inner_text()
        ):
            time.sleep(0.3)
            timeline.reload()
        expect(timeline.locator("h1")).to_have_text(f"Request {request_id}")
        expect(timeline.locator("li.row").first).to_contain_text("edge")
    assert errors == []
