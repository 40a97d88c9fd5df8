#!/bin/sh
# Back up the sync server's database in PostgreSQL's custom format (pg_dump -Fc: compressed, restorable
# table by table with pg_restore).
#
# Usage: QLQ_DATABASE_URL=postgresql+psycopg://user@host:5432/qlq deploy/backup.sh /backups/qlq-$(date +%F).dump
# The URL is the server's own setting; the "+psycopg" driver suffix is dropped for libpq. A password may come
# from ~/.pgpass or PGPASSWORD instead of the URL. The dump holds patient data: store it encrypted.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTPUT_FILE   (reads QLQ_DATABASE_URL)" >&2
    exit 64
fi
: "${QLQ_DATABASE_URL:?set QLQ_DATABASE_URL (postgresql+psycopg://user@host:port/db)}"
url=$(printf '%s' "$QLQ_DATABASE_URL" | sed 's|^postgresql+psycopg://|postgresql://|')
out=$1
tmp="$out.partial"
umask 077
pg_dump --format=custom --no-owner --no-privileges --dbname="$url" --file="$tmp"
mv "$tmp" "$out"
echo "backup written to $out ($(wc -c < "$out") bytes)"
