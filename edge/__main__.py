"""`python -m edge`: run the edge over TLS (1.2 or newer)."""

import ssl

from edge.app import create_app
from edge.http_protocol import BoundedHeadProtocol
from edge.settings import Settings, load_settings
from service_defaults.serve import serve


def tls_options(settings: Settings) -> dict[str, object]:
    return {
        "ssl_certfile": settings.tls_certfile,
        "ssl_keyfile": settings.tls_keyfile,
        # PROTOCOL_TLS_SERVER negotiates the best both sides speak, and Python
        # (3.10 and newer) sets its minimum to TLS 1.2; a test checks 1.1 is refused.
        "ssl_version": ssl.PROTOCOL_TLS_SERVER,
        "http": BoundedHeadProtocol,
    }


serve("edge", load_settings, create_app, tls_options)
