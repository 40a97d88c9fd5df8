"""Local, durable storage of sessions and the offline queue of submissions (SQLite through SQLAlchemy).

- ``interface``: what the kiosk needs (``SessionStore``) and the errors it raises, with French nurse messages.
- ``sqlite_store``: the real store; ``database``: opening the file safely, pragmas, migrations
  (``migrations/``, Alembic, run on open); ``schema``: the tables; ``records``: rows and rules shared with the fake.
- ``fake``: the in-memory store for UI tests.
- ``pin``: the nurse PIN's argon2 hash; ``paths``: where the database lives; ``messages``: the French texts.
"""
