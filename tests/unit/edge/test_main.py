"""`python -m edge`: uvicorn gets the edge's TLS settings and the edge's own protocol."""

from __future__ import annotations

import ssl
from typing import cast

from edge import __main__ as entry
from edge.http_protocol import EdgeProtocol
from edge.settings import Settings


class TlsFiles:
    tls_certfile = "/run/certs/edge.pem"
    tls_keyfile = "/run/certs/edge-key.pem"


def test_uvicorn_serves_tls_with_the_edges_own_protocol_bound_to_the_shared_proxy() -> None:
    options = entry.server_options(cast("Settings", TlsFiles()))

    assert (options["ssl_certfile"], options["ssl_keyfile"]) == (
        TlsFiles.tls_certfile,
        TlsFiles.tls_keyfile,
    )
    assert options["ssl_version"] == ssl.PROTOCOL_TLS_SERVER
    protocol = options["http"]
    assert isinstance(protocol, type)
    assert issubclass(protocol, EdgeProtocol)
    assert protocol.proxied is entry.proxied, "the app's lifespan opens this one"
