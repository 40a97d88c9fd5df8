"""IT's provisioning file on the real screens: its settings in force at start, each refused field named on the
admin screen (with the version), and the first start of a provisioned tablet enrolling by itself."""

from __future__ import annotations

from pathlib import Path

from kiosk.domain.session import Mode
from kiosk.secrets import SecretName
from kiosk.storage.fake import InMemorySessionStore
from kiosk.version import version_label
from kiosk.viewmodels import provisioning
from tests.ui.kiosk_harness import PIN, close_kiosk, make_kiosk
from tests.ui.test_sync_screens import CODE, Rig


def _provisioned(tmp_path: Path, text: str) -> provisioning.Provisioning:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return provisioning.load(path)


def test_the_files_settings_apply_and_its_bad_fields_are_named_on_the_admin_screen(qtbot, tmp_path: Path) -> None:
    prov = _provisioned(
        tmp_path,
        'format = 1\ndefault_mode = "voice-on-demand"\nspeech_rate_percent = 80\n'
        'inactivity_seconds = 5\nlanguage = "en"\n',
    )
    kiosk = make_kiosk(qtbot, InMemorySessionStore(), stored_settings=True, provisioning=prov)
    try:
        settings = kiosk.vm.settings
        assert settings.default_mode is Mode.VOICE_ON_DEMAND and settings.speech_rate_percent == 80
        assert settings.inactivity_seconds == 180  # refused in the file: the default stays
        assert settings.default_language == "en"
        nurse = kiosk.window.nurse
        assert nurse.language.currentData() == "en"  # the start form proposes IT's language
        assert "inactivity_seconds" in nurse.message.text()  # told on the nurse screen at start too
        kiosk.window.request_pin("admin")
        kiosk.enter_pin(PIN)
        admin = kiosk.window.admin
        assert kiosk.window.current_page() is admin
        problems = admin.provisioning_problems.text()
        assert admin.provisioning_problems.isVisibleTo(admin)
        assert "champ « inactivity_seconds » (pause après inactivité)" in problems and "hors des limites" in problems
        about = admin.about.text()
        assert admin.version.text() == version_label() and admin.version.isVisibleTo(admin)
        assert str(prov.path) in about
        assert "default_mode" in about and "speech_rate_percent" in about
        assert admin.speech_rate.currentData() == 80
    finally:
        close_kiosk(kiosk)


def test_a_provisioned_tablet_enrolls_by_itself_once_and_the_code_is_erased(qtbot, tmp_path: Path, monkeypatch) -> None:
    prov = _provisioned(
        tmp_path, f'# IT\nserver_url = "https://qlq.chu.fr"\nsite = "LYON-01"\nenrollment_code = "{CODE}"\n'
    )
    import tests.ui.test_sync_screens as sync_screens

    real_make_kiosk = sync_screens.make_kiosk
    monkeypatch.setattr(sync_screens, "make_kiosk", lambda *a, **kw: real_make_kiosk(*a, provisioning=prov, **kw))
    rig = Rig(qtbot)
    try:
        rig.wait(lambda: rig.sync.enrollment is not None)
        assert rig.sync.enrollment.site == "LYON-01" and rig.sync.enrollment.device_name == "tablette-test"
        assert rig.secrets.get(SecretName.DEVICE_TOKEN)  # the token went to the secret store
        rig.wait(lambda: CODE not in prov.path.read_text(encoding="utf-8"))
        text = prov.path.read_text(encoding="utf-8")
        assert "# IT" in text and "LYON-01" in text
    finally:
        rig.close()
