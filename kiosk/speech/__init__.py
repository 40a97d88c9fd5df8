"""Listening: where the patient's turn starts and ends (:mod:`.endpointing`), the recogniser interface
(:mod:`.recognizer`) with Google Cloud Speech-to-Text v1 (:mod:`.google`) and a scripted fake (:mod:`.fake`),
and one listening turn from microphone to result (:mod:`.listener`). No Qt here."""
