"""Upgrade steps for the kiosk's stored settings, one function per version (Picard's ``config_upgrade.py``).

The settings layout has a version, stored as ``kiosk.settings_version``. When a kiosk update changes the
layout (a setting renamed, split, or stored in another unit), it raises :data:`SETTINGS_VERSION` and adds the
step that rewrites the previous layout into the new one. :func:`upgrade_settings` runs, in order, every step
newer than the stored version and records each version as soon as its step is done, so an interrupted upgrade
resumes at the next step. Settings written by a newer kiosk are read as they are and never written down to an
older version.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Protocol

log = logging.getLogger(__name__)

VERSION_KEY = "kiosk.settings_version"


class SettingsStore(Protocol):
    def get_setting(self, key: str) -> str | None: ...

    def set_setting(self, key: str, value: str) -> None: ...


Step = Callable[[SettingsStore], None]


def upgrade_to_v1(_store: SettingsStore) -> None:
    """Version 1, the first with a number. Kiosks before it (version 0: no version key) wrote the same keys,
    ``kiosk.<field>`` as text, so there is nothing to convert; from now on the version is recorded."""


#: Version 2's voice settings and the QLQ_VOICE_* variable IT used for each before (value, range in ms or None).
V2_FROM_ENVIRONMENT: Mapping[str, tuple[str, tuple[int, int] | None]] = {
    "kiosk.microphone": ("QLQ_VOICE_DEVICE", None),
    "kiosk.voice_trailing_silence_ms": ("QLQ_VOICE_TRAILING_SILENCE_MS", (600, 3000)),
    "kiosk.voice_start_timeout_ms": ("QLQ_VOICE_START_TIMEOUT_MS", (3000, 30_000)),
}


def upgrade_to_v2(store: SettingsStore, env: Mapping[str, str] | None = None) -> None:
    """Version 2 moves the listening settings (microphone by name, trailing silence, start timeout) from the
    tablet's environment (``QLQ_VOICE_DEVICE``, ``QLQ_VOICE_TRAILING_SILENCE_MS``, ``QLQ_VOICE_START_TIMEOUT_MS``,
    which IT set per tablet) into the settings the nurse edits. So that an updated tablet keeps the microphone
    and timings IT chose, each variable that is set and valid is written once into its setting (a value already
    stored wins); an invalid one is logged and the default applies. From then on the variables are not read."""
    env = os.environ if env is None else env
    for key, (variable, limits) in V2_FROM_ENVIRONMENT.items():
        raw = env.get(variable, "").strip()
        if not raw or store.get_setting(key) is not None:
            continue
        if limits is not None:
            try:
                value = int(raw)
            except ValueError:
                log.warning("%s=%r is not a number: not carried into the settings", variable, raw)
                continue
            if not limits[0] <= value <= limits[1]:
                log.warning("%s=%d is outside %d..%d: not carried into the settings", variable, value, *limits)
                continue
            raw = str(value)
        store.set_setting(key, raw)
        log.info("setting %s taken from %s", key, variable)


UPGRADES: Mapping[int, Step] = {1: upgrade_to_v1, 2: upgrade_to_v2}
SETTINGS_VERSION = max(UPGRADES)


def stored_version(store: SettingsStore, *, newest: int = SETTINGS_VERSION) -> int:
    """The stored layout's version: 0 when none is stored; ``newest`` (no step runs) when it is unreadable."""
    raw = store.get_setting(VERSION_KEY)
    if raw is None:
        return 0
    try:
        version = int(raw)
        if version < 0:
            raise ValueError(raw)
    except ValueError:
        log.warning("setting %s=%r is not a version number; no upgrade step runs", VERSION_KEY, raw)
        return newest
    return version


def upgrade_settings(store: SettingsStore, steps: Mapping[int, Step] = UPGRADES) -> int | None:
    """Run the steps newer than the stored version, in order. Returns the version upgraded from, or None."""
    newest = max(steps)
    version = stored_version(store, newest=newest)
    if version > newest:
        log.warning(
            "settings version %d is newer than this kiosk's %d: read as they are, never downgraded", version, newest
        )
        return None
    if version == newest:
        return None
    for number in sorted(n for n in steps if n > version):
        steps[number](store)
        store.set_setting(VERSION_KEY, str(number))
        log.info("settings upgraded to version %d", number)
    return version
