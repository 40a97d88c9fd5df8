"""Secrets of the kiosk (device token, database key, Google credentials) behind one small interface.

The real store sits on the operating system's keyring (:mod:`kiosk.secrets.keyring_store`, which refuses
fail, null and plaintext backends); :class:`MemorySecretStore` is the fake for tests and demo mode.
"""

from kiosk.secrets.interface import SecretName, SecretStore, SecretStoreError
from kiosk.secrets.memory import MemorySecretStore

__all__ = ["MemorySecretStore", "SecretName", "SecretStore", "SecretStoreError"]
