"""The update sequence and its rules.

1. :meth:`Updater.check` asks the source for the newest release for this OS/architecture; only a version newer
   than the running one, and not one whose self-test already failed here, is offered.
2. :meth:`Updater.fetch` downloads it into ``downloads/`` (in the background: :meth:`Updater.start_background`)
   and verifies it (signature + signed manifest, kiosk.domain.release) with the kiosk's public key. A file that
   fails is deleted; the status names the failure (``tampered_file``, ``wrong_key``, …).
3. :meth:`Updater.install` installs a :class:`VerifiedRelease` only (never an unverified file), and only while
   the :class:`SessionGate` says no session is in progress, holding it so none starts meanwhile; otherwise the
   update is ``deferred`` until :meth:`Updater.install_pending` is called between sessions. The archive is
   unpacked beside the current version (its bytes re-hashed on the way), ``current`` is switched atomically, and
   the new version's self-test command runs; if it fails, ``current`` goes back to the previous version by
   itself, the failed version is removed and never offered again. A crash mid-self-test is rolled back by
   :meth:`Updater.recover` at the next start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from packaging.version import InvalidVersion, Version

from kiosk.domain.release import ReleaseError, VerifiedRelease, load_public_key, verify_release
from kiosk.update.interface import ReleaseOffer, ReleaseSource, UpdateError, current_platform
from kiosk.update.layout import InstallLayout

log = logging.getLogger(__name__)

Stage = Literal[
    "idle",
    "checking",
    "up_to_date",
    "available",
    "downloading",
    "ready",
    "deferred",
    "installing",
    "installed",
    "rolled_back",
    "failed",
]
DEFAULT_SELF_TEST = ("{bundle}/qlq-kiosk.exe" if sys.platform == "win32" else "{bundle}/qlq-kiosk", "--self-test")


@dataclass(frozen=True)
class UpdateStatus:
    """What the admin screen shows about updates."""

    stage: Stage
    current_version: str
    offered_version: str | None = None
    code: str | None = None  # stable failure code: tampered_file, wrong_key, self_test_failed, …
    message: str = ""
    restart_required: bool = False


class SessionGate(Protocol):
    def idle(self) -> AbstractContextManager[bool]:
        """Enter: True when no session is in progress, and then none may start until exit."""
        ...


class SessionLock:
    """The kiosk's :class:`SessionGate`: a session holds it from start to end, an install while it runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions = 0
        self._installing = False

    def begin_session(self) -> bool:
        """False while an update is being installed (the start screen waits and tries again)."""
        with self._lock:
            if self._installing:
                return False
            self._sessions += 1
            return True

    def end_session(self) -> None:
        with self._lock:
            self._sessions = max(0, self._sessions - 1)

    @contextlib.contextmanager
    def idle(self) -> Iterator[bool]:
        with self._lock:
            free = self._sessions == 0 and not self._installing
            if free:
                self._installing = True
        try:
            yield free
        finally:
            if free:
                with self._lock:
                    self._installing = False


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


class Updater:
    def __init__(
        self,
        source: ReleaseSource,
        layout: InstallLayout,
        *,
        current_version: str,
        gate: SessionGate,
        public_key: Ed25519PublicKey | None = None,
        self_test_command: Sequence[str] = DEFAULT_SELF_TEST,
        self_test_timeout: float = 300.0,
        platform: tuple[str, str] | None = None,
        on_status: Callable[[UpdateStatus], None] | None = None,
    ) -> None:
        """``on_status`` is called on whichever thread made the change (the background one too): a Qt caller
        forwards it to the GUI thread with a queued signal."""
        self.source = source
        self.layout = layout
        self.gate = gate
        self.public_key = public_key
        self.self_test_command = tuple(self_test_command)
        self.self_test_timeout = self_test_timeout
        self.platform = platform or current_platform()
        self._on_status = on_status
        self._lock = threading.Lock()
        self._ready: VerifiedRelease | None = None
        self._status = UpdateStatus("idle", current_version)
        layout.prepare()

    # --- status -------------------------------------------------------------------------------------------------
    @property
    def status(self) -> UpdateStatus:
        with self._lock:
            return self._status

    @property
    def ready(self) -> VerifiedRelease | None:
        with self._lock:
            return self._ready

    def _set(self, stage: Stage, **changes: object) -> UpdateStatus:
        with self._lock:
            fields = {
                "offered_version": self._status.offered_version,
                "code": None,
                "message": "",
                "restart_required": False,
                **changes,
            }
            self._status = replace(self._status, stage=stage, **fields)  # type: ignore[arg-type]
            status = self._status
        log.info("update %s %s %s", status.stage, status.offered_version or "", status.code or "")
        if self._on_status is not None:
            self._on_status(status)
        return status

    # --- steps --------------------------------------------------------------------------------------------------
    def check(self) -> ReleaseOffer | None:
        self._set("checking")
        try:
            offer = self.source.latest(*self.platform)
        except UpdateError as exc:
            self._set("failed", code=exc.code, message=str(exc))
            return None
        current = _version(self.status.current_version)
        failed = set(self.layout.load_state().failed)
        offered = _version(offer.version) if offer else None
        if offer is None or offered is None or (current is not None and offered <= current) or offer.version in failed:
            self._set("up_to_date", offered_version=None)
            return None
        self._set("available", offered_version=offer.version, message=f"version {offer.version} is available")
        return offer

    def fetch(self, offer: ReleaseOffer) -> VerifiedRelease | None:
        """Download and verify; the verified release is kept ready for :meth:`install_pending`."""
        self._set("downloading", offered_version=offer.version)
        folder = self.layout.downloads / offer.version
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        try:
            archive = self.source.download(offer, folder)
            key = self.public_key if self.public_key is not None else load_public_key()
            verified = verify_release(archive, key)
            self._check_matches(verified)
        except (UpdateError, ReleaseError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            self._set("failed", code=exc.code, message=str(exc))
            return None
        except OSError as exc:  # a full or read-only disk
            shutil.rmtree(folder, ignore_errors=True)
            self._set("failed", code="download_failed", message=f"cannot store the download: {exc}")
            return None
        with self._lock:
            self._ready = verified
        self._set("ready", message=f"version {verified.version} downloaded and verified")
        return verified

    def _check_matches(self, verified: VerifiedRelease) -> None:
        if (verified.os, verified.arch) != self.platform:
            raise UpdateError(
                f"the release is for {verified.os}/{verified.arch}, this kiosk is "
                f"{self.platform[0]}/{self.platform[1]}",
                code="wrong_platform",
            )
        new, current = _version(verified.version), _version(self.status.current_version)
        if new is None or (current is not None and new <= current):
            raise UpdateError(
                f"the signed release is version {verified.version}, not newer than "
                f"{self.status.current_version} (downgrades are refused)",
                code="not_newer",
            )

    def install(self, release: VerifiedRelease) -> UpdateStatus:
        """Install between sessions only; ``deferred`` (nothing touched) while a session is in progress."""
        if not isinstance(release, VerifiedRelease):  # the type is the proof of verification
            raise TypeError("only a VerifiedRelease can be installed")
        with self.gate.idle() as idle:
            if not idle:
                return self._set(
                    "deferred",
                    offered_version=release.version,
                    message="a session is in progress: the update waits until it ends",
                )
            return self._install_now(release)

    def install_pending(self) -> UpdateStatus:
        ready = self.ready
        if ready is None:
            return self.status
        return self.install(ready)

    def _install_now(self, release: VerifiedRelease) -> UpdateStatus:
        self._set("installing", offered_version=release.version)
        layout = self.layout
        try:
            bundle = layout.unpack(release)
        except (ReleaseError, OSError) as exc:
            code = exc.code if isinstance(exc, ReleaseError) else "unpack_failed"
            return self._finish_failed(release, code, f"cannot unpack {release.archive.name}: {exc}")
        previous = layout.current_version()
        state = layout.load_state()
        state.pending, state.previous = release.version, previous
        layout.save_state(state)
        layout.switch_to(release.version)
        ok, detail = self._self_test(bundle)
        state = layout.load_state()
        if not ok:
            layout.switch_to(previous)
            state.pending = None
            if release.version not in state.failed:
                state.failed.append(release.version)
            layout.save_state(state)
            layout.remove(release.version)
            self._discard_download(release)
            return self._set(
                "rolled_back",
                offered_version=release.version,
                code="self_test_failed",
                message=f"version {release.version} failed its self-test and was removed; back to "
                f"{previous or 'the previous installation'}: {detail}",
            )
        state.pending = None
        layout.save_state(state)
        self._discard_download(release)
        for old in _installed_versions(layout):
            if old not in (release.version, previous):
                layout.remove(old)
        return self._set(
            "installed",
            offered_version=release.version,
            restart_required=True,
            message=f"version {release.version} installed; it starts at the next restart",
        )

    def _finish_failed(self, release: VerifiedRelease, code: str, message: str) -> UpdateStatus:
        self._discard_download(release)
        return self._set("failed", offered_version=release.version, code=code, message=message)

    def _discard_download(self, release: VerifiedRelease) -> None:
        with self._lock:
            if self._ready is release:
                self._ready = None
        shutil.rmtree(self.layout.downloads / release.version, ignore_errors=True)

    def _self_test(self, bundle: os.PathLike[str]) -> tuple[bool, str]:
        command = [part.format(bundle=os.fspath(bundle)) for part in self.self_test_command]
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=self.self_test_timeout,
                env=env,
                cwd=bundle,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"the self-test could not run: {exc}"
        if result.returncode != 0:
            lines = (result.stdout + result.stderr).strip().splitlines()
            return False, f"exit code {result.returncode}" + (f": {lines[-1][:200]}" if lines else "")
        return True, ""

    # --- the whole sequence -------------------------------------------------------------------------------------
    def recover(self) -> UpdateStatus | None:
        """At start-up: a switch whose self-test never finished (crash, power cut) goes back to the previous
        version. Returns the status when it rolled back."""
        state = self.layout.load_state()
        if state.pending is None:
            return None
        failed = state.pending
        self.layout.switch_to(state.previous)
        state.failed.append(failed)
        state.pending = None
        self.layout.save_state(state)
        self.layout.remove(failed)
        return self._set(
            "rolled_back",
            offered_version=failed,
            code="self_test_interrupted",
            message=f"the update to {failed} was interrupted before its self-test passed; "
            f"back to {state.previous or 'the previous installation'}",
        )

    def check_and_fetch(self) -> VerifiedRelease | None:
        offer = self.check()
        if offer is None:
            return None
        ready = self.ready
        if ready is not None and ready.version == offer.version:
            return ready
        return self.fetch(offer)

    def run_once(self) -> UpdateStatus:
        """Check, download, verify, then install if no session is in progress (else ``deferred``)."""
        verified = self.check_and_fetch()
        if verified is None:
            return self.status
        return self.install(verified)

    def start_background(self) -> threading.Thread:
        """Check, download and verify on a background thread; call :meth:`install_pending` between sessions."""
        thread = threading.Thread(target=self.check_and_fetch, name="qlq-update", daemon=True)
        thread.start()
        return thread


def _installed_versions(layout: InstallLayout) -> list[str]:
    if not layout.versions.is_dir():
        return []
    return [p.name for p in layout.versions.iterdir() if p.is_dir() and not p.name.startswith(".")]
