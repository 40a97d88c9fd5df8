"""Business rules of the server. Services take a SQLAlchemy session, use repositories, raise typed errors,
and never commit: the caller (request dependency or CLI command) owns the transaction."""
