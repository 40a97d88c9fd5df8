"""How the two v1 snapshots here were written, once, by the code of commit 2139731 (hand-written Session.to_dict).

Kept for the record; it runs only against that commit (transitions mutated the session then).
import json
from datetime import UTC, date, datetime, timedelta
from kiosk.domain.instrument import load_instrument
from kiosk.domain.patient import PatientDetails
from kiosk.domain.session import Consent, ConsentKind, ItemStatus, Method, Mode, Session, SessionConfig

t = [datetime(2026, 11, 25, 9, 0, 0, 123456, tzinfo=UTC)]
def tick(s=5.25):
    t[0] += timedelta(seconds=s)
    return t[0]
fr = load_instrument("qlq-c30", "fr")
s = Session.start(session_id="6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b", instrument=fr,
                  patient=PatientDetails(initials="J-D", birth_date=date(1952, 3, 7), session_date=date(2026, 11, 25)),
                  config=SessionConfig(mode=Mode.VOICE_CONTINUOUS, audio_enabled=True, language="fr"),
                  consents=[Consent(ConsentKind.ANSWERS, True, t[0]), Consent(ConsentKind.CLOUD_VOICE, True, t[0])],
                  now=t[0])
s.record_check(audio_ok=True, microphone_ok=True, now=tick())
s.begin_items(now=tick())
s.answer(2, now=tick(), method=Method.VOICE, transcript="un peu « oui »", confidence=0.52, confirmed=True)
s.skip(now=tick(), status=ItemStatus.DONT_KNOW, method=Method.VOICE, transcript="je sais pas", confidence=0.8)
s.back(now=tick())
s.answer(3, now=tick(), method=Method.VOICE, transcript="assez", confidence=0.91)
s.switch_mode(Mode.TOUCH, now=tick(), reason="micro en panne", audio_enabled=False)
for n in range(3, 29):
    if n in (7, 12):
        s.skip(now=tick())
    else:
        s.answer(n % 4 + 1, now=tick())
s.pause(now=tick())
s.resume(now=tick(75))
s.answer(6, now=tick())
s.answer(7, now=tick())
assert s.phase.value == "review_prompt", s.phase
s.accept_review(now=tick())
s.answer(1, now=tick())  # item 7
s.pause(now=tick())
json.dump(s.to_dict(), open("tests/unit/data/session_snapshot_v1_reviewing_paused.json", "w"), ensure_ascii=False, indent=1)
# one finished (abandoned) session too
s.abandon(now=tick(600), reason="inactivité")
json.dump(s.to_dict(), open("tests/unit/data/session_snapshot_v1_abandoned.json", "w"), ensure_ascii=False, indent=1)
