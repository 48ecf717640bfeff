"""The client's address: the TCP peer, or what a trusted proxy in front of the edge says it saw."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAddressResolver:
    """Walks `X-Forwarded-For` from the right, believing only trusted proxies.

    Each trusted hop appended the address it saw; the first address that is not
    a trusted proxy is the client. Anything to its left was written by the client
    itself and is dropped, so spoofed entries neither pick a rate-limit key nor
    reach the upstream.
    """

    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self._trusted = [ipaddress.ip_network(n, strict=False) for n in trusted_proxies]

    def is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            # A dual-stack listener sees an IPv4 peer as ::ffff:a.b.c.d.
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._trusted)

    def resolve(self, peer: str, forwarded_for: list[bytes]) -> tuple[str, str]:
        """The client address, and the X-Forwarded-For value to send upstream."""
        if not self._trusted or not self.is_trusted(peer):
            return peer, peer
        chain = [
            entry.strip()
            for value in forwarded_for
            for entry in value.decode("latin-1").split(",")
            if entry.strip()
        ]
        chain.append(peer)
        for index in range(len(chain) - 1, -1, -1):
            if not self.is_trusted(chain[index]):
                try:
                    ipaddress.ip_address(chain[index])
                except ValueError:
                    # A trusted proxy forwarded garbage: fall back to that proxy.
                    index += 1
                return chain[index], ", ".join(chain[index:])
        return chain[0], ", ".join(chain)
