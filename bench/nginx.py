"""nginx as the reference proxy: one worker, TLS, keep-alive upstream, state in a temp dir."""

from __future__ import annotations

import shutil
from pathlib import Path

from devstack.certs import DevCertificates

CONFIG = """\
daemon off; worker_processes 1; pid {dir}/nginx.pid; error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy; fastcgi_temp_path {dir}/fcgi;
  uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
  upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port} ssl; ssl_certificate {cert}; ssl_certificate_key {key};
    location / {{
      proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection "";
    }}
  }}
}}
"""


def nginx_argv(work: Path, certs: DevCertificates, port: int, backend_port: int) -> list[str]:
    """The command that runs nginx in the foreground; empty when nginx is not installed."""
    if (binary := shutil.which("nginx")) is None:
        return []
    config = work / "nginx.conf"
    fields = {"dir": work, "port": port, "backend_port": backend_port}
    config.write_text(CONFIG.format(**fields, cert=certs.cert_file, key=certs.key_file))
    # -e: the error log before the config is read, or nginx tries /var/log/nginx first.
    return [binary, "-c", str(config), "-p", str(work), "-e", str(work / "nginx-error.log")]
