"""The kiosk's real secret store, opened where secrets are needed: :func:`open_kiosk_secrets`.

Which store: in the Linux kiosk session the .deb installs (systemd gives the service its sealed credential
``qlq-database-key`` in ``$CREDENTIALS_DIRECTORY``; there is no desktop keyring there), the
:class:`~kiosk.secrets.sealed_file.SealedFileSecretStore` in the kiosk's data folder, sealed with that credential;
everywhere else the OS keyring (:mod:`kiosk.secrets.keyring_store`: Windows Credential Manager, macOS Keychain, a
Secret Service on a Linux desktop); in demo mode a memory store that keeps nothing.

The running kiosk (:mod:`kiosk.app`, which hands it to :class:`~kiosk.viewmodels.kiosk_vm.KioskViewModel`, whose
voice set-up reads the Google credentials from it), its sync, ``qlq-kiosk enroll`` / ``sync`` and
``prepare-audio`` all open it here. :func:`open_system_store` returns None instead of raising when this build has
no keyring store, and the Google clients then use the standard Google environment (``GOOGLE_APPLICATION_
CREDENTIALS``, provisioned by IT outside the app folder).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from kiosk.secrets.interface import SecretStore

log = logging.getLogger(__name__)

#: The systemd credential the .deb's unit loads (``LoadCredentialEncrypted=``): it seals the secrets file too.
SEALING_CREDENTIAL: Final = "qlq-database-key"
SEALED_FILE: Final = "secrets.sealed"


def sealing_credential(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The credential systemd decrypted for this service, or None when not running as the .deb's service."""
    folder = (os.environ if environ is None else environ).get("CREDENTIALS_DIRECTORY", "").strip()
    if not folder:
        return None
    try:
        return (Path(folder) / SEALING_CREDENTIAL).read_bytes()
    except FileNotFoundError:
        return None


def open_kiosk_secrets(data_dir: Path | None, *, demo: bool = False) -> SecretStore:
    """The kiosk's secret store for its data folder ``data_dir`` (see the module docstring). Raises
    :class:`~kiosk.secrets.interface.SecretStoreError` (French) when the OS keyring is one the kiosk refuses; each
    call on the store may raise it too."""
    if demo:
        from kiosk.secrets.memory import MemorySecretStore

        return MemorySecretStore()
    credential = sealing_credential()
    if credential is not None and data_dir is not None:
        from kiosk.secrets.sealed_file import SealedFileSecretStore

        return SealedFileSecretStore(Path(data_dir) / SEALED_FILE, credential)
    module = importlib.import_module("kiosk.secrets.keyring_store")
    store: SecretStore = module.open_secret_store()
    return store


def open_system_store(*, demo: bool = False, data_dir: Path | None = None) -> SecretStore | None:
    """:func:`open_kiosk_secrets`, or None when this build or this machine has none (reason logged, no secret)."""
    try:
        return open_kiosk_secrets(data_dir, demo=demo)
    except ImportError:
        log.info("no keyring secret store in this build: Google credentials from the standard environment")
        return None
    except Exception as exc:  # no usable store: voice shows unavailable unless the Google environment is set
        log.warning(
            "the secret store cannot be opened (%s): Google credentials from the environment", type(exc).__name__
        )
        return None
