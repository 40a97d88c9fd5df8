"""Alembic environment for the kiosk database, configured from code: no alembic.ini is needed at runtime.

The kiosk runs migrations through :func:`kiosk.storage.database.upgrade`, which hands over an open connection
(inside a transaction) in ``config.attributes["connection"]``, so that the whole upgrade commits or rolls back
as one. For development (``alembic revision --autogenerate``), a ``sqlalchemy.url`` main option works too.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from kiosk.storage.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "kiosk migrations need a connection (config.attributes['connection']) or a sqlalchemy.url option"
        )
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported for the kiosk database")
_run_online()
