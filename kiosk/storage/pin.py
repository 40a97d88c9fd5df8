"""The nurse PIN: its rules, and its argon2 hash as stored in the ``settings`` table.

Only the hash is stored (``argon2id`` via argon2-cffi, with the library's recommended parameters); checking a
PIN takes tens of milliseconds on purpose, so callers run it off the GUI thread. Rules: 4 to 8 digits, nothing
else, with a French message for the nurse screen when a new PIN breaks them.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 8
PIN_RULE_MESSAGE = (
    f"Le code PIN doit comporter de {PIN_MIN_DIGITS} à {PIN_MAX_DIGITS} chiffres (0 à 9), "
    "sans espace, lettre ni autre signe."
)

_hasher = PasswordHasher()


class PinError(ValueError):
    """A new PIN breaks the rules. ``nurse_message`` is the French text shown under the PIN field."""

    def __init__(self, nurse_message: str) -> None:
        super().__init__(nurse_message)
        self.nurse_message = nurse_message


def pin_problem(pin: str) -> str | None:
    """The French reason ``pin`` cannot be a PIN, or None when it follows the rules."""
    # isdigit() would accept "²" or Arabic-Indic digits, which the PIN keypad cannot type again.
    if not isinstance(pin, str) or not pin or any(c not in "0123456789" for c in pin):
        return PIN_RULE_MESSAGE
    if not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        return PIN_RULE_MESSAGE
    return None


def hash_pin(pin: str) -> str:
    """The argon2 hash to store for a new PIN; raises :class:`PinError` when the PIN breaks the rules."""
    problem = pin_problem(pin)
    if problem is not None:
        raise PinError(problem)
    return _hasher.hash(pin)


def verify_pin(pin_hash: str, pin: str) -> bool:
    """Whether ``pin`` matches the stored hash. A malformed or empty hash never matches."""
    if pin_problem(pin) is not None or not pin_hash:
        return False
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def pin_needs_rehash(pin_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: re-hash after a successful check."""
    try:
        return _hasher.check_needs_rehash(pin_hash)
    except InvalidHashError:
        return True
