"""Which names a new service may take: a refusal says why, in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.names import refusal

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", ["inventory", "stock_levels", "shipping2", "user"])
def test_a_fresh_lowercase_identifier_is_accepted(name: str) -> None:
    assert refusal(name, ROOT) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Inventory", "not a lowercase Python identifier"),
        ("2nd", "not a lowercase Python identifier"),
        ("stock-levels", "not a lowercase Python identifier"),
        ("stock__levels", "not a lowercase Python identifier"),
        ("stock_", "not a lowercase Python identifier"),
        ("", "not a lowercase Python identifier"),
        ("a" * 31, "is longer than 30 characters"),
        ("class", "is a Python keyword"),
        ("match", "is a Python keyword"),
    ],
)
def test_a_name_of_the_wrong_shape_is_refused(name: str, reason: str) -> None:
    refused = refusal(name, ROOT)

    assert refused is not None
    assert reason in refused
    assert "\n" not in refused


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("orders", "services/orders/"),
        ("users", "services/users/"),
        ("edge", "edge/"),
        ("bff_web", "bff_web/"),
        ("bff_mobile", "bff_mobile/"),
        ("service_defaults", "service_defaults/"),
        ("bff_kit", "bff_kit/"),
        ("devstack", "devstack/"),
        ("bench", "bench/"),
        ("tests", "tests/"),
        ("scaffold", "scaffold/"),
        ("services", "services/"),
        ("workshop", "workshop"),
        ("trace_store", "trace_store"),
        ("postgres", "postgres"),
        ("redis", "redis"),
        ("certs", "certs"),
        ("scaling", "infra/k8s/scaling.yaml"),
        ("bff", "infra/k8s/bff.yaml"),
        ("network_policies", "infra/k8s/network-policies.yaml"),
    ],
)
def test_a_name_the_repository_uses_is_refused(name: str, where: str) -> None:
    refused = refusal(name, ROOT)

    assert refused is not None
    assert refused.startswith("it is taken: ")
    assert where in refused


@pytest.mark.parametrize(
    ("name", "clash"),
    [
        ("bff_web_admin", "BFF_WEB_"),  # bff_web would read BFF_WEB_ADMIN_* too
        ("trace", "TRACE_STORE_"),
        ("users_audit", "USERS_"),  # the users process would read USERS_AUDIT_* too
        ("otel", "OTEL_"),
        ("frontdoor", "FRONTDOOR_"),
    ],
)
def test_a_name_whose_settings_prefix_overlaps_another_is_refused(name: str, clash: str) -> None:
    refused = refusal(name, ROOT)

    assert refused is not None
    assert f"clashes with {clash}" in refused


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("json", "the standard library module json"),
        ("asyncio", "the standard library module asyncio"),
        ("test", "the importable module test"),
        ("yaml", "the module yaml of PyYAML"),
        ("httpx", "the module httpx of httpx"),
        ("litestar", "the module litestar of litestar"),
    ],
)
def test_a_name_that_would_shadow_an_import_is_refused(name: str, module: str) -> None:
    refused = refusal(name, ROOT)

    assert refused is not None
    assert f"would shadow {module}" in refused
