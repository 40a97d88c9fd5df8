"""The kiosk's secrets in the operating system's keyring (python ``keyring``).

Only backends that keep secrets encrypted by the operating system are accepted: the Windows Credential
Manager, the macOS Keychain, and on Linux a Secret Service (GNOME Keyring, KWallet's Secret Service) or KWallet
itself. Anything else is refused with a French message for the nurse and IT, in particular:

- ``keyring.backends.fail.Keyring`` (no keyring at all: a headless Linux without D-Bus) and
  ``keyring.backends.null.Keyring`` (silently forgets everything);
- plaintext file keyrings such as ``keyrings.alt.file.PlaintextKeyring``, which merely *installing*
  ``keyrings.alt`` makes the default, and every other backend of ``keyrings.alt`` / ``keyrings.cryptfile``;
- a ``ChainerBackend`` (the default whenever several backends are viable) is judged by what it chains: it is
  refused when it chains nothing or any backend that is not accepted, since it would fall back to it.

The rule is an allow-list, not a deny-list: a backend this module does not know is refused too, so that a new
third-party backend cannot become the place where the device token lives without someone deciding so.

``keyrings.cryptfile`` is deliberately not a dependency: a kiosk starts unattended, so the file's password would
itself have to be stored in clear next to it (and when installed it becomes the default and prompts on stdin).

Calls may block on D-Bus; callers run them off the GUI thread (see :mod:`kiosk.secrets.interface`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Final

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from kiosk.secrets.interface import SecretName, SecretStore, SecretStoreError
from kiosk.secrets.memory import MemorySecretStore

log = logging.getLogger(__name__)

SERVICE: Final = "kiosque-qlq-c30"

# module.ClassName of the backends that keep secrets encrypted by the operating system.
TRUSTED_BACKENDS: Final = frozenset(
    {
        "keyring.backends.SecretService.Keyring",  # Linux: GNOME Keyring, KeePassXC, KWallet's Secret Service
        "keyring.backends.libsecret.Keyring",  # Linux: the same service through libsecret (GObject introspection)
        "keyring.backends.kwallet.DBusKeyring",  # Linux: KDE Wallet (KF5)
        "keyring.backends.kwallet.DBusKeyringKWallet4",  # Linux: KDE Wallet (KDE 4)
        "keyring.backends.Windows.WinVaultKeyring",  # Windows Credential Manager
        "keyring.backends.macOS.Keyring",  # macOS Keychain
    }
)
_NO_KEYRING: Final = frozenset({"keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"})
_CHAINER: Final = "keyring.backends.chainer.ChainerBackend"

NO_KEYRING_MESSAGE: Final = (
    "Aucun trousseau de clés sécurisé n'est disponible sur cette tablette : la borne ne peut pas garder ses "
    "secrets (jeton de l'appareil, clé de la base de données). Prévenez le service informatique : sous Linux il "
    "faut un service « Secret Service » déverrouillé (GNOME Keyring ou KWallet) dans la session ; sous Windows, "
    "le Gestionnaire d'identification ; sous macOS, le Trousseau."
)
LOCKED_MESSAGE: Final = (
    "Le trousseau de clés de la tablette est verrouillé : la borne ne peut pas lire ses secrets. Ouvrez la "
    "session de l'utilisateur de la borne (ce qui déverrouille le trousseau) ou prévenez le service informatique."
)
ACCESS_FAILED_MESSAGE: Final = (
    "Le trousseau de clés de la tablette ne répond pas correctement : la borne ne peut pas lire ou enregistrer "
    "ses secrets. Redémarrez la tablette ; si cela recommence, prévenez le service informatique."
)


def backend_name(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _unsafe_message(name: str) -> str:
    if name in _NO_KEYRING:
        return NO_KEYRING_MESSAGE
    return (
        f"Le trousseau de clés configuré sur cette tablette (« {name} ») n'est pas un trousseau sécurisé du "
        "système : il pourrait enregistrer les secrets de la borne en clair dans un fichier. La borne refuse "
        "de l'utiliser. Prévenez le service informatique : retirez ce module (par exemple keyrings.alt) ou "
        "configurez le trousseau du système (Secret Service sous Linux, Gestionnaire d'identification sous "
        "Windows, Trousseau sous macOS)."
    )


def check_backend(backend: KeyringBackend, *, trusted: Collection[str] = TRUSTED_BACKENDS) -> None:
    """Raise :class:`SecretStoreError` unless ``backend`` (or everything a chainer chains) is trusted."""
    name = backend_name(backend)
    if name == _CHAINER:
        chained: list[KeyringBackend] = list(getattr(backend, "backends", []))
        if not chained:
            log.error("refusing the keyring: a chainer with no backend")
            raise SecretStoreError(
                "no keyring backend is available (the chainer chains nothing)", nurse_message=NO_KEYRING_MESSAGE
            )
        for inner in chained:
            check_backend(inner, trusted=trusted)
        return
    if name not in trusted:
        log.error("refusing the keyring backend %s: not an OS-encrypted keyring", name)
        raise SecretStoreError(
            f"refusing the keyring backend {name}: it is not an operating-system keyring",
            nurse_message=_unsafe_message(name),
        )


class KeyringSecretStore:
    """:class:`~kiosk.secrets.interface.SecretStore` on a checked keyring backend.

    ``backend`` defaults to what ``keyring`` selects for this machine (its config file and
    ``PYTHON_KEYRING_BACKEND`` included); it is checked at construction. ``trusted`` widens the allow-list (tests
    pass the name of their in-memory backend).
    """

    def __init__(
        self,
        backend: KeyringBackend | None = None,
        *,
        service: str = SERVICE,
        trusted: Collection[str] = TRUSTED_BACKENDS,
    ) -> None:
        self._backend = backend if backend is not None else keyring.get_keyring()
        check_backend(self._backend, trusted=trusted)
        self._service = service
        log.info("secret store: keyring backend %s", backend_name(self._backend))

    @property
    def backend(self) -> KeyringBackend:
        return self._backend

    def get(self, name: SecretName) -> str | None:
        try:
            return self._backend.get_password(self._service, SecretName(name).value)
        except keyring.errors.KeyringError as exc:
            raise self._error("read", name, exc) from exc

    def set(self, name: SecretName, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError(f"secret {name}: a non-empty string is required")
        try:
            self._backend.set_password(self._service, SecretName(name).value, value)
        except keyring.errors.KeyringError as exc:
            raise self._error("write", name, exc) from exc

    def delete(self, name: SecretName) -> None:
        try:
            if self._backend.get_password(self._service, SecretName(name).value) is None:
                return
            self._backend.delete_password(self._service, SecretName(name).value)
        except keyring.errors.PasswordDeleteError:
            return  # gone in between: deleting what is not there is not an error
        except keyring.errors.KeyringError as exc:
            raise self._error("delete", name, exc) from exc

    def _error(self, action: str, name: SecretName, exc: keyring.errors.KeyringError) -> SecretStoreError:
        # The exception text never holds the secret's value (only service and key name are passed around).
        log.error("keyring %s of %s failed: %s", action, SecretName(name).value, type(exc).__name__)
        locked = isinstance(exc, keyring.errors.KeyringLocked)
        nurse = (
            LOCKED_MESSAGE
            if locked
            else (NO_KEYRING_MESSAGE if isinstance(exc, keyring.errors.NoKeyringError) else ACCESS_FAILED_MESSAGE)
        )
        return SecretStoreError(f"keyring {action} of {SecretName(name).value} failed: {exc}", nurse_message=nurse)


def open_secret_store(*, demo: bool = False) -> SecretStore:
    """The kiosk's secret store: the OS keyring, or (demo mode only) an in-memory store that keeps nothing."""
    if demo:
        return MemorySecretStore()
    return KeyringSecretStore()
