"""The kiosk's real secret store, opened once by the application and injected where secrets are needed.

The OS keyring store is :mod:`kiosk.secrets.keyring_store` (``open_secret_store``), built by the sync work. This
is the one place that opens it: the running kiosk (:mod:`kiosk.app`, which hands it to
:class:`~kiosk.viewmodels.kiosk_vm.KioskViewModel`, whose voice set-up reads the Google credentials of
speech-to-text from it) and ``qlq-kiosk prepare-audio`` (text-to-speech) both call :func:`open_system_store`.
When this build has no keyring store, or the keyring cannot be used, it returns None and the Google clients use
the standard Google environment (``GOOGLE_APPLICATION_CREDENTIALS``, provisioned by IT outside the app folder).
"""

from __future__ import annotations

import importlib
import logging

from kiosk.secrets.interface import SecretStore

log = logging.getLogger(__name__)


def open_system_store(*, demo: bool = False) -> SecretStore | None:
    """The OS keyring store, or None when this build or this machine has none (reason logged, no secret)."""
    try:
        module = importlib.import_module("kiosk.secrets.keyring_store")
    except ImportError:
        log.info("no keyring secret store in this build: Google credentials from the standard environment")
        return None
    try:
        store: SecretStore = module.open_secret_store(demo=demo)
    except Exception as exc:  # no usable keyring: voice shows unavailable unless the Google environment is set
        log.warning("the keyring secret store cannot be opened (%s): Google credentials from the environment",
                    type(exc).__name__)
        return None
    return store
