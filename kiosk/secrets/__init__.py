"""Secrets of the kiosk (device token, database key, Google credentials) behind one small interface.

The real store sits on the operating system's keyring; :class:`MemorySecretStore` is the fake for tests.
"""

from kiosk.secrets.interface import SecretName, SecretStore, SecretStoreError
from kiosk.secrets.memory import MemorySecretStore

__all__ = ["MemorySecretStore", "SecretName", "SecretStore", "SecretStoreError"]
