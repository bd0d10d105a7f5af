"""The VAPID key pair (RFC 8292) that identifies this Crieur to the browsers' push services.

Browsers bind each push subscription to the public key the page gave them, so the key must
outlive restarts: a new key silently orphans every subscription (the push services answer
403). It is therefore generated once, on first start, into the data directory (PEM, mode
0600, written atomically so that two processes starting together end up with the same key)
and read back on every later start.

Signing is a few lines of `cryptography` rather than py-vapid: it stays typed and keeps one
fewer dependency in the process. The JWT is cached per push service for a few hours, since
a notice fan-out talks to the same two or three origins thousands of times.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import secrets
import time
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 12 * 3600  # RFC 8292: at most 24 h; push services reject longer ones
TOKEN_RENEW_BEFORE = 3600  # sign a new token when the cached one has less than this left
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


class VapidKeyError(Exception):
    """The VAPID key file exists but cannot be used; the message names the file."""


def b64url(data: bytes) -> str:
    """Unpadded base64url, the encoding of every key and token in Web Push."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded (or padded) base64url; raises ValueError on anything else."""
    stripped = text.rstrip("=")
    if not _B64URL.fullmatch(stripped) or len(stripped) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))


class VapidKey:
    """The application server's P-256 key: public key for browsers, signed tokens for pushes."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, subject: str) -> None:
        self._private_key = private_key
        self.subject = subject  # "mailto:mairie@…": whom a push service contacts about abuse
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.public_key = b64url(raw)  # what `PushManager.subscribe` wants (87 characters)
        self._tokens: dict[str, tuple[str, int]] = {}

    @classmethod
    def load_or_create(cls, path: Path, subject: str) -> VapidKey:
        """Read the key at `path`, or generate it there first (once, whoever comes first)."""
        if not path.exists():
            _create(path)
        try:
            data = path.read_bytes()
            key = serialization.load_pem_private_key(data, password=None)
        except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise VapidKeyError(f"{path} : clé VAPID illisible ({exc})") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            raise VapidKeyError(f"{path} : la clé VAPID doit être une clé EC P-256")
        if path.stat().st_mode & 0o077:
            log.warning("webpush: %s is readable by other users; chmod 600 it", path)
        return cls(key, subject)

    def authorization(self, audience: str, now: float | None = None) -> str:
        """The `Authorization` header for a push service origin (`https://host[:port]`)."""
        moment = int(time.time() if now is None else now)
        cached = self._tokens.get(audience)
        if cached is not None and cached[1] - moment > TOKEN_RENEW_BEFORE:
            return cached[0]
        expires = moment + TOKEN_LIFETIME
        header = f"vapid t={self._sign(audience, expires)}, k={self.public_key}"
        if len(self._tokens) > 64:  # a handful of push services in practice
            self._tokens.clear()
        self._tokens[audience] = (header, expires)
        return header

    def _sign(self, audience: str, expires: int) -> str:
        """An ES256 JWT (RFC 7515/7518): the signature is raw r‖s, not DER."""
        head = b64url(b'{"typ":"JWT","alg":"ES256"}')
        claims = json.dumps(
            {"aud": audience, "exp": expires, "sub": self.subject},
            separators=(",", ":"),
            sort_keys=True,  # some push services (Chrome's) once insisted on sorted claims
        )
        signing_input = f"{head}.{b64url(claims.encode())}"
        der = self._private_key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _create(path: Path) -> None:
    """Write a fresh key to `path` without ever exposing a partial or world-readable file.

    The PEM goes to a private temporary file first, then is hard-linked into place: the
    link fails if another process created the key meanwhile, and that key is kept.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another process won the race: its key is the one
        except OSError:  # a filesystem without hard links
            if not path.exists():
                temporary.replace(path)
            return
        log.info("webpush: new VAPID key written to %s", path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
