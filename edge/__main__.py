"""`python -m edge`: run the edge over TLS (1.2 or newer), on its own HTTP protocol."""

import ssl

from edge.app import create_app
from edge.http_protocol import ProxiedRequests, edge_protocol
from edge.settings import Settings, load_settings
from service_defaults.serve import serve

# Filled by the app's lifespan; the protocol hands proxied requests to it, past ASGI.
proxied = ProxiedRequests()


def server_options(settings: Settings) -> dict[str, object]:
    return {
        "ssl_certfile": settings.tls_certfile,
        "ssl_keyfile": settings.tls_keyfile,
        # PROTOCOL_TLS_SERVER negotiates the best both sides speak, and Python
        # (3.10 and newer) sets its minimum to TLS 1.2; a test checks 1.1 is refused.
        "ssl_version": ssl.PROTOCOL_TLS_SERVER,
        "http": edge_protocol(proxied),
    }


if __name__ == "__main__":
    serve(
        "edge",
        load_settings,
        lambda settings: create_app(settings, proxied=proxied),
        server_options,
    )
