"""Request and response bodies of the HTTP API (the submission payload itself is ``kiosk.domain``'s)."""
