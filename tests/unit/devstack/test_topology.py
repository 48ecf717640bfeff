"""The stack's wiring: every process exports its spans to the trace store, started first."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.certs import DevCertificates
from devstack.topology import DEFAULT_PORTS, ProcessSpec, Topology

APPS = ("edge", "bff_web", "bff_mobile", "users", "orders")
CERTS = DevCertificates(Path("ca.pem"), Path("cert.pem"), Path("key.pem"))


def specs(environ: dict[str, str]) -> dict[str, ProcessSpec]:
    topology = Topology.from_environ(environ, Path("/state"), CERTS)
    return {spec.name: spec for spec in topology.specs()}


def test_the_trace_store_starts_first_on_its_own_port() -> None:
    topology = Topology.from_environ({}, Path("/state"), CERTS)

    first = topology.specs()[0]

    assert first.name == "trace_store"
    assert first.module == "devstack.trace_store"
    assert first.env["TRACE_STORE_PORT"] == str(DEFAULT_PORTS["trace_store"])
    assert first.ready_url == f"http://127.0.0.1:{DEFAULT_PORTS['trace_store']}/readyz"
    assert len(set(DEFAULT_PORTS.values())) == len(DEFAULT_PORTS)


def test_every_process_exports_to_the_store_under_its_own_name() -> None:
    # A name and endpoints the user exported for other work must not leak in.
    found = specs(
        {
            "OTEL_SERVICE_NAME": "my-notebook",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://elsewhere:4318/v1/traces",
        }
    )

    store = f"http://127.0.0.1:{DEFAULT_PORTS['trace_store']}"
    for name in APPS:
        env = found[name].env
        assert env["OTEL_SERVICE_NAME"] == name
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == store
        assert env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == f"{store}/v1/traces"
        assert env["OTEL_BSP_SCHEDULE_DELAY"] == "200"
    assert found["edge"].env["EDGE_DEV_TRACE_STORE_URL"] == store


def test_the_store_itself_is_not_traced() -> None:
    assert specs({})["trace_store"].env["OTEL_SDK_DISABLED"] == "true"


@pytest.mark.parametrize(
    ("environ", "forwarded"),
    [
        ({}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318/"}, "http://jaeger:4318/v1/traces"),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector.example/otlp/traces",
            },
            "https://collector.example/otlp/traces",
        ),
        # Pointing at the store itself would send every export round in a loop.
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://localhost:{DEFAULT_PORTS['trace_store']}"}, None),
    ],
)
def test_a_user_endpoint_is_honoured_by_forwarding(
    environ: dict[str, str], forwarded: str | None
) -> None:
    assert specs(environ)["trace_store"].env.get("TRACE_STORE_FORWARD_TRACES_TO") == forwarded


def test_the_store_port_and_settings_come_from_its_own_variables() -> None:
    found = specs({"TRACE_STORE_PORT": "9411", "TRACE_STORE_MAX_TRACES": "50"})

    store = found["trace_store"].env
    assert (store["TRACE_STORE_PORT"], store["TRACE_STORE_MAX_TRACES"]) == ("9411", "50")
    assert found["orders"].env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:9411"


def test_a_process_override_wins_over_the_stack_telemetry() -> None:
    topology = Topology(
        ports=DEFAULT_PORTS,
        state_dir=Path("/state"),
        certs=CERTS,
        overrides={"orders": {"OTEL_SDK_DISABLED": "true"}},
    )

    orders = next(spec for spec in topology.specs() if spec.name == "orders")

    assert orders.env["OTEL_SDK_DISABLED"] == "true"
