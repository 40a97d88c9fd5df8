"""Signed kiosk updates: ask for a newer release, download it in the background, verify it, and install it only
between sessions, beside the current version, with an atomic switch, a self-test and an automatic roll-back.

- ``interface``: :class:`ReleaseOffer`, the :class:`ReleaseSource` protocol, errors.
- ``http_source``: the server's ``GET /v1/releases/latest`` (device token), over httpx; ``fake``: a local folder.
- ``layout``: the install folder (``versions/VERSION`` + the ``current`` symlink or pointer file).
- ``service``: :class:`Updater`, the sequence and its rules (never during a session, never an unverified file).
"""
