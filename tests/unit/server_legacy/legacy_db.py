"""Build legacy prototype databases for the tests, in both schema variants."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASE_SESSIONS = (
    "id TEXT PRIMARY KEY, initials TEXT, birth_date TEXT, today_date TEXT, mode TEXT, "
    "audio_enabled INTEGER, created_at TEXT, completed_at TEXT"
)
BASE_RESPONSES = (
    "id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT, question_num INTEGER, question_text TEXT, "
    "score INTEGER, response_text TEXT, transcript TEXT, response_type TEXT, timestamp TEXT"
)
LABELS = {1: "Pas du tout", 2: "Un peu", 3: "Plutôt", 4: "Beaucoup"}


@dataclass
class LegacyDb:
    path: Path
    extended: bool = False  # sessions.metadata and responses.confidence
    sessions: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)

    def session(
        self,
        sid: Any,
        *,
        initials: Any = "J.D.",
        birth_date: Any = "1950-04-12",
        today_date: Any = "2024-03-05",
        mode: Any = "Standard",
        audio_enabled: Any = 1,
        created_at: Any = "2024-03-05 09:00:00",
        completed_at: Any = "2024-03-05 09:45:00",
        metadata: Any = None,
    ) -> LegacyDb:
        row = dict(
            id=sid,
            initials=initials,
            birth_date=birth_date,
            today_date=today_date,
            mode=mode,
            audio_enabled=audio_enabled,
            created_at=created_at,
            completed_at=completed_at,
        )
        if self.extended:
            row["metadata"] = metadata
        self.sessions.append(row)
        return self

    def response(
        self,
        sid: Any,
        question: Any,
        score: Any,
        *,
        at: Any = None,
        response_type: Any = "manual",
        text: Any = None,
        transcript: Any = None,
        confidence: Any = None,
        rid: int | None = None,
    ) -> LegacyDb:
        if text is None and isinstance(score, int) and isinstance(question, int) and 1 <= question <= 28:
            text = LABELS.get(score)
        row = dict(
            session_id=sid,
            question_num=question,
            question_text=f"Question {question}",
            score=score,
            response_text=text,
            transcript=transcript,
            response_type=response_type,
            timestamp=at
            if at is not None
            else f"2024-03-05T09:{question:02d}:30Z"
            if isinstance(question, int) and 0 <= question < 60
            else "2024-03-05T09:00:30Z",
        )
        if rid is not None:
            row["id"] = rid
        if self.extended:
            row["confidence"] = confidence
        self.responses.append(row)
        return self

    def full(self, sid: Any, values: dict[int, int] | None = None, **session: Any) -> LegacyDb:
        """A session answering every item (item 0, the audio check, first)."""
        self.session(sid, **session)
        self.response(sid, 0, 1, text="Oui")
        for n in range(1, 31):
            self.response(sid, n, (values or {}).get(n, n % 4 + 1 if n <= 28 else 5))
        return self

    def write(self) -> Path:
        sessions = BASE_SESSIONS + (", metadata TEXT" if self.extended else "")
        responses = BASE_RESPONSES + (", confidence REAL" if self.extended else "")
        with sqlite3.connect(self.path) as db:
            db.execute(f"CREATE TABLE sessions ({sessions})")
            db.execute(f"CREATE TABLE responses ({responses})")
            for row in self.sessions:
                db.execute(
                    f"INSERT INTO sessions ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values())
                )
            for row in self.responses:
                db.execute(
                    f"INSERT INTO responses ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values())
                )
        return self.path
