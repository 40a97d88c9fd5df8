"""Alembic environment: online migrations only, against the URL set by :mod:`sync_server.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from sync_server.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url and config.attributes.get("connection") is None:
        raise RuntimeError("no database: pass database_url (sync_server.migrate) or set sqlalchemy.url")
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(str(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, transaction_per_migration=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():  # pragma: no cover - we never generate SQL scripts offline
    raise SystemExit("offline migrations are not supported; run `qlq-server migrate` against the database")
run_migrations_online()
