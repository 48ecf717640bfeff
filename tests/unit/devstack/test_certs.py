"""Dev certificates: made once, valid for at most 825 days, made again before they run out."""

from __future__ import annotations

import datetime
from pathlib import Path

import trustme
from cryptography import x509

from devstack.certs import LIFETIME, RENEW_BEFORE, ensure_dev_certificates

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


def leaf(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_the_certificate_is_valid_now_and_for_at_most_825_days(tmp_path: Path) -> None:
    cert = leaf(ensure_dev_certificates(tmp_path, now=NOW).cert_file)

    assert cert.not_valid_before_utc <= NOW < cert.not_valid_after_utc
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= datetime.timedelta(days=825)


def test_a_certificate_with_time_left_is_reused_as_it_is(tmp_path: Path) -> None:
    first = ensure_dev_certificates(tmp_path, now=NOW)
    made = first.cert_file.read_bytes()

    again = ensure_dev_certificates(tmp_path, now=NOW + LIFETIME - RENEW_BEFORE * 2)

    assert again.cert_file.read_bytes() == made


def test_a_certificate_close_to_its_end_is_made_again(tmp_path: Path) -> None:
    first = ensure_dev_certificates(tmp_path, now=NOW)
    made = first.cert_file.read_bytes()
    later = NOW + LIFETIME - datetime.timedelta(days=10)

    renewed = ensure_dev_certificates(tmp_path, now=later)

    assert renewed.cert_file.read_bytes() != made
    assert leaf(renewed.cert_file).not_valid_after_utc > later + RENEW_BEFORE


def test_a_certificate_valid_for_centuries_is_replaced(tmp_path: Path) -> None:

    old = trustme.CA().issue_cert("localhost")  # trustme's default: valid until 3000
    old.cert_chain_pems[0].write_to_path(str(tmp_path / "localhost.pem"))
    old.private_key_pem.write_to_path(str(tmp_path / "localhost-key.pem"))
    (tmp_path / "ca.pem").write_text("unused")

    cert = leaf(ensure_dev_certificates(tmp_path, now=NOW).cert_file)

    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= LIFETIME


def test_a_broken_certificate_file_is_replaced(tmp_path: Path) -> None:
    ensure_dev_certificates(tmp_path, now=NOW)
    (tmp_path / "localhost.pem").write_text("-----BEGIN CERTIFICATE-----\ntruncated")

    cert = leaf(ensure_dev_certificates(tmp_path, now=NOW).cert_file)

    assert cert.not_valid_before_utc <= NOW
