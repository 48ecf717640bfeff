"""A local development certificate authority and a `localhost` certificate, made once."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class DevCertificates:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts this CA and nothing else."""
        return ssl.create_default_context(cafile=self.ca_file)


def ensure_dev_certificates(directory: Path) -> DevCertificates:
    """Reuse the certificates in `directory`, or create them there on first use.

    The CA's private key is never written to disk: nothing but this one
    certificate can ever be signed by it, so trusting it is a small risk.
    """
    certs = DevCertificates(
        ca_file=directory / "ca.pem",
        cert_file=directory / "localhost.pem",
        key_file=directory / "localhost-key.pem",
    )
    if all(path.exists() for path in (certs.ca_file, certs.cert_file, certs.key_file)):
        return certs
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="Frontdoor local development CA")
    leaf = ca.issue_cert("localhost", "127.0.0.1", "::1")
    ca.cert_pem.write_to_path(str(certs.ca_file))
    leaf.cert_chain_pems[0].write_to_path(str(certs.cert_file))
    leaf.private_key_pem.write_to_path(str(certs.key_file))
    certs.key_file.chmod(0o600)
    return certs


if __name__ == "__main__":
    # `python -m devstack.certs DIR`: the same certificates for compose and Kubernetes.
    import sys

    made = ensure_dev_certificates(Path(sys.argv[1] if len(sys.argv) > 1 else ".state/certs"))
    print(f"CA {made.ca_file}\ncertificate {made.cert_file}\nkey {made.key_file}")
