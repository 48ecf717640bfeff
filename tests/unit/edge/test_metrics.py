"""The edge's own metrics: limiter decisions, upstream errors and JWKS fetches, as scraped."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from edge.metrics import EdgeMetrics


def scraped(metrics: EdgeMetrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_rate_limit_decisions_are_counted_by_policy_and_decision() -> None:
    metrics = EdgeMetrics()

    metrics.count_rate_limit("api", "allowed")
    metrics.count_rate_limit("api", "allowed")
    metrics.count_rate_limit("login", "limited")

    assert scraped(metrics, "frontdoor_edge_rate_limit_decisions_total") == {
        (("decision", "allowed"), ("policy", "api")): 2,
        (("decision", "limited"), ("policy", "login")): 1,
    }


def test_upstream_errors_are_counted_by_route_and_kind() -> None:
    metrics = EdgeMetrics()

    metrics.count_upstream_error("web", "timeout")
    metrics.count_upstream_error("web", "unreachable")
    metrics.count_upstream_error("web", "timeout")

    assert scraped(metrics, "frontdoor_edge_upstream_errors_total") == {
        (("kind", "timeout"), ("route", "web")): 2,
        (("kind", "unreachable"), ("route", "web")): 1,
    }


def test_jwks_fetches_and_the_process_metrics_share_the_edges_registry() -> None:
    metrics = EdgeMetrics()

    metrics.jwks_fetches("ok")

    assert scraped(metrics, "frontdoor_jwks_fetches_total") == {
        (("outcome", "ok"),): 1,
        (("outcome", "failed"),): 0,
    }
    assert scraped(metrics, "process_cpu_seconds_total")
