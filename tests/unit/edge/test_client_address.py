"""Which address a request comes from, and when X-Forwarded-For is believed."""

from __future__ import annotations

from edge.client_address import ClientAddressResolver

PROXY = "10.0.0.5"


def test_without_trusted_proxies_the_peer_is_the_client_and_the_header_is_dropped() -> None:
    resolver = ClientAddressResolver([])

    assert resolver.resolve("198.51.100.9", [b"203.0.113.7"]) == ("198.51.100.9", "198.51.100.9")


def test_an_untrusted_peer_cannot_choose_its_address() -> None:
    resolver = ClientAddressResolver(["10.0.0.0/8"])

    assert resolver.resolve("198.51.100.9", [b"203.0.113.7"])[0] == "198.51.100.9"


def test_a_trusted_proxy_names_the_client() -> None:
    resolver = ClientAddressResolver(["10.0.0.0/8"])

    assert resolver.resolve(PROXY, [b"203.0.113.7"]) == ("203.0.113.7", f"203.0.113.7, {PROXY}")


def test_entries_left_of_the_client_are_the_clients_own_and_are_dropped() -> None:
    resolver = ClientAddressResolver(["10.0.0.0/8"])

    client, chain = resolver.resolve(PROXY, [b"1.2.3.4, 203.0.113.7", b"10.0.0.9"])

    assert client == "203.0.113.7"
    assert chain == f"203.0.113.7, 10.0.0.9, {PROXY}"


def test_garbage_written_by_a_trusted_proxy_falls_back_to_that_proxy() -> None:
    resolver = ClientAddressResolver(["10.0.0.0/8"])

    assert resolver.resolve(PROXY, [b"not-an-address"])[0] == PROXY


def test_ipv6_networks_are_understood() -> None:
    resolver = ClientAddressResolver(["::1/128"])

    assert resolver.resolve("::1", [b"2001:db8::7"])[0] == "2001:db8::7"


def test_an_ipv4_proxy_seen_through_a_dual_stack_socket_is_still_trusted() -> None:
    resolver = ClientAddressResolver(["10.0.0.0/8"])

    client, _ = resolver.resolve("::ffff:10.0.0.5", [b"203.0.113.9"])

    assert client == "203.0.113.9"
