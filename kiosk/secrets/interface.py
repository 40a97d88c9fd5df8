"""What the kiosk needs from a secret store: get, set and delete a named secret (text).

Every secret the kiosk holds has a name here, so that nothing else invents its own key names. Calls may block
(a keyring daemon answers over D-Bus): callers run them off the GUI thread.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class SecretName(StrEnum):
    """The secrets the kiosk keeps."""

    DEVICE_TOKEN = "device-token"  # noqa: S105 - a key name, not a secret: the token the centre issued (sync)
    DATABASE_KEY = "database-key"  # the key of the encrypted local database
    GOOGLE_CREDENTIALS = "google-credentials"  # a Google Cloud service-account key (JSON text), for TTS and STT


class SecretStoreError(Exception):
    """The secret store cannot be used. ``nurse_message`` is French text saying what happened and what to do."""

    def __init__(self, message: str, *, nurse_message: str) -> None:
        super().__init__(message)
        self.nurse_message = nurse_message


class SecretStore(Protocol):
    """A place for the kiosk's secrets. ``get`` returns None for a secret never set (or deleted)."""

    def get(self, name: SecretName) -> str | None: ...

    def set(self, name: SecretName, value: str) -> None: ...

    def delete(self, name: SecretName) -> None:
        """Forget the secret; deleting one that is not there is not an error."""
        ...
