#!/bin/sh
# Container entrypoint. "migrate" waits for the database (up to QLQ_DB_WAIT_SECONDS, default 60) then runs
# the migrations; "serve" (the default) starts the server; anything else is passed to qlq-server.
set -eu

wait_for_database() {
    deadline=$(( $(date +%s) + ${QLQ_DB_WAIT_SECONDS:-60} ))
    until python -c "
import sys
from sqlalchemy import create_engine, text
from sync_server.settings import load_settings
try:
    with create_engine(load_settings().database_url).connect() as c:
        c.execute(text('SELECT 1'))
except Exception as exc:
    print(f'database not ready: {type(exc).__name__}', file=sys.stderr)
    sys.exit(1)
"; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "database still unreachable after ${QLQ_DB_WAIT_SECONDS:-60} s" >&2
            exit 1
        fi
        sleep 2
    done
}

command=${1:-serve}
case "$command" in
    migrate)
        shift || true
        wait_for_database
        exec qlq-server migrate "$@"
        ;;
    serve)
        shift || true
        exec qlq-server serve --host "${QLQ_HOST:-0.0.0.0}" "$@"
        ;;
    *)
        exec qlq-server "$@"
        ;;
esac
