"""The provisioning file IT pushes with the installer: read, validated field by field, applied at start.

One flat TOML table (format in ``installer/README.md``, "Provisioning file"): the link to the centre
(``server_url``, ``site``, ``enrollment_code``, ``ca_bundle``; ``update_url`` for updates from another server
than the centre's) and any kiosk setting under its
:class:`~kiosk.viewmodels.options.KioskSettings` name (``default_mode``, ``speech_rate_percent``,
``inactivity_seconds``, ``microphone``…), plus ``language`` for the default language of sessions.

Bad input: each field is checked on its own; a bad one is reported in French with its name and what was wrong
(:class:`ProvisioningProblem`, shown on the admin screen) and left out — that setting keeps its default or the
value it had — while every other field still applies. A file that is not TOML at all is one problem (with its
line and column) and nothing from it applies.

**Who wins, IT or the nurse** (:func:`apply_settings`): a value IT sets in the file is applied when it is new or
changed since the last start (the store remembers what it last applied, ``provisioning.applied.<field>``). After
that the nurse may change it on the admin screen, and her change stands until IT changes *that field* in the
file. A field the file does not set is never touched: the nurse's value stays, whatever else the file changes.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import tomlkit
from tomlkit.exceptions import ParseError

from kiosk.viewmodels.options import SETTING_LABELS, KioskSettings, parse_setting, setting_text
from kiosk.viewmodels.options_upgrade import SettingsStore

log = logging.getLogger(__name__)

FORMAT: Final = 1
PATH_ENV: Final = "QLQ_PROVISIONING_FILE"
APPLIED_PREFIX: Final = "provisioning.applied."
LANGUAGES: Final = ("fr", "en")
CONNECTION_FIELDS: Final = ("server_url", "site", "enrollment_code", "ca_bundle", "update_url")
#: Settings IT may set (every KioskSettings field but the patient-facing answer beat, a tuning knob).
SETTING_FIELDS: Final = tuple(f.name for f in fields(KioskSettings) if f.name != "answer_beat_ms")
FIELD_LABELS: Final = {
    "format": "format du fichier",
    "server_url": "adresse du serveur",
    "site": "code du site",
    "enrollment_code": "code d'enregistrement",
    "ca_bundle": "certificats de l'hôpital",
    "update_url": "adresse des mises à jour",
    "language": "langue par défaut",
    **{name: SETTING_LABELS.get(name, name).lower() for name in SETTING_FIELDS},
}
_SITE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{3,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def default_path() -> Path:
    """``$QLQ_PROVISIONING_FILE``, else the per-machine place the installers write it."""
    override = os.environ.get(PATH_ENV)
    if override:
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "QLQ-Kiosk" / "kiosk.toml"
    if sys.platform == "darwin":
        return Path("/Library/Application Support/QLQ-Kiosk/kiosk.toml")
    return Path("/etc/qlq-kiosk/kiosk.toml")


@dataclass(frozen=True)
class ProvisioningProblem:
    path: Path
    field: str  # "" for the file as a whole
    value: str  # what was found, shortened (never an enrollment code: that is shown masked)
    reason: str  # French

    def french(self) -> str:
        if not self.field:
            return f"Fichier de configuration {self.path} : {self.reason}. Il n'est pas appliqué."
        label = FIELD_LABELS.get(self.field, self.field)
        return (
            f"Fichier de configuration {self.path}, champ « {self.field} » ({label}) : {self.reason} "
            f"(valeur « {self.value} ») ; ce champ est ignoré, la valeur par défaut ou actuelle reste."
        )


@dataclass(frozen=True)
class Provisioning:
    """What a provisioning file validly says, and what it says wrongly."""

    path: Path
    exists: bool = False
    connection: dict[str, str] = field(default_factory=dict)  # server_url, site, enrollment_code, ca_bundle
    settings: dict[str, Any] = field(default_factory=dict)  # KioskSettings field -> parsed value
    problems: tuple[ProvisioningProblem, ...] = ()

    def french(self) -> str:
        return "\n".join(problem.french() for problem in self.problems)


def _shown(name: str, value: object) -> str:
    text = str(value)
    if name == "enrollment_code" and len(text) > 2:
        return text[:2] + "…"
    return text if len(text) <= 80 else text[:77] + "…"


def _check_connection(name: str, value: object) -> str:
    """The value as text, or raise ValueError with the French reason."""
    if not isinstance(value, str):
        raise ValueError("une chaîne de caractères entre guillemets est attendue")
    text = value.strip()
    if not text or _CONTROL.search(text):
        raise ValueError("vide ou contient un caractère de contrôle")
    if name in ("server_url", "update_url"):
        parts = urlsplit(text)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("une adresse https:// complète est attendue (ex. https://qlq.hopital.fr)")
        return text.rstrip("/")
    if name == "site" and not _SITE.fullmatch(text):
        raise ValueError("lettres, chiffres, « - », « _ » ou « . » seulement, 64 au plus")
    if name == "enrollment_code" and not _CODE.fullmatch(text):
        raise ValueError("le code donné par « qlq-server enroll » est attendu (lettres, chiffres, tirets)")
    if name == "ca_bundle":
        path = Path(text)
        try:
            pem = path.read_bytes()[:1_000_000]
        except OSError as exc:
            raise ValueError(f"fichier illisible ({exc.strerror or type(exc).__name__})") from None
        if b"-----BEGIN CERTIFICATE-----" not in pem:
            raise ValueError("ce fichier ne contient pas de certificat au format PEM")
    return text


def _check_setting(name: str, value: object) -> Any:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("un nombre ou une chaîne de caractères est attendu")
    try:
        parsed = parse_setting(name, str(value) if not isinstance(value, str) else value)
    except ValueError:
        raise ValueError("valeur non reconnue") from None
    defaults = KioskSettings()
    if name == "abandon_seconds":  # checked against the default pause, as the file may not set it
        kept = getattr(defaults.with_changes(abandon_seconds=parsed), name)
    else:
        kept = getattr(defaults.with_changes(**{name: parsed}), name)
    if kept != parsed:
        raise ValueError(f"hors des limites permises (la plus proche serait {setting_text(kept)})")
    return parsed


def parse(text: str, path: Path, *, languages: tuple[str, ...] = LANGUAGES) -> Provisioning:
    try:
        document = tomlkit.parse(text)
    except ParseError as exc:
        return Provisioning(
            path,
            True,
            problems=(
                ProvisioningProblem(
                    path, "", "", f"ce n'est pas un fichier TOML valable (ligne {exc.line}, colonne {exc.col})"
                ),
            ),
        )
    data = document.unwrap()
    problems: list[ProvisioningProblem] = []
    connection: dict[str, str] = {}
    settings: dict[str, Any] = {}
    for name, value in data.items():
        try:
            if name == "format":
                if value != FORMAT:
                    raise ValueError(f"seul le format {FORMAT} est connu de cette version")
            elif name in CONNECTION_FIELDS:
                connection[name] = _check_connection(name, value)
            elif name == "language":
                if value not in languages:
                    raise ValueError(f"une des langues installées est attendue : {', '.join(languages)}")
                settings["default_language"] = value
            elif name in SETTING_FIELDS:
                settings[name] = _check_setting(name, value)
            elif isinstance(value, dict):
                raise ValueError("une table n'est pas attendue ici : le fichier est une seule liste de champs")
            else:
                raise ValueError("champ inconnu de cette version du kiosque")
        except ValueError as exc:
            problems.append(ProvisioningProblem(path, name, _shown(name, value), str(exc)))
    for problem in problems:
        log.warning("provisioning file %s: field %r refused", path, problem.field)
    return Provisioning(path, True, connection, settings, tuple(problems))


def load(path: Path | None = None, *, languages: tuple[str, ...] = LANGUAGES) -> Provisioning:
    """The provisioning file at ``path`` (default :func:`default_path`); an absent file provisions nothing."""
    path = default_path() if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return Provisioning(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        return Provisioning(path, True, problems=(ProvisioningProblem(path, "", "", f"illisible ({reason})"),))
    return parse(text, path, languages=languages)


def apply_settings(provisioning: Provisioning, store: SettingsStore) -> list[str]:
    """Write the file's settings that are new or changed since they were last applied (see the module's rule);
    the names written. The caller reloads the settings afterwards."""
    written = []
    for name, value in provisioning.settings.items():
        text = setting_text(value)
        marker = APPLIED_PREFIX + name
        if store.get_setting(marker) == text:
            continue  # IT's value was applied before: whatever the nurse did since stands
        store.set_setting(f"kiosk.{name}", text)
        store.set_setting(marker, text)
        written.append(name)
    if written:
        log.info("provisioning applied: %s", ", ".join(sorted(written)))
    return written


def write(path: Path, values: Mapping[str, Any], *, languages: tuple[str, ...] = LANGUAGES) -> Provisioning:
    """Merge ``values`` into the file at ``path`` (created if need be; comments and other fields kept; a value of
    None removes the field), validate the result, and write it atomically only if every field is valid.
    Returns what was written; raises ValueError listing the French problems otherwise."""
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8-sig")) if path.exists() else tomlkit.document()
    except ParseError as exc:
        raise ValueError(
            f"{path} : ce n'est pas un fichier TOML valable (ligne {exc.line}, colonne {exc.col}) ; "
            "corrigez-le ou supprimez-le d'abord"
        ) from None
    if "format" not in document:
        if not document.body:
            document.add(tomlkit.comment("Kiosque QLQ-C30 provisioning (format: installer/README.md)"))
        document["format"] = FORMAT
    for name, value in values.items():
        if value is None:
            document.pop(name, None)
        else:
            document[name] = value
    text = tomlkit.dumps(document)
    checked = parse(text, path, languages=languages)
    if checked.problems:
        raise ValueError("\n".join(problem.french() for problem in checked.problems))
    _atomic_write(path, text)
    return checked


def consume_enrollment_code(path: Path) -> bool:
    """Erase ``enrollment_code`` from the file once it was used (the rest, comments included, kept). False when
    the file cannot be rewritten (the kiosk then remembers the code was used: it is single-use at the centre)."""
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8-sig"))
        if "enrollment_code" not in document:
            return True
        document.pop("enrollment_code")
        _atomic_write(path, tomlkit.dumps(document))
    except (OSError, ParseError) as exc:
        log.warning("could not erase the used enrollment code from %s: %s", path, type(exc).__name__)
        return False
    log.info("erased the used enrollment code from %s", path)
    return True


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o640
    fd, temp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
