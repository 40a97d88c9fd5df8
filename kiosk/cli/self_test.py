"""``qlq-kiosk --self-test``: check that this installation of the kiosk can work, without a screen or a patient.

Runs offscreen, in a temporary folder that is removed afterwards (the kiosk's own database, settings and keyring
entries are never touched), a list of checks in order. Each one ends ``passed``, ``failed`` or ``skipped`` (the
build lacks the part it checks: never counted as passed). One line per check: passed and skipped ones on
standard output, failed ones on standard error, each in French then English. Exit code 0 when nothing failed,
1 otherwise; ``--json`` prints one JSON object instead (for the updater and IT scripts).

The checks are a plain list, :data:`CHECKS`. ``skipped`` is for a part this installation legitimately lacks
(e.g. no audio pack in a source checkout, where packs are built by ``prepare-audio``).

Exit-crash trap (platform notes): a Qt + gRPC + multimedia process may segfault in PySide's atexit clean-up.
The window is closed and deleted explicitly with ``shiboken6.delete``, the gRPC servers and channels are closed,
and the tests check the process's exit code, not just the lines printed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

Status = Literal["passed", "failed", "skipped"]

WINDOW_TIMEOUT_S = 30.0
RPC_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Outcome:
    """The result of one check: French and English text saying what was found (or what is wrong, and where)."""

    status: Status
    fr: str
    en: str


def passed(fr: str, en: str) -> Outcome:
    return Outcome("passed", fr, en)


def failed(fr: str, en: str) -> Outcome:
    return Outcome("failed", fr, en)


def skipped(fr: str, en: str) -> Outcome:
    return Outcome("skipped", fr, en)


@dataclass
class Context:
    """What the checks share: the temporary folder (each check makes its own sub-folder)."""

    workdir: Path

    def folder(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass(frozen=True)
class Check:
    id: str
    title_fr: str
    title_en: str
    run: Callable[[Context], Outcome]


@dataclass(frozen=True)
class Result:
    id: str
    title_fr: str
    title_en: str
    status: Status
    fr: str
    en: str
    seconds: float

    def line(self) -> str:
        word_fr, word_en = {"passed": ("OK", "OK"), "failed": ("ÉCHEC", "FAILED"), "skipped": ("IGNORÉ", "SKIPPED")}[
            self.status
        ]
        return f"{word_fr} {self.title_fr} : {self.fr} / {word_en} {self.title_en}: {self.en}"


# ----------------------------------------------------------------------------------------------- instruments
def check_instruments(ctx: Context) -> Outcome:
    """Every instrument file built in is there, loads, and has the content hash recorded at build time; no other
    instrument file sits beside them (the kiosk would offer it unverified)."""
    from kiosk.domain.instrument import InstrumentError, available_instruments, load_instrument_file
    from kiosk.domain.instrument_hashes import INSTRUMENT_SHA256
    from kiosk.domain.resources import instruments_dir

    try:
        folder = instruments_dir()
    except FileNotFoundError as exc:
        return failed(f"dossier des questionnaires introuvable ({exc})", f"instrument folder not found ({exc})")
    problems_fr: list[str] = []
    problems_en: list[str] = []
    present = {path.name: path for path in available_instruments(folder).values()}
    for name, expected in sorted(INSTRUMENT_SHA256.items()):
        path = folder / name
        if name not in present:
            problems_fr.append(f"{path} manque")
            problems_en.append(f"{path} is missing")
            continue
        try:
            instrument = load_instrument_file(path)
        except InstrumentError as exc:
            first = str(exc).splitlines()
            detail = first[1] if len(first) > 1 else first[0]
            problems_fr.append(f"{path} illisible ({detail})")
            problems_en.append(f"{path} does not load ({detail})")
            continue
        if instrument.content_sha256 != expected:
            problems_fr.append(
                f"{path} a été modifié (empreinte {instrument.content_sha256[:12]}…, attendue {expected[:12]}…)"
            )
            problems_en.append(
                f"{path} was modified (sha256 {instrument.content_sha256[:12]}…, expected {expected[:12]}…)"
            )
    for name in sorted(set(present) - set(INSTRUMENT_SHA256)):
        problems_fr.append(f"{folder / name} ne fait pas partie de cette version")
        problems_en.append(f"{folder / name} is not part of this build")
    if problems_fr:
        return failed("; ".join(problems_fr), "; ".join(problems_en))
    count = len(INSTRUMENT_SHA256)
    return passed(
        f"{count} questionnaires chargés, empreintes conformes", f"{count} instruments load, hashes match the build"
    )


# ----------------------------------------------------------------------------------------------- audio pack
PACK_LANGUAGES = ("fr",)  # the languages whose pack a release ships (installer/build.sh runs prepare-audio)


def check_audio_pack(ctx: Context) -> Outcome:
    """Each shipped language's pack speaks every prompt of the current wording at every offered rate.

    The same hash rule as playback (:meth:`AudioPack.lookup`): a clip for an older wording counts as stale. A
    frozen bundle without its pack fails (the build forgot it; the kiosk would fall back to espeak-ng or silence);
    a source checkout without packs is skipped (they are built by ``qlq-kiosk prepare-audio``, never committed).
    """
    from kiosk.audio.pack import RATES, AudioPack, PackError, check_complete, packs_root
    from kiosk.domain.instrument import InstrumentError, load_instrument
    from kiosk.domain.prompts import prompt_catalogue

    root = packs_root()
    counts, problems_fr, problems_en = [], [], []
    for language in PACK_LANGUAGES:
        folder = root / language
        try:
            pack = AudioPack.load(folder, language)
            catalogue = prompt_catalogue(load_instrument("qlq-c30", language))
        except (PackError, InstrumentError) as exc:
            problems_fr.append(f"pack {language} illisible : {exc}")
            problems_en.append(f"pack {language} unreadable: {exc}")
            continue
        if len(pack) == 0:
            if not getattr(sys, "frozen", False):
                return skipped(
                    f"pas de pack audio dans {root} (version source : qlq-kiosk prepare-audio le construit)",
                    f"no audio pack in {root} (source checkout: qlq-kiosk prepare-audio builds it)",
                )
            problems_fr.append(f"pack {language} absent de {folder}")
            problems_en.append(f"pack {language} missing from {folder}")
            continue
        gaps = check_complete(pack, catalogue)
        if gaps:
            shown = ", ".join(f"{g.prompt_id}@{g.rate:g} ({g.status.value})" for g in gaps[:5])
            more = f" … (+{len(gaps) - 5})" if len(gaps) > 5 else ""
            problems_fr.append(f"pack {language} incomplet, {len(gaps)} clips manquants ou périmés : {shown}{more}")
            problems_en.append(f"pack {language} incomplete, {len(gaps)} clips missing or stale: {shown}{more}")
            continue
        counts.append(f"{language} ({len(catalogue)} messages × {len(RATES)} débits)")
    if problems_fr:
        return failed("; ".join(problems_fr), "; ".join(problems_en))
    return passed(
        f"packs complets : {', '.join(counts)}",
        f"packs complete: {', '.join(counts).replace('messages', 'prompts').replace('débits', 'rates')}",
    )


# ----------------------------------------------------------------------------------------------- database
def check_database(ctx: Context) -> Outcome:
    """A new encrypted database file is created, migrated to the newest schema, written, closed and opened again
    (as the kiosk opens it, with its key in a memory store: the real keyring is the secret-store check's)."""
    from kiosk.secrets.memory import MemorySecretStore
    from kiosk.storage import database
    from kiosk.storage.encryption import open_encrypted_store
    from kiosk.storage.paths import DATABASE_FILE

    path = ctx.folder("database") / DATABASE_FILE
    secrets = MemorySecretStore()
    with open_encrypted_store(path, secrets) as store:
        store.set_setting("self-test", "written")
        device = store.device_id()
    with open_encrypted_store(path, secrets) as store:
        value, device_again = store.get_setting("self-test"), store.device_id()
        with store._transaction("self-test") as conn:
            revision = database.current_revision(conn)
    if revision != database.HEAD_REVISION:
        return failed(
            f"schéma {revision} après migration, attendu {database.HEAD_REVISION}",
            f"schema {revision} after migrating, expected {database.HEAD_REVISION}",
        )
    if value != "written" or device_again != device:
        return failed(
            "la base rouverte n'a pas gardé ce qui y a été écrit", "the reopened database lost what was written to it"
        )
    return passed(
        f"créée, migrée (schéma {revision}) et rouverte", f"created, migrated (schema {revision}) and reopened"
    )


SELF_TEST_MARKER = "QLQ-SELF-TEST-7f3a9c"  # written, then searched for in the raw bytes


def check_database_encryption(ctx: Context) -> Outcome:
    """SQLCipher is in this build and works: a marker written through the store is in neither the file nor its
    -wal, the file has no SQLite header, another key is refused, the right key reads the marker back."""
    import sqlcipher3.dbapi2 as sqlcipher

    from kiosk.storage import database
    from kiosk.storage.encryption import new_key
    from kiosk.storage.interface import CorruptDatabaseError
    from kiosk.storage.paths import DATABASE_FILE
    from kiosk.storage.sqlite_store import SqliteSessionStore

    probe = database.connect(":memory:", key=None)
    try:
        version = probe.execute("PRAGMA cipher_version").fetchone()
    finally:
        probe.close()
    if not version or not version[0]:
        return failed(
            f"SQLite sans SQLCipher ({sqlcipher.sqlite_version})",
            f"SQLite without SQLCipher ({sqlcipher.sqlite_version})",
        )
    path = ctx.folder("encryption") / DATABASE_FILE
    key = new_key()
    with SqliteSessionStore(path, key=key) as store:
        store.set_setting("self-test", SELF_TEST_MARKER)
        readable = [
            p.name for p in path.parent.iterdir() if p.is_file() and SELF_TEST_MARKER.encode() in p.read_bytes()
        ]
    if readable or database.is_plaintext(path):
        where = ", ".join(readable) or path.name
        return failed(f"données lisibles en clair dans {where}", f"data readable in plaintext in {where}")
    with contextlib.suppress(CorruptDatabaseError):  # refused, as it must be
        SqliteSessionStore(path, key=new_key()).close()
        return failed("une autre clé ouvre la base", "another key opens the database")
    with SqliteSessionStore(path, key=key) as store:
        if store.get_setting("self-test") != SELF_TEST_MARKER:
            return failed(
                "la base chiffrée rouverte n'a pas gardé ce qui y a été écrit",
                "the reopened encrypted database lost what was written to it",
            )
    return passed(
        f"SQLCipher {version[0]} : fichier et journal illisibles sans la clé",
        f"SQLCipher {version[0]}: file and journal unreadable without the key",
    )


# ----------------------------------------------------------------------------------------------- secret store
def check_secret_store(ctx: Context) -> Outcome:
    """The keyring backend is one the kiosk itself accepts (the same allow-list); read only: nothing is stored.

    The rule is the kiosk's own (:func:`kiosk.secrets.keyring_store.check_backend`): only operating-system
    keyrings (Secret Service, KWallet, Windows Credential Manager, macOS Keychain), and a chainer only if all it
    chains are; anything else (no keyring, one that forgets, plaintext or password files) fails here as it would
    at the first enrollment. In the .deb's kiosk session (its systemd credential present), the store is the sealed
    file instead: the credential must derive a key and the kiosk's file, if there is one, must decrypt with it.
    """
    from kiosk.secrets.interface import SecretStoreError
    from kiosk.secrets.system import sealing_credential

    credential = sealing_credential()
    if credential is not None:
        return _check_sealed_store(credential)
    import keyring

    from kiosk.secrets import keyring_store

    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # e.g. PYTHON_KEYRING_BACKEND names a backend that cannot start here
        return failed(
            f"le trousseau de clés ne s'ouvre pas ({type(exc).__name__}: {exc})",
            f"the keyring does not open ({type(exc).__name__}: {exc})",
        )
    name = keyring_store.backend_name(backend)
    try:
        keyring_store.check_backend(backend, trusted=keyring_store.TRUSTED_BACKENDS)
    except SecretStoreError as exc:
        return failed(
            f"trousseau refusé ({name}) : {exc.nurse_message}",
            f"keyring refused ({name}): {exc}; configure the system keyring (Secret Service, Windows "
            "Credential Manager, macOS Keychain)",
        )
    try:  # a backend's priority says whether it can work here (e.g. Secret Service: D-Bus and the daemon answer)
        _ = backend.priority
    except Exception as exc:
        return failed(
            f"le trousseau {name} ne répond pas ({type(exc).__name__}: {exc})",
            f"keyring {name} is not reachable ({type(exc).__name__}: {exc})",
        )
    return passed(f"trousseau {name}", f"keyring {name}")


def _check_sealed_store(credential: bytes) -> Outcome:
    from kiosk.secrets.interface import SecretStoreError
    from kiosk.secrets.sealed_file import SealedFileSecretStore
    from kiosk.secrets.system import SEALED_FILE
    from kiosk.storage import paths

    path = paths.data_dir() / SEALED_FILE
    try:
        SealedFileSecretStore(path, credential).check()
    except ValueError as exc:
        return failed(f"identifiant systemd inutilisable : {exc}", f"the systemd credential is unusable: {exc}")
    except SecretStoreError as exc:
        return failed(f"fichier des secrets illisible : {exc.nurse_message}", f"sealed secret file: {exc}")
    exists = path.exists()
    return passed(
        f"secrets scellés par l'identifiant systemd ({SEALED_FILE} {'présent' if exists else 'à venir'})",
        f"secrets sealed by the systemd credential ({SEALED_FILE} {'present' if exists else 'not yet made'})",
    )


# ----------------------------------------------------------------------------------------------- speech, TTS
class _LoopbackGoogle:
    """A gRPC server on 127.0.0.1 answering like Google's Speech (StreamingRecognize) and Text-to-Speech
    (SynthesizeSpeech) services, so that the real client libraries make one real call each."""

    TRANSCRIPT = "autotest"

    def __init__(self) -> None:
        from concurrent import futures

        import grpc
        from google.cloud import speech_v1, texttospeech_v1

        def recognize(requests: Iterator[Any], context: Any) -> Iterator[Any]:
            for _ in requests:  # the config, then the audio until the client half-closes
                pass
            yield speech_v1.StreamingRecognizeResponse(
                results=[
                    speech_v1.StreamingRecognitionResult(
                        alternatives=[
                            speech_v1.SpeechRecognitionAlternative(transcript=self.TRANSCRIPT, confidence=0.9)
                        ],
                        is_final=True,
                    )
                ]
            )

        def synthesize(request: Any, context: Any) -> Any:
            return texttospeech_v1.SynthesizeSpeechResponse(audio_content=request.input.text.encode("utf-8"))

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        self.server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    "google.cloud.speech.v1.Speech",
                    {
                        "StreamingRecognize": grpc.stream_stream_rpc_method_handler(
                            recognize,
                            request_deserializer=speech_v1.StreamingRecognizeRequest.deserialize,
                            response_serializer=speech_v1.StreamingRecognizeResponse.serialize,
                        )
                    },
                ),
                grpc.method_handlers_generic_handler(
                    "google.cloud.texttospeech.v1.TextToSpeech",
                    {
                        "SynthesizeSpeech": grpc.unary_unary_rpc_method_handler(
                            synthesize,
                            request_deserializer=texttospeech_v1.SynthesizeSpeechRequest.deserialize,
                            response_serializer=texttospeech_v1.SynthesizeSpeechResponse.serialize,
                        )
                    },
                ),
            )
        )
        self.address = f"127.0.0.1:{self.server.add_insecure_port('127.0.0.1:0')}"
        self.server.start()

    def __enter__(self) -> _LoopbackGoogle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop(grace=None).wait(RPC_TIMEOUT_S)


def check_speech_client(ctx: Context) -> Outcome:
    """The kiosk's Google Speech-to-Text recogniser (real client library) recognises through a local fake."""
    import grpc
    from google.cloud.speech_v1.services.speech.transports import SpeechGrpcTransport

    from kiosk.speech.google import GoogleSpeechRecognizer, GoogleSpeechSettings
    from kiosk.speech.recognizer import RecognitionRequest

    with _LoopbackGoogle() as fake, grpc.insecure_channel(fake.address) as channel:
        recognizer = GoogleSpeechRecognizer(
            GoogleSpeechSettings(timeout_s=RPC_TIMEOUT_S, retries=0), transport=SpeechGrpcTransport(channel=channel)
        )
        result = recognizer.recognize(iter([bytes(3200)]), RecognitionRequest(language="fr-FR"))
    heard = result.alternatives[0].transcript if result.alternatives else None
    if heard != fake.TRANSCRIPT:
        return failed(f"réponse inattendue du faux service : {heard!r}", f"unexpected reply from the fake: {heard!r}")
    return passed(
        "client Google Speech-to-Text construit, un appel réussi vers un faux service local",
        "Google Speech-to-Text client built, one call to a local fake succeeded",
    )


def check_tts_client(ctx: Context) -> Outcome:
    """Google Text-to-Speech's client library (the kiosk's prompts) synthesises through a local fake."""
    import grpc
    from google.cloud import texttospeech_v1
    from google.cloud.texttospeech_v1.services.text_to_speech.transports import TextToSpeechGrpcTransport

    with _LoopbackGoogle() as fake, grpc.insecure_channel(fake.address) as channel:
        client = texttospeech_v1.TextToSpeechClient(transport=TextToSpeechGrpcTransport(channel=channel))
        reply = client.synthesize_speech(
            input=texttospeech_v1.SynthesisInput(text="Bonjour"),
            voice=texttospeech_v1.VoiceSelectionParams(language_code="fr-FR"),
            audio_config=texttospeech_v1.AudioConfig(audio_encoding=texttospeech_v1.AudioEncoding.LINEAR16),
            retry=None,
            timeout=RPC_TIMEOUT_S,
        )
    if reply.audio_content != b"Bonjour":
        return failed("réponse inattendue du faux service", "unexpected reply from the fake")
    return passed(
        "client Google Text-to-Speech construit, un appel réussi vers un faux service local",
        "Google Text-to-Speech client built, one call to a local fake succeeded",
    )


# ----------------------------------------------------------------------------------------------- Qt
def _application() -> Any:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # never on the patient's screen, even under a compositor
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        # Qt's own warnings (no sound server, offscreen limits) would mix with the one line per failed check.
        qInstallMessageHandler(lambda *_: None)
        app = QApplication(sys.argv[:1])
    return app


def check_multimedia(ctx: Context) -> Outcome:
    """Qt Multimedia (the prompts' player) loads and a media player can be made."""
    _application()
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

    player = QMediaPlayer()
    output = QAudioOutput()
    player.setAudioOutput(output)
    if not player.isAvailable():
        return failed("le lecteur multimédia de Qt n'a pas de moteur", "Qt's media player has no backend")
    player.deleteLater()
    output.deleteLater()
    return passed("lecteur Qt Multimedia disponible", "Qt Multimedia player available")


def check_main_window(ctx: Context) -> Outcome:
    """The kiosk's main window opens on a fresh database, reaches the nurse's first screen, and closes."""
    app = _application()
    import shiboken6
    from PySide6.QtCore import QEventLoop, QTimer

    from kiosk.audio.silent import SilentAudioService
    from kiosk.domain.clock import SystemClock
    from kiosk.secrets.memory import MemorySecretStore
    from kiosk.storage.encryption import open_encrypted_store
    from kiosk.storage.paths import DATABASE_FILE
    from kiosk.tasks import TaskManager
    from kiosk.ui.main_window import MainWindow
    from kiosk.viewmodels.kiosk_vm import KioskStatus, KioskViewModel

    db_path = ctx.folder("window") / DATABASE_FILE
    tasks = TaskManager()
    secrets = MemorySecretStore()
    vm = KioskViewModel(
        lambda: open_encrypted_store(db_path, secrets), tasks=tasks, audio=SilentAudioService(), clock=SystemClock()
    )
    seen: list[KioskStatus] = []
    loop = QEventLoop()

    def on_status(status: KioskStatus) -> None:
        if status.ready or status.corrupt_message:
            seen.append(status)
            loop.quit()

    vm.status_changed.connect(on_status)
    vm.open()
    window = MainWindow(vm)
    try:
        window.resize(1280, 800)
        window.show()
        QTimer.singleShot(int(WINDOW_TIMEOUT_S * 1000), loop.quit)
        if not seen:
            loop.exec()
        visible = window.isVisible()
    finally:
        vm.close()
        tasks.shutdown(wait=True)
        window.allow_close = True
        window.close()
        shiboken6.delete(window)
        # Drops the callbacks still queued for the GUI thread (a store that opened after the time-out).
        shiboken6.delete(tasks)
        app.processEvents()
    if not seen:
        return failed(
            f"la fenêtre n'a pas atteint l'écran infirmier en {WINDOW_TIMEOUT_S:.0f} s",
            f"the window did not reach the nurse screen within {WINDOW_TIMEOUT_S:.0f} s",
        )
    if seen[0].corrupt_message:
        return failed(
            f"la fenêtre signale : {seen[0].corrupt_message}",
            "the window reports an unusable database (French message above)",
        )
    if not visible:
        return failed("la fenêtre ne s'est pas affichée", "the window was not shown")
    return passed(
        "fenêtre principale affichée (écran infirmier) puis fermée", "main window shown (nurse screen) and closed"
    )


CHECKS: list[Check] = [
    Check("instruments", "questionnaires", "instruments", check_instruments),
    Check("audio-pack", "pack audio", "audio pack", check_audio_pack),
    Check("database", "base de données", "database", check_database),
    Check("database-encryption", "chiffrement de la base", "database encryption", check_database_encryption),
    Check("secret-store", "trousseau de clés", "secret store", check_secret_store),
    Check("speech-client", "reconnaissance vocale", "speech recognition", check_speech_client),
    Check("tts-client", "synthèse vocale", "text-to-speech", check_tts_client),
    Check("multimedia", "multimédia", "multimedia", check_multimedia),
    Check("main-window", "fenêtre principale", "main window", check_main_window),
]


def run_checks(checks: list[Check] | None = None) -> list[Result]:
    """Run the checks in a temporary folder (removed afterwards); an exception fails its check only."""
    results: list[Result] = []
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    # The checks' findings are the report; the modules' own log records (e.g. the secret store refusing a
    # keyring) would otherwise reach stderr through logging's last-resort handler and break "one line a check".
    quiet = logging.NullHandler()
    logging.getLogger().addHandler(quiet)
    try:
        _run_each(checks if checks is not None else CHECKS, results)
    finally:
        logging.getLogger().removeHandler(quiet)
    return results


def _run_each(checks: list[Check], results: list[Result]) -> None:
    with tempfile.TemporaryDirectory(prefix="qlq-self-test-") as temp:
        ctx = Context(Path(temp))
        for check in checks:
            start = time.perf_counter()
            try:
                outcome = check.run(ctx)
            except Exception as exc:  # the check's own failure, reported as such; the others still run
                where = traceback.extract_tb(exc.__traceback__)[-1]
                detail = f"{type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})"
                outcome = failed(f"erreur inattendue {detail}", f"unexpected error {detail}")
            results.append(
                Result(
                    check.id,
                    check.title_fr,
                    check.title_en,
                    outcome.status,
                    outcome.fr,
                    outcome.en,
                    round(time.perf_counter() - start, 3),
                )
            )


def run(as_json: bool = False) -> int:
    """``qlq-kiosk --self-test [--json]``: run every check, print the results, return the exit code."""
    results = run_checks()
    failures = [r for r in results if r.status == "failed"]
    if as_json:
        from kiosk import __version__

        sys.stdout.write(
            json.dumps(
                {"version": __version__, "passed": not failures, "checks": [asdict(r) for r in results]},
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
    else:
        for result in results:
            print(result.line(), file=sys.stderr if result.status == "failed" else sys.stdout)
    sys.stdout.flush()
    sys.stderr.flush()
    return 1 if failures else 0
