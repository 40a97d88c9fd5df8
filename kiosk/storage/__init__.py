"""Local, durable storage of sessions and the offline queue of submissions (SQLite through SQLAlchemy)."""
