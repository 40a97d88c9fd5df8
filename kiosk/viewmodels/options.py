"""Every kiosk setting, typed and declared in one place (Picard's ``options.py`` pattern).

Settings live in the store's key/value settings as text, one key ``kiosk.<field>`` per field of
:class:`KioskSettings`, beside ``kiosk.settings_version``. :func:`load_settings` first brings stored settings of
an older version up to :data:`SETTINGS_VERSION` by the steps of :mod:`kiosk.viewmodels.options_upgrade` (as
Picard's ``config_upgrade.py`` does), then parses each value by the type its field declares. A value that does
not parse falls back to that field's default, with a message saying which setting, what was found and what is
used instead; the other settings keep their values and the kiosk starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace
from functools import cache
from typing import Any, get_type_hints

from pydantic import TypeAdapter, ValidationError

from kiosk.domain.session import Mode
from kiosk.viewmodels.options_upgrade import SETTINGS_VERSION, VERSION_KEY, SettingsStore, upgrade_settings

TEXT_SIZES: tuple[float, ...] = (1.0, 1.25, 1.5, 1.75)  # A−/A+ steps; 1.0 = item text 34 px
TEXT_SIZE_NAMES = ("Normal", "Grand", "Très grand", "Maximal")

log = logging.getLogger(__name__)

#: Speaking rates the nurse can choose, in percent of normal (the audio packs are built for these: RATES).
SPEECH_RATES: tuple[int, ...] = (80, 90, 100, 115)
SPEECH_RATE_NAMES = ("Lente", "Posée (conseillée)", "Normale", "Rapide")

#: What the nurse may choose for the end of a turn and the start timeout (ms, inclusive). Below 600 ms a
#: hesitation ("euh…") ends the turn; the endpointing itself accepts 200..5000 and 1000..60000.
TRAILING_SILENCE_MS: tuple[int, int] = (600, 3000)
START_TIMEOUT_MS: tuple[int, int] = (3000, 30_000)

PIN_HASH_KEY = "nurse_pin_hash"
DEMO_PIN = "1234"

MODE_LABELS: dict[Mode, str] = {
    Mode.VOICE_CONTINUOUS: "Voix continue",
    Mode.VOICE_ON_DEMAND: "Voix à la demande",
    Mode.TOUCH: "Tactile seulement",
}


@dataclass(frozen=True)
class KioskSettings:
    """What the nurse can change in the admin screen. A new setting is a new field: its type is its parser."""

    inactivity_seconds: int = 180  # pause screen after 3 min without a touch
    abandon_seconds: int = 1200  # session closed as abandoned after 20 min without a touch
    # Touch until the voice issue lands: a voice default would send every patient through a microphone check.
    default_mode: Mode = Mode.TOUCH
    default_text_size: int = 0  # index into TEXT_SIZES
    answer_beat_ms: int = 300  # pause between a saved answer and the next item, so the patient sees the choice
    speech_rate_percent: int = 90  # speaking rate of the prompts, one of SPEECH_RATES (100 = normal)
    volume_percent: int = 100  # default output volume at the start of each session
    # Listening (version 2; before, IT set them per tablet with QLQ_VOICE_DEVICE/..._MS: see options_upgrade).
    microphone: str = ""  # input device by name (PortAudio's name, or part of it); "" = the default input
    voice_trailing_silence_ms: int = 1000  # silence that ends the patient's turn (elderly speakers pause long)
    voice_start_timeout_ms: int = 8000  # no speech within this after the prompt: re-prompt once, then touch
    default_language: str = "fr"  # the language the start form proposes (IT sets it in the provisioning file)

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
        silence = min(max(int(self.voice_trailing_silence_ms), TRAILING_SILENCE_MS[0]), TRAILING_SILENCE_MS[1])
        start = min(max(int(self.voice_start_timeout_ms), START_TIMEOUT_MS[0]), START_TIMEOUT_MS[1])
        return replace(
            self,
            inactivity_seconds=inactivity,
            abandon_seconds=abandon,
            default_text_size=size,
            answer_beat_ms=beat,
            speech_rate_percent=rate,
            volume_percent=volume,
            microphone=str(self.microphone).strip(),
            voice_trailing_silence_ms=silence,
            voice_start_timeout_ms=start,
            default_language=str(self.default_language).strip().lower() or "fr",
        )


# What the nurse reads when a stored value is unusable: the admin screen's name for each setting.
SETTING_LABELS: dict[str, str] = {
    "inactivity_seconds": "Pause après inactivité",
    "abandon_seconds": "Abandon après inactivité",
    "default_mode": "Mode par défaut",
    "default_text_size": "Taille du texte par défaut",
    "answer_beat_ms": "Pause après une réponse",
    "speech_rate_percent": "Vitesse de la voix",
    "volume_percent": "Volume au début de chaque séance",
    "microphone": "Microphone",
    "voice_trailing_silence_ms": "Fin de la réponse après un silence de",
    "voice_start_timeout_ms": "Attente de la réponse",
    "default_language": "Langue proposée",
}


@cache
def _parser(name: str) -> TypeAdapter[Any]:
    return TypeAdapter(get_type_hints(KioskSettings)[name])


@dataclass(frozen=True)
class SettingProblem:
    """A stored value that could not be used; ``default`` was used instead."""

    name: str
    stored: str
    default: object
    reason: str

    def log_text(self) -> str:
        return (
            f"setting {_key(self.name)}={self.stored!r} is invalid ({self.reason}); "
            f"using the default {setting_text(self.default)!r}"
        )

    def french(self) -> str:
        label = SETTING_LABELS.get(self.name, self.name)
        default = MODE_LABELS[self.default] if isinstance(self.default, Mode) else self.default
        return (
            f"Réglage « {label} » : la valeur enregistrée « {self.stored} » n'est pas valable ; "
            f"la valeur par défaut ({default}) est utilisée. Corrigez-la dans les réglages."
        )


@dataclass(frozen=True)
class LoadedSettings:
    settings: KioskSettings
    problems: tuple[SettingProblem, ...] = ()
    upgraded_from: int | None = None  # the stored version when upgrade steps ran

    def french(self) -> str:
        return "\n".join(problem.french() for problem in self.problems)


def _key(name: str) -> str:
    return f"kiosk.{name}"


def parse_setting(name: str, raw: str) -> Any:
    """The stored text as the field's type, e.g. ``"180"`` → 180, ``"touch"`` → :attr:`Mode.TOUCH`."""
    try:
        return _parser(name).validate_python(raw)
    except ValidationError as exc:
        raise ValueError("; ".join(error["msg"] for error in exc.errors(include_url=False))) from None


def setting_text(value: object) -> str:
    return value.value if isinstance(value, Mode) else str(value)


def load_settings(store: SettingsStore) -> LoadedSettings:
    """Upgrade the stored settings to :data:`SETTINGS_VERSION`, then parse them. Runs on the DB thread."""
    upgraded_from = upgrade_settings(store)
    values: dict[str, Any] = {}
    problems: list[SettingProblem] = []
    defaults = KioskSettings()
    for f in fields(KioskSettings):
        raw = store.get_setting(_key(f.name))
        if raw is None:
            continue
        try:
            values[f.name] = parse_setting(f.name, raw)
        except ValueError as exc:
            problem = SettingProblem(name=f.name, stored=raw, default=getattr(defaults, f.name), reason=str(exc))
            log.warning(problem.log_text())
            problems.append(problem)
    return LoadedSettings(KioskSettings(**values).checked(), tuple(problems), upgraded_from)


def save_settings(settings: KioskSettings, store: SettingsStore) -> None:
    """Write every setting and the version of this layout. Runs on the DB thread."""
    for f in fields(KioskSettings):
        store.set_setting(_key(f.name), setting_text(getattr(settings, f.name)))
    store.set_setting(VERSION_KEY, str(SETTINGS_VERSION))
