"""`python -m edge`: run the edge over TLS (1.2 or newer)."""

import ssl

from edge.app import create_app
from edge.settings import Settings, load_settings
from service_defaults.serve import serve


def tls_options(settings: Settings) -> dict[str, object]:
    return {
        "ssl_certfile": settings.tls_certfile,
        "ssl_keyfile": settings.tls_keyfile,
        "ssl_version": ssl.PROTOCOL_TLS_SERVER,
    }


serve("edge", load_settings, create_app, tls_options)
