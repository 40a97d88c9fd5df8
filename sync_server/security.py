"""Secrets: random tokens and codes, their keyed hashes, and password hashing.

Device and user tokens are 256-bit random strings shown once; the database keeps only
``HMAC-SHA256(QLQ_TOKEN_SECRET, token)``, so a stolen database dump yields no usable token and a lookup is a
single indexed equality (a slow password hash is unnecessary for high-entropy secrets). Enrollment codes are
shorter (60 bits, typed by a nurse) but single-use, valid 24 h and rate limited. Passwords use argon2id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

DEVICE_TOKEN_PREFIX = "qlqd_"  # noqa: S105 - a prefix, not a secret
USER_TOKEN_PREFIX = "qlqu_"  # noqa: S105
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
_CODE_GROUPS = 3
_CODE_GROUP_LEN = 4

_HASHER = PasswordHasher()
# Verifying against this when the user does not exist keeps the response time the same (no user probing).
_DUMMY_HASH = _HASHER.hash("not-a-real-password-" + secrets.token_hex(8))


def keyed_hash(secret: str, value: str) -> str:
    return hmac.new(secret.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_user_token() -> str:
    return USER_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_enrollment_code() -> str:
    """E.g. ``K7QM-9XRT-ZP4D``: 12 characters of a 32-letter alphabet (60 bits)."""
    groups = ("".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_GROUP_LEN)) for _ in range(_CODE_GROUPS))
    return "-".join(groups)


def normalise_enrollment_code(code: str) -> str:
    """Accept lower case, spaces and missing dashes: ``k7qm 9xrt zp4d`` → ``K7QM-9XRT-ZP4D``."""
    letters = "".join(c for c in code.upper() if c.isalnum())
    size = _CODE_GROUP_LEN
    return "-".join(letters[i : i + size] for i in range(0, len(letters), size))


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
