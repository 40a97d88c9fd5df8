"""The kiosk window: one stack of pages, the nurse corner and the kiosk lock.

Which page shows, and why the PIN was asked, is decided by :class:`~kiosk.viewmodels.nurse_flow.NurseFlowViewModel`;
the window shows its :attr:`~kiosk.viewmodels.nurse_flow.NurseFlowViewModel.page` and forwards touches to it. It
builds the widgets of each patient's session and deletes them on "Nouveau patient" (the nurse form is cleared
too), so nothing of the previous patient remains and there is no way back into the finished session.

With a :class:`~kiosk.viewmodels.sync_vm.SyncViewModel` (not in demo mode), the nurse screen shows the sync panel
and the settings lead to the "Serveur du centre" page.

The patient cannot leave: the close event is refused and :class:`KioskGuard` swallows Escape and Alt+F4 until
the nurse PIN has been given for "Quitter le kiosque". The guard also reports every touch as activity, which
restarts the inactivity countdown of the running session (ticked once a second).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import QApplication, QStackedWidget, QVBoxLayout, QWidget

from kiosk.ui import theme
from kiosk.ui.nurse_pages import AdminPage, SummaryPage
from kiosk.ui.nurse_screen import NurseScreen, pending_text
from kiosk.ui.patient_screens import SessionView
from kiosk.ui.pin_screens import PinPage, PinSetupPage
from kiosk.ui.widgets import NurseCorner, label
from kiosk.viewmodels.kiosk_vm import KioskViewModel
from kiosk.viewmodels.nurse_flow import AdminState, NurseFlowViewModel, Page, PinPurpose
from kiosk.viewmodels.session_vm import SessionViewModel

if TYPE_CHECKING:
    from kiosk.ui.sync_panels import EnrollmentPage
    from kiosk.viewmodels.sync_vm import SyncViewModel
    from kiosk.viewmodels.update_vm import UpdateViewModel
    from kiosk.viewmodels.voice_vm import VoiceViewModel

#: An installed update restarts the kiosk once the nurse screen has been left untouched this long (no session).
UPDATE_RESTART_IDLE_MS = 5 * 60_000


class KioskGuard(QObject):
    """Application-wide event filter: swallows the keys that would leave the kiosk; notes activity."""

    activity = Signal()

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin):
            self.activity.emit()
        elif kind in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) and isinstance(event, QKeyEvent):
            key = event.key()
            alt_f4 = key == Qt.Key.Key_F4 and bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
            if key == Qt.Key.Key_Escape or alt_f4:
                return True
            if kind is QEvent.Type.KeyPress:
                self.activity.emit()
        return False


class MainWindow(QWidget):
    exited = Signal()

    def __init__(  # noqa: PLR0915 - the screen's widgets laid out top to bottom, in one place
        self,
        vm: KioskViewModel,
        *,
        demo: bool = False,
        tick_ms: int = 1000,
        sync: SyncViewModel | None = None,
        updates: UpdateViewModel | None = None,
        restart_idle_ms: int = UPDATE_RESTART_IDLE_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("kioskRoot")
        self.setWindowTitle("Kiosque QLQ-C30")
        self.vm = vm
        self.flow = NurseFlowViewModel(vm, demo=demo, parent=self)
        self.allow_close = False
        self.prefs = theme.DisplayPrefs(vm.settings.default_text_size, self)
        self.prefs.changed.connect(self._apply_theme)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        layout.addWidget(self.stack)
        self.loading = label("Démarrage du kiosque…", "title")
        self.loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pin_setup = PinSetupPage()
        self.nurse = NurseScreen(vm, vm.clock, demo_pin=self.flow.demo_pin, sync=sync)
        self.pin = PinPage()
        self.admin = AdminPage()
        for page in (self.loading, self.pin_setup, self.nurse, self.pin, self.admin):
            self.stack.addWidget(page)
        self.server: EnrollmentPage | None = None  # "Serveur du centre", when the kiosk has a sync
        if sync is not None:
            from kiosk.ui.sync_panels import EnrollmentPage as ServerPage

            self.server = ServerPage(sync)
            self.stack.addWidget(self.server)
            self.server.back.connect(self.flow.leave_server)
            self.admin.server_requested.connect(self.flow.open_server)
        self.admin.set_server_available(sync is not None)
        self.session_view: SessionView | None = None
        self.voice: VoiceViewModel | None = None  # a voice session's listening side (imported when needed)
        self.summary: SummaryPage | None = None
        self.corner = NurseCorner(self)
        self.corner.long_pressed.connect(lambda: self.request_pin(PinPurpose.ADMIN))

        self.guard = KioskGuard(self)
        self.guard.activity.connect(self._note_activity)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.guard)
        self.ticker = QTimer(self)
        self.ticker.setInterval(tick_ms)
        self.ticker.timeout.connect(self.tick)
        self.ticker.start()

        flow = self.flow
        flow.page_changed.connect(self._show_page)
        flow.pin_requested.connect(self.pin.ask)
        flow.pin_refused.connect(self.pin.refuse)
        flow.admin_opened.connect(self._open_admin)
        vm.session_started.connect(self.attach_session)
        vm.status_changed.connect(lambda st: self.admin.show_voice(st.microphones, st.voice_reason))
        vm.settings_changed.connect(lambda s: self.prefs.reset(s.default_text_size) if not self.session else None)
        self.pin_setup.chosen.connect(vm.set_pin)
        self.nurse.settings_requested.connect(lambda: self.request_pin(PinPurpose.ADMIN))
        self.pin.entered.connect(vm.verify_pin)
        self.pin.cancelled.connect(flow.leave_pin)
        self.admin.back.connect(flow.leave_pin)
        self.admin.saved.connect(flow.save_settings)
        self.admin.exit_requested.connect(self.exit_kiosk)
        self.admin.abandon_requested.connect(flow.abandon_running)
        self.updates = updates
        self.restart_idle = QTimer(self)  # restarted by every touch: fires after that long untouched
        self.restart_idle.setSingleShot(True)
        self.restart_idle.setInterval(restart_idle_ms)
        if updates is not None:
            updates.status_changed.connect(lambda _status: self._show_update())
            vm.between_sessions.connect(updates.between_sessions)
            self.admin.update_check_requested.connect(updates.check_now)
            self.admin.update_restart_requested.connect(updates.restart_now)
            self.guard.activity.connect(self._restart_countdown)
            self.restart_idle.timeout.connect(self._restart_when_idle)
            self._show_update()
        self._apply_theme(self.prefs.state)
        self.stack.setCurrentWidget(self.loading)

    # ------------------------------------------------------------------ state
    @property
    def session(self) -> SessionViewModel | None:
        return self.session_view.vm if self.session_view is not None else None

    def current_page(self) -> QWidget:
        return self.stack.currentWidget()

    def _apply_theme(self, state: theme.DisplayState) -> None:
        self.setStyleSheet(theme.style_sheet(state))

    def _note_activity(self) -> None:
        if self.session is not None:
            self.session.note_activity()

    def _show_update(self) -> None:
        updates = self.updates
        if updates is None:
            return
        restart = updates.restart_pending and not self.vm.session_in_progress
        self.admin.show_update(
            updates.line(), can_check=updates.enabled and not updates.restart_pending, can_restart=restart
        )
        if updates.restart_pending:
            self._restart_countdown()

    def _restart_countdown(self) -> None:
        if self.updates is not None and self.updates.restart_pending:
            self.restart_idle.start()

    def _restart_when_idle(self) -> None:
        """Untouched for :data:`UPDATE_RESTART_IDLE_MS`: restart onto the installed version, only from the nurse
        screen with nothing typed (never during a session, never over a form being filled in or a summary)."""
        updates = self.updates
        if updates is None or not updates.restart_pending:
            return
        if self.session is not None or self.current_page() is not self.nurse or not self.nurse.is_blank():
            self.restart_idle.start()  # try again after another quiet period
            return
        updates.restart_now()

    def tick(self) -> None:
        if self.session is not None:
            self.session.tick()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.corner.move(self.width() - self.corner.width(), 0)
        self.corner.raise_()

    # ------------------------------------------------------------------ showing the flow's page
    def _show_page(self, page: Page) -> None:
        if page is Page.SUMMARY:
            self._build_summary()
        widgets: dict[Page, QWidget | None] = {
            Page.LOADING: self.loading,
            Page.PIN_SETUP: self.pin_setup,
            Page.NURSE: self.nurse,
            Page.PIN: self.pin,
            Page.ADMIN: self.admin,
            Page.SERVER: self.server,
            Page.SESSION: self.session_view,
            Page.SUMMARY: self.summary,
        }
        widget = widgets[page]
        assert widget is not None, f"no widget for the page {page}"
        self.stack.setCurrentWidget(widget)

    def _open_admin(self, state: AdminState) -> None:
        self.admin.show_settings(
            state.settings,
            pending_text(state.pending),
            state.session_running,
            state.microphones,
            state.voice_reason,
            version=state.version,
            provisioning=state.provisioning,
            provisioning_problems=state.provisioning_problems,
        )

    def request_pin(self, purpose: PinPurpose | str) -> None:
        """Ask for the nurse PIN from any screen; ``purpose`` is "admin" or "summary"."""
        self.flow.request_pin(purpose)

    def exit_kiosk(self) -> None:
        """Leave the kiosk (only reachable behind the PIN)."""
        self.allow_close = True
        self.exited.emit()
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.allow_close:
            event.accept()
        else:
            event.ignore()

    # ------------------------------------------------------------------ the patient's session
    def attach_session(self, vm: SessionViewModel) -> None:
        self.detach_session()
        self.prefs.reset(self.vm.settings.default_text_size)
        self.session_view = SessionView(vm, self.prefs)
        self.session_view.nurse_requested.connect(lambda: self.request_pin(PinPurpose.SUMMARY))
        vm.finished.connect(lambda _outcome: self.vm.refresh())
        self.stack.addWidget(self.session_view)
        self.flow.show_session(vm)
        self.session_view.start()
        if vm.mode.is_voice:  # listening and confirming: kiosk/ui/voice_panel.py, kiosk/viewmodels/voice_vm.py
            self._attach_voice(vm)
        self.corner.raise_()

    def _attach_voice(self, vm: SessionViewModel) -> None:
        from kiosk.ui.voice_panel import attach_voice
        from kiosk.viewmodels.voice_setup import build_voice

        assert self.session_view is not None
        self.voice = build_voice(
            vm,
            audio=self.vm.audio,
            clock=self.vm.clock,
            secrets=self.vm.secrets,
            kiosk_settings=self.vm.settings,
            recognizer=self.vm.recognizer,
        )
        attach_voice(self.session_view.items, self.voice)
        self.voice.start()

    def _build_summary(self) -> None:
        if self.summary is not None:
            self.stack.removeWidget(self.summary)
            self.summary.deleteLater()
        self.summary = SummaryPage(self.flow.summary())
        self.summary.new_patient.connect(self.new_patient)
        self.stack.addWidget(self.summary)

    def detach_session(self) -> None:
        """Delete every widget of the previous session (and its summary)."""
        for page in (self.session_view, self.summary):
            if page is not None:
                self.stack.removeWidget(page)
                page.deleteLater()
        if self.voice is not None:
            self.voice.shutdown()
            self.voice.deleteLater()
            self.voice = None
        if self.session_view is not None:
            self.vm.session_ended(self.session_view.vm.session.id)
            self.session_view.vm.deleteLater()
            self.vm.audio.stop()
        self.session_view = None
        self.summary = None

    def new_patient(self) -> None:
        """Back to an empty nurse screen; the finished session cannot be reached again."""
        self.detach_session()
        self.prefs.reset(self.vm.settings.default_text_size)
        self.nurse.reset()
        self.vm.refresh()
        self.flow.new_patient()
