"""Every kiosk setting, typed and declared in one place (Picard's ``options.py`` pattern).

Settings live in the store's key/value settings as strings; :func:`load_settings` parses them with their
defaults, so an unknown or damaged value falls back to the default instead of stopping the kiosk.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from kiosk.domain.session import Mode

TEXT_SIZES: tuple[float, ...] = (1.0, 1.25, 1.5, 1.75)  # A−/A+ steps; 1.0 = item text 34 px
TEXT_SIZE_NAMES = ("Normal", "Grand", "Très grand", "Maximal")

#: Speaking rates the nurse can choose, in percent of normal (the audio packs are built for these: RATES).
SPEECH_RATES: tuple[int, ...] = (80, 90, 100, 115)
SPEECH_RATE_NAMES = ("Lente", "Posée (conseillée)", "Normale", "Rapide")

PIN_HASH_KEY = "nurse_pin_hash"
DEMO_PIN = "1234"

MODE_LABELS: dict[Mode, str] = {
    Mode.VOICE_CONTINUOUS: "Voix continue",
    Mode.VOICE_ON_DEMAND: "Voix à la demande",
    Mode.TOUCH: "Tactile seulement",
}


@dataclass(frozen=True)
class KioskSettings:
    """What the nurse can change in the admin screen."""

    inactivity_seconds: int = 180  # pause screen after 3 min without a touch
    abandon_seconds: int = 1200  # session closed as abandoned after 20 min without a touch
    # Touch until the voice issue lands: a voice default would send every patient through a microphone check.
    default_mode: Mode = Mode.TOUCH
    default_text_size: int = 0  # index into TEXT_SIZES
    answer_beat_ms: int = 300  # pause between a saved answer and the next item, so the patient sees the choice
    speech_rate_percent: int = 90  # speaking rate of the prompts, one of SPEECH_RATES (100 = normal)
    volume_percent: int = 100  # default output volume at the start of each session

    def with_changes(self, **changes: Any) -> KioskSettings:
        return replace(self, **changes).checked()

    def checked(self) -> KioskSettings:
        """Clamp values to sane ranges (abandon always after pause)."""
        inactivity = min(max(int(self.inactivity_seconds), 30), 3600)
        abandon = min(max(int(self.abandon_seconds), inactivity + 60), 4 * 3600)
        size = min(max(int(self.default_text_size), 0), len(TEXT_SIZES) - 1)
        beat = min(max(int(self.answer_beat_ms), 0), 2000)
        rate = min(SPEECH_RATES, key=lambda r: abs(r - int(self.speech_rate_percent)))
        volume = min(max(int(self.volume_percent), 0), 100)
        return replace(self, inactivity_seconds=inactivity, abandon_seconds=abandon, default_text_size=size,
                       answer_beat_ms=beat, speech_rate_percent=rate, volume_percent=volume)


def _key(name: str) -> str:
    return f"kiosk.{name}"


def load_settings(get: Any) -> KioskSettings:
    """Build settings from ``get(key) -> str | None`` (the store's ``get_setting``). Runs on the DB thread."""
    values: dict[str, Any] = {}
    defaults = KioskSettings()
    for f in fields(KioskSettings):
        raw = get(_key(f.name))
        if raw is None:
            continue
        try:
            values[f.name] = Mode(raw) if f.name == "default_mode" else int(raw)
        except ValueError:
            values[f.name] = getattr(defaults, f.name)
    return KioskSettings(**values).checked()


def save_settings(settings: KioskSettings, set_: Any) -> None:
    """Write every setting with ``set_(key, value)`` (the store's ``set_setting``). Runs on the DB thread."""
    for f in fields(KioskSettings):
        value = getattr(settings, f.name)
        set_(_key(f.name), value.value if isinstance(value, Mode) else str(value))
