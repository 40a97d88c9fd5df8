"""An in-memory secret store: the fake of :class:`~kiosk.secrets.interface.SecretStore` for tests."""

from __future__ import annotations

from kiosk.secrets.interface import SecretName


class MemorySecretStore:
    """Keeps secrets in a dict for the life of the object."""

    def __init__(self, initial: dict[SecretName, str] | None = None) -> None:
        self._values: dict[SecretName, str] = dict(initial or {})

    def get(self, name: SecretName) -> str | None:
        return self._values.get(name)

    def set(self, name: SecretName, value: str) -> None:
        self._values[name] = value

    def delete(self, name: SecretName) -> None:
        self._values.pop(name, None)
