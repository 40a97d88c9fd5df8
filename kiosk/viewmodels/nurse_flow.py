"""Where the kiosk is between patients and behind the PIN: which page shows, why the PIN was asked, where to go back.

Flow: PIN setup (first start; in demo mode the demo PIN is set instead) → nurse start screen → the patient's
session → end → PIN → clinician summary → "Nouveau patient" → nurse start screen. The settings lead to the
"Serveur du centre" page and back. The nurse corner asks the PIN for the settings from any page but the PIN,
settings, server, loading and PIN-setup pages; cancelling, or leaving the
settings, goes back to the page the PIN was asked from. The window only shows :attr:`NurseFlowViewModel.page`
and forwards touches here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QObject, Signal

from kiosk.version import version_label
from kiosk.viewmodels.kiosk_vm import KioskStatus, KioskViewModel
from kiosk.viewmodels.options import DEMO_PIN, KioskSettings
from kiosk.viewmodels.provisioning import Provisioning
from kiosk.viewmodels.session_vm import SessionViewModel
from kiosk.viewmodels.summary import ClinicianSummary, summarise

ABANDON_REASON = "interrompue par l'équipe soignante"


class Page(StrEnum):
    LOADING = "loading"
    PIN_SETUP = "pin-setup"
    NURSE = "nurse"
    PIN = "pin"
    ADMIN = "admin"
    SERVER = "server"  # behind the settings: "Serveur du centre" (enrollment)
    SESSION = "session"
    SUMMARY = "summary"


class PinPurpose(StrEnum):
    ADMIN = "admin"
    SERVER = "server"  # behind the settings: "Serveur du centre" (enrollment)
    SUMMARY = "summary"


PIN_PROMPTS = {
    PinPurpose.ADMIN: "Saisissez le code pour ouvrir les réglages.",
    PinPurpose.SUMMARY: "Saisissez le code pour voir le résumé clinique.",
}
_NO_PIN_FROM = (Page.PIN, Page.ADMIN, Page.SERVER, Page.LOADING, Page.PIN_SETUP)


def provisioning_summary(provisioning: Provisioning | None) -> str:
    if provisioning is None:
        return ""
    if not provisioning.exists:
        return f"Aucun fichier de configuration du service informatique ({provisioning.path})."
    # The names as IT writes them in the file (the code itself is never shown).
    names = sorted(
        "language" if n == "default_language" else n for n in (*provisioning.connection, *provisioning.settings)
    )
    fields = ", ".join(names) if names else "aucun champ valable"
    return f"Configuration du service informatique : {provisioning.path} ({fields})."


@dataclass(frozen=True)
class AdminState:
    """What the settings page shows when it opens."""

    settings: KioskSettings
    pending: int  # questionnaires waiting to be sent
    session_running: bool  # offer "abandon the running session"
    microphones: tuple[str, ...] = ()  # the inputs found by the last voice check (the microphone list)
    voice_reason: str | None = None  # French: why voice modes cannot be offered now
    version: str = ""  # "Kiosque QLQ-C30 version 0.1.0"
    provisioning: str = ""  # French: IT's provisioning file, where it is and what it sets
    provisioning_problems: tuple[str, ...] = ()  # French, one per refused field (its name given)


class NurseFlowViewModel(QObject):
    page_changed = Signal(object)  # Page
    pin_requested = Signal(str)  # the PIN page's prompt, emitted before the page changes to PIN
    pin_refused = Signal()
    admin_opened = Signal(object)  # AdminState, emitted before the page changes to ADMIN

    def __init__(self, kiosk: KioskViewModel, *, demo: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.kiosk = kiosk
        self.demo = demo
        self.page = Page.LOADING
        self.session: SessionViewModel | None = None
        self.purpose: PinPurpose | None = None
        self.return_to: Page | None = None
        kiosk.status_changed.connect(self._on_status)
        kiosk.pin_saved.connect(lambda: self._go(Page.NURSE))
        kiosk.pin_checked.connect(self.pin_checked)

    @property
    def demo_pin(self) -> str | None:
        """Shown on the nurse screen in demo mode, so that a visitor can open the settings and the summary."""
        return DEMO_PIN if self.demo else None

    def _go(self, page: Page) -> None:
        self.page = page
        self.page_changed.emit(page)

    # ------------------------------------------------------------------ start
    def _on_status(self, status: KioskStatus) -> None:
        if self.page is not Page.LOADING:
            return
        if status.corrupt_message is None and not status.has_pin:
            if self.demo:
                self.kiosk.set_pin(DEMO_PIN)  # then pin_saved: the nurse screen
            else:
                self._go(Page.PIN_SETUP)
            return
        self._go(Page.NURSE)

    # ------------------------------------------------------------------ the PIN gate
    def request_pin(self, purpose: PinPurpose | str) -> bool:
        """Ask for the nurse PIN from the page on screen; False where it is not offered."""
        if self.page in _NO_PIN_FROM:
            return False
        self.purpose = PinPurpose(purpose)
        self.return_to = self.page
        self.pin_requested.emit(PIN_PROMPTS[self.purpose])
        self._go(Page.PIN)
        return True

    def leave_pin(self) -> None:
        """ "Annuler" on the PIN page, "Retour" on the settings: back where the PIN was asked."""
        target = self.return_to if self.return_to is not None else Page.NURSE
        self.return_to = None
        self._go(target)

    def pin_checked(self, ok: bool) -> None:
        if self.page is not Page.PIN:
            return
        if not ok:
            self.pin_refused.emit()
            return
        if self.purpose is PinPurpose.SUMMARY and self.session is not None and self.session.phase.is_final:
            self._go(Page.SUMMARY)
            return
        running = self.session is not None and not self.session.phase.is_final
        status = self.kiosk.status
        prov = self.kiosk.provisioning
        self.admin_opened.emit(
            AdminState(
                self.kiosk.settings,
                status.pending,
                running,
                status.microphones,
                status.voice_reason,
                version=version_label(),
                provisioning=provisioning_summary(prov),
                provisioning_problems=tuple(p.french() for p in prov.problems) if prov is not None else (),
            )
        )
        self._go(Page.ADMIN)
        self.kiosk.check_voice()  # a microphone plugged in since: the list follows (status_changed)

    # ------------------------------------------------------------------ behind the PIN
    def save_settings(self, settings: KioskSettings) -> None:
        self.kiosk.save_settings(settings)
        self.leave_pin()

    def open_server(self) -> None:
        """ "Serveur du centre" on the settings page (already behind the PIN)."""
        if self.page is Page.ADMIN:
            self._go(Page.SERVER)

    def leave_server(self) -> None:
        """ "Retour" on the server page: back to the settings."""
        if self.page is Page.SERVER:
            self._go(Page.ADMIN)

    def abandon_running(self) -> None:
        """From the settings: close the running session unfinished; leaving the settings shows its end screen."""
        if self.session is not None:
            self.session.abandon(ABANDON_REASON)
            self.return_to = Page.SESSION

    def summary(self) -> ClinicianSummary:
        assert self.session is not None
        return summarise(self.session.session)

    # ------------------------------------------------------------------ the patient's session
    def show_session(self, session: SessionViewModel) -> None:
        """The window built the session's page: show it."""
        self.session = session
        self.return_to = None
        self._go(Page.SESSION)

    def new_patient(self) -> None:
        """Back to an empty nurse screen; the finished session cannot be reached again."""
        self.session = None
        self.return_to = None
        self._go(Page.NURSE)
