"""The VAPID key pair (RFC 8292) that identifies this Crieur to the browsers' push services.

Browsers bind each push subscription to the public key the page gave them, so the key must
outlive restarts: a new key silently orphans every subscription (the push services answer
403). It is therefore generated once, on first start, into the data directory (PEM, mode
0600, written atomically so that two processes starting together end up with the same key)
and read back on every later start.

`cryptography` costs about 10 MB of resident memory, and most of Crieur's life is spent
without sending a single push, so it is imported only to sign or to create a key (and the
channel creates the key in a short-lived child process, `python -P keys.py PATH`, so that
even a first start does not keep those megabytes). The public key that the site's widget
asks for at every page is kept next to the PEM in a small sidecar
(`webpush-vapid.pem.public.json`: the public key and the SHA-256 of the PEM it was derived
from); a restart reads it, and derives it again only when it is missing or belongs to
another PEM (a key restored from a backup, a deployment older than the sidecar).

Signing is a few lines of `cryptography` rather than py-vapid: it stays typed and keeps one
fewer dependency in the process. The JWT is cached per push service for a few hours, since
a notice fan-out talks to the same two or three origins thousands of times.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the real imports are in the functions that use them; see above
    from cryptography.hazmat.primitives.asymmetric import ec

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 12 * 3600  # RFC 8292: at most 24 h; push services reject longer ones
TOKEN_RENEW_BEFORE = 3600  # sign a new token when the cached one has less than this left
PUBLIC_SUFFIX = ".public.json"  # the sidecar: `<key file name>.public.json`
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


def public_key_path(path: Path) -> Path:
    """Where the public key of the PEM at `path` is kept (`…/webpush-vapid.pem.public.json`)."""
    return path.with_name(path.name + PUBLIC_SUFFIX)


class VapidKey:
    """The application server's P-256 key: public key for browsers, signed tokens for pushes.

    Built from the PEM's bytes and its public key; the private key is parsed at the first
    signature, so a Crieur that never pushes never imports `cryptography`.
    """

    def __init__(self, pem: bytes, public_key: str, subject: str, *, source: str = "") -> None:
        self._pem = pem
        self._private_key: ec.EllipticCurvePrivateKey | None = None
        self._source = source or "clé VAPID"  # the file, named in errors
        self.subject = subject  # "mailto:mairie@…": whom a push service contacts about abuse
        self.public_key = public_key  # what `PushManager.subscribe` wants (87 characters)
        self._tokens: dict[str, tuple[str, int]] = {}

    @classmethod
    def load_or_create(cls, path: Path, subject: str) -> VapidKey:
        """Read the key at `path`, or generate it there first (once, whoever comes first).

        The public key comes from the sidecar when it was derived from this very PEM;
        otherwise it is derived now (importing `cryptography`) and the sidecar rewritten.
        """
        if not path.exists():
            _create(path)
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise VapidKeyError(f"{path} : clé VAPID illisible ({exc})") from exc
        digest = hashlib.sha256(pem).hexdigest()
        public_key = _read_public(path, digest)
        if public_key is None:
            public_key = _public_key_of(_parse(pem, str(path)))
            _write_public(path, public_key, digest)
        if path.stat().st_mode & 0o077:
            log.warning("webpush: %s is readable by other users; chmod 600 it", path)
        return cls(pem, public_key, subject, source=str(path))

    def authorization(self, audience: str, now: float | None = None) -> str:
        """The `Authorization` header for a push service origin (`https://host[:port]`).

        Raises `VapidKeyError` if the key cannot sign (a PEM that does not match its
        public key: a sidecar edited by hand).
        """
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

    def _signing_key(self) -> ec.EllipticCurvePrivateKey:
        """The private key, parsed at the first signature and checked against `public_key`."""
        if self._private_key is None:
            key = _parse(self._pem, self._source)
            if _public_key_of(key) != self.public_key:
                raise VapidKeyError(
                    f"{self._source} : la clé publique enregistrée ne correspond pas à la clé"
                )
            self._private_key = key
        return self._private_key

    def _sign(self, audience: str, expires: int) -> str:
        """An ES256 JWT (RFC 7515/7518): the signature is raw r‖s, not DER."""
        # Imported here, not at the top: cryptography costs ~10 MB and only signing needs it.
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        private_key = self._signing_key()
        head = b64url(b'{"typ":"JWT","alg":"ES256"}')
        claims = json.dumps(
            {"aud": audience, "exp": expires, "sub": self.subject},
            separators=(",", ":"),
            sort_keys=True,  # some push services (Chrome's) once insisted on sorted claims
        )
        signing_input = f"{head}.{b64url(claims.encode())}"
        der = private_key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _parse(pem: bytes, source: str) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key in `pem`, or a `VapidKeyError` naming `source`."""
    # Imported here, not at the top: only a first start, a new PEM or signing get here.
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise VapidKeyError(f"{source} : clé VAPID illisible ({exc})") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise VapidKeyError(f"{source} : la clé VAPID doit être une clé EC P-256")
    return key


def _public_key_of(private_key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as browsers want it: base64url of the uncompressed point (65 bytes)."""
    from cryptography.hazmat.primitives import serialization  # see _parse

    raw = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(raw)


def _read_public(path: Path, digest: str) -> str | None:
    """The public key in the sidecar of `path`, if it was derived from a PEM of `digest`."""
    try:
        document = json.loads(public_key_path(path).read_bytes())
    except (OSError, ValueError):  # missing, unreadable or garbled: derive it again
        return None
    if not isinstance(document, dict) or document.get("pem_sha256") != digest:
        return None
    public_key = document.get("public_key")
    try:
        if not isinstance(public_key, str):
            raise ValueError
        raw = b64url_decode(public_key)
    except ValueError:
        return None
    if len(raw) != 65 or raw[0] != 4:  # an uncompressed P-256 point, as browsers want
        return None
    return b64url(raw)


def _write_public(path: Path, public_key: str, digest: str) -> None:
    """Write the sidecar atomically; a failure only costs the next start a derivation."""
    target = public_key_path(path)
    document = {"public_key": public_key, "pem_sha256": digest}
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(json.dumps(document, indent=1) + "\n")
        temporary.replace(target)  # two processes writing together write the same thing
    except OSError as exc:
        log.warning("webpush: could not write %s (%s)", target, exc)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


async def create_in_child(path: Path) -> None:
    """Create the key at `path` and its public key sidecar in a child Python process.

    Generating a key imports `cryptography`, whose memory a long-running process would
    keep; the child takes it with it, and `VapidKey.load_or_create` then reads both files
    without importing it. Nothing is raised: if the child fails, the key is still missing
    and `load_or_create` creates it in this process, reporting its errors as always.
    """
    try:
        # This file run as a script (-P: its folder is not put on sys.path), not with -m:
        # the package's __init__ would import aiohttp and SQLAlchemy for nothing.
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-P", __file__, str(path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        output, _ = await child.communicate()
    except OSError:
        return
    if child.returncode == 0 and output.strip() == b"created":
        log.info("webpush: new VAPID key written to %s", path)


def create_with_public(path: Path) -> bool:
    """What the child of `create_in_child` does: the key (unless another process wrote it
    first) and its sidecar; True when `_create` says a new key is to be announced."""
    created = not path.exists() and _create(path)
    pem = path.read_bytes()
    _write_public(path, _public_key_of(_parse(pem, str(path))), hashlib.sha256(pem).hexdigest())
    return created


def _create(path: Path) -> bool:
    """Write a fresh key to `path` without ever exposing a partial or world-readable file;
    True if this call wrote it and announced it in the log.

    The PEM goes to a private temporary file first, then is hard-linked into place: the
    link fails if another process created the key meanwhile, and that key is kept.
    """
    # Imported here, not at the top: a key is created once, on the first start.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

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
            return False  # another process won the race: its key is the one
        except OSError:  # a filesystem without hard links
            if not path.exists():
                temporary.replace(path)
            return False  # written, but (as always) not announced
        log.info("webpush: new VAPID key written to %s", path)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


if __name__ == "__main__":  # the child of `create_in_child`
    print("created" if create_with_public(Path(sys.argv[1])) else "exists")
