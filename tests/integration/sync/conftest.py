"""The storage fixtures (both stores on equal terms, a fake clock) for the queue tests."""

from tests.integration.storage.conftest import clock, instrument, store, store_factory  # noqa: F401
