"""A local development certificate authority and a `localhost` certificate, made once
and made again before the certificate runs out."""

from __future__ import annotations

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509

# Apple's platforms refuse a TLS server certificate valid for longer than 825 days,
# even under a CA the user trusts: Safari would not open the dev stack.
LIFETIME = datetime.timedelta(days=825)
# Renewed this long before it runs out, so that a workshop never starts on a dead one.
RENEW_BEFORE = datetime.timedelta(days=30)
# Valid a little before it was made: a machine whose clock runs behind still accepts it.
BACKDATE = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class DevCertificates:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts this CA and nothing else."""
        return ssl.create_default_context(cafile=self.ca_file)


def ensure_dev_certificates(
    directory: Path, *, now: datetime.datetime | None = None
) -> DevCertificates:
    """Reuse the certificates in `directory`, or create them there when missing, due for
    renewal (`RENEW_BEFORE`) or valid for longer than `LIFETIME`.

    The CA's private key is never written to disk: nothing but this one
    certificate can ever be signed by it, so trusting it is a small risk. A renewal
    therefore makes a new CA too, which a browser that trusted the old one must be
    given again (`ca.pem`).
    """
    now = now or datetime.datetime.now(datetime.UTC)
    certs = DevCertificates(
        ca_file=directory / "ca.pem",
        cert_file=directory / "localhost.pem",
        key_file=directory / "localhost-key.pem",
    )
    files = (certs.ca_file, certs.cert_file, certs.key_file)
    if all(path.exists() for path in files) and _still_good(certs.cert_file, now):
        return certs
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="Frontdoor local development CA")
    not_before = now - BACKDATE
    leaf = ca.issue_cert(
        "localhost",
        "127.0.0.1",
        "::1",
        not_before=not_before,
        not_after=not_before + LIFETIME,
    )
    ca.cert_pem.write_to_path(str(certs.ca_file))
    leaf.cert_chain_pems[0].write_to_path(str(certs.cert_file))
    leaf.private_key_pem.write_to_path(str(certs.key_file))
    certs.key_file.chmod(0o600)
    return certs


def _still_good(cert_file: Path, now: datetime.datetime) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except ValueError:
        return False  # not a certificate (a truncated write, say): make a new one
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    return lifetime <= LIFETIME and cert.not_valid_after_utc - now > RENEW_BEFORE


if __name__ == "__main__":
    # `python -m devstack.certs DIR`: the same certificates for compose and Kubernetes.
    import sys

    made = ensure_dev_certificates(Path(sys.argv[1] if len(sys.argv) > 1 else ".state/certs"))
    print(f"CA {made.ca_file}\ncertificate {made.cert_file}\nkey {made.key_file}")
