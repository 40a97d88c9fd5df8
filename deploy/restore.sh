#!/bin/sh
# Restore a backup made by backup.sh into an EMPTY database (create it first: createdb qlq_restored),
# in one transaction: either everything is restored or nothing is.
#
# Usage: QLQ_DATABASE_URL=postgresql+psycopg://user@host:5432/qlq_restored deploy/restore.sh BACKUP_FILE
# Then point the server at it; `qlq-server migrate` brings it to the latest schema if the backup is older.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BACKUP_FILE   (reads QLQ_DATABASE_URL)" >&2
    exit 64
fi
: "${QLQ_DATABASE_URL:?set QLQ_DATABASE_URL (postgresql+psycopg://user@host:port/db)}"
url=$(printf '%s' "$QLQ_DATABASE_URL" | sed 's|^postgresql+psycopg://|postgresql://|')
if [ ! -r "$1" ]; then
    echo "cannot read $1" >&2
    exit 66
fi
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$url" "$1"
echo "restored $1"
