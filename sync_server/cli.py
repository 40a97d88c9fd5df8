"""``qlq-server``: run, migrate and administer the sync server from the console.

Every command reads its settings from the environment (``QLQ_*``, see ``docs/server.md``); ``--database-url``
overrides ``QLQ_DATABASE_URL``. Commands that touch patient data (export, import-legacy, gdpr) write an audit
row naming ``cli:<operating-system user>``. Each command runs in one transaction: all or nothing.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from kiosk import __version__

if TYPE_CHECKING:  # the commands import what they need when they run: `qlq-server --help` stays instant
    from sqlalchemy.orm import Session

    from sync_server.services.audit import Actor
    from sync_server.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    from sync_server.settings import load_settings

    overrides = {"database_url": args.database_url} if getattr(args, "database_url", None) else {}
    return load_settings(**overrides)


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """One transaction: committed when the block ends normally, rolled back otherwise."""
    from sqlalchemy.orm import Session

    from sync_server.db import make_engine

    engine = make_engine(settings)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def _actor() -> Actor:
    from sync_server.services.audit import Actor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return Actor(f"cli:{user}", "operator")


def _confirm(args: argparse.Namespace, question: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print("refusing without --yes (no terminal to confirm on)", file=sys.stderr)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes", "o", "oui")


# ---------------------------------------------------------------------------------------------- commands
def cmd_serve(args: argparse.Namespace) -> int:
    import tempfile

    import uvicorn

    from sync_server.logging import configure_logging

    settings = _settings(args)  # validates (production refuses placeholders) before any worker starts
    if args.database_url:
        os.environ["QLQ_DATABASE_URL"] = args.database_url
    configure_logging(settings.log_level, json_format=settings.log_json)
    workers = args.workers or settings.workers
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="qlq-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        _run_uvicorn(uvicorn, args, settings, workers)
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _run_uvicorn(uvicorn: ModuleType, args: argparse.Namespace, settings: Settings, workers: int) -> None:
    uvicorn.run(
        "sync_server.app:app_from_env",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=workers,
        log_config=None,
        ssl_certfile=settings.tls_certfile,
        ssl_keyfile=settings.tls_keyfile,
        proxy_headers=settings.behind_tls_proxy,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,
        access_log=False,
    )


def cmd_migrate(args: argparse.Namespace) -> int:
    from sync_server import migrate

    url = _settings(args).database_url
    before = migrate.current_revision_for_url(url)
    if args.downgrade:
        migrate.downgrade(url, args.downgrade)
    else:
        migrate.upgrade(url, "head")
    print(f"database schema: {before or 'empty'} -> {migrate.current_revision_for_url(url) or 'empty'}")
    return 0


def cmd_create_site(args: argparse.Namespace) -> int:
    from sync_server.services.accounts import AccountService

    settings = _settings(args)
    with _session(settings) as session:
        site = AccountService(session, settings).create_site(args.code, args.name or args.code)
        print(f"site {site.code} created ({site.name})")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    from sync_server.services.accounts import AccountService

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password again: "):
            print("the passwords differ", file=sys.stderr)
            return 1
    settings = _settings(args)
    with _session(settings) as session:
        user = AccountService(session, settings).create_user(args.username, password, args.role)
        print(f"user {user.username} created with role {user.role}")
    return 0


def cmd_user(args: argparse.Namespace) -> int:
    """Account actions from the console (the operator is no account: only the last-admin rule applies)."""
    from sync_server.services.accounts import AccountService

    settings = _settings(args)
    with _session(settings) as session:
        service = AccountService(session, settings)
        if args.action == "list":
            for user in service.users.list():
                state = f"disabled {user.disabled_at:%Y-%m-%d %H:%M}" if user.disabled_at else "enabled"
                print(f"{user.username}\t{user.role}\t{state}")
        elif args.action == "disable":
            service.disable_user(args.username)
            print(f"user {args.username} disabled and their tokens revoked")
        elif args.action == "enable":
            service.enable_user(args.username)
            print(f"user {args.username} enabled")
        elif args.action == "set-role":
            service.set_role(args.username, args.role)
            print(f"user {args.username} now has the role {args.role} (their tokens were revoked)")
        else:
            count = service.revoke_user_tokens(args.username)
            print(f"{count} token(s) of {args.username} revoked")
    return 0


def cmd_enroll(args: argparse.Namespace) -> int:
    import segno

    from sync_server.services.accounts import AccountService

    settings = _settings(args)
    with _session(settings) as session:
        issued = AccountService(session, settings).create_enrollment_code(args.site, _actor().name)
    print(f"Enrollment code for site {issued.site_code}: {issued.code}")
    print(f"Valid once, until {issued.expires_at:%Y-%m-%d %H:%M} UTC.")
    content = issued.code
    if args.server_url:
        content = f"qlq-enroll:{args.server_url.rstrip('/')}#{issued.code}"
    segno.make(content, error="m").terminal(compact=True)
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from sync_server.services.accounts import AccountService

    settings = _settings(args)
    with _session(settings) as session:
        for device, site in AccountService(session, settings).list_devices(args.site):
            state = f"revoked {device.revoked_at:%Y-%m-%d}" if device.revoked_at else "active"
            seen = f"{device.last_seen_at:%Y-%m-%d %H:%M}" if device.last_seen_at else "never"
            print(f"{device.id}  {site:<12} {device.name:<24} {state:<18} last seen {seen}")
    return 0


def cmd_revoke_device(args: argparse.Namespace) -> int:
    from sync_server.services.accounts import AccountService

    settings = _settings(args)
    with _session(settings) as session:
        AccountService(session, settings).revoke_device(args.device_id)
    print(f"device {args.device_id} revoked")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from sync_server.cli_export import run_export

    return run_export(args, _settings(args), _session, _actor())


def cmd_import_legacy(args: argparse.Namespace) -> int:
    from kiosk.domain.instrument import load_instrument
    from sync_server.services.instruments import InstrumentRegistry
    from sync_server.services.legacy_import import import_legacy_db

    if not args.path.is_file():
        print(f"no such file: {args.path}", file=sys.stderr)
        return 2
    from sync_server.legacy import LegacyDatabaseError

    settings = _settings(args)
    try:
        with _session(settings) as session:
            summary = import_legacy_db(
                session,
                args.path,
                site_code=args.site,
                instrument=load_instrument(args.instrument, args.language),
                instruments=InstrumentRegistry.bundled(),
                actor=_actor(),
                report=lambda line: print(line, file=sys.stderr),
            )
    except LegacyDatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in summary.lines():
        print(line)
    return 0


def cmd_gdpr(args: argparse.Namespace) -> int:
    from sync_server.services.gdpr import GdprService

    settings = _settings(args)
    actor = _actor()
    dry_run = getattr(args, "dry_run", False)
    question = f"{args.action}: this cannot be undone. Go on?"
    if args.action in ("delete", "purge") and not dry_run and not _confirm(args, question):
        return 1
    with _session(settings) as session:
        service = GdprService(session)
        if args.action == "show":
            print(json.dumps(service.show(args.submission_id, actor), indent=2, ensure_ascii=False, default=str))
        elif args.action == "delete":
            service.delete(args.submission_id, actor)
            print(f"session {args.submission_id} deleted")
        elif args.action == "anonymize":
            changed = service.anonymize(args.submission_id, actor)
            print(f"session {args.submission_id} {'anonymized' if changed else 'was already anonymized'}")
        else:
            ids = service.purge(args.older_than, actor, dry_run=args.dry_run)
            verb = "would delete" if args.dry_run else "deleted"
            print(f"{verb} {len(ids)} session(s) older than {args.older_than} days")
    return 0


def cmd_publish_release(args: argparse.Namespace) -> int:
    from sync_server.services.releases import ReleaseService

    settings = _settings(args)
    if args.releases_dir:
        settings = settings.model_copy(update={"releases_dir": str(args.releases_dir)})
    result = ReleaseService(settings).publish(
        args.archive, public_key=args.public_key, require_sbom=not args.allow_missing_sbom
    )
    release = result.release
    state = "already published" if result.already_published else "published"
    print(
        f"{state}: {release.archive.name} version {release.version} for {release.os}/{release.arch} "
        f"(signature and manifest verified, {release.file_count} files) in {result.stored_at.parent}"
    )
    return 0


# ---------------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - one command's steps, in order
    parser = argparse.ArgumentParser(
        prog="qlq-server",
        description="Kiosque QLQ-C30 central sync server. "
        "Settings come from QLQ_* environment variables (see docs/server.md).",
    )
    parser.add_argument("--version", action="version", version=f"qlq-server {__version__}")
    parser.add_argument("--database-url", help="overrides QLQ_DATABASE_URL (postgresql+psycopg://user@host:port/db)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(handler=handler)
        return p

    p = add("serve", cmd_serve, "Run the HTTP server (uvicorn). Refuses unsafe production settings.")
    p.add_argument("--host", help="listen address (default QLQ_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (default QLQ_PORT, 8000)")
    p.add_argument("--workers", type=int, help="worker processes (default QLQ_WORKERS, 1)")
    p = add("migrate", cmd_migrate, "Bring the database schema to the latest migration (alembic upgrade head).")
    p.add_argument("--downgrade", metavar="REV", help="downgrade to this revision instead ('base' empties it)")
    p = add("create-site", cmd_create_site, "Create a site (a clinic) that devices enroll into.")
    p.add_argument("code", help="short site code, e.g. LYON-01")
    p.add_argument("--name", help="display name")
    p = add("create-user", cmd_create_user, "Create a researcher or admin account (password prompted).")
    p.add_argument("username")
    p.add_argument("--role", choices=("admin", "researcher"), required=True)
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p = add("user", cmd_user, "Manage accounts: list, disable, enable, set-role, revoke-tokens.")
    user = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    user.add_parser("list", help="List accounts with role and state.")
    for action, text in (
        ("disable", "Disable an account and revoke its tokens (never the last admin)."),
        ("enable", "Re-enable a disabled account."),
        ("revoke-tokens", "Revoke every active token of an account (it stays enabled)."),
    ):
        user.add_parser(action, help=text, description=text).add_argument("username")
    u = user.add_parser("set-role", help="Change an account's role (never demoting the last admin).")
    u.add_argument("username")
    u.add_argument("role", choices=("admin", "researcher"))
    p = add("enroll", cmd_enroll, "Print a one-time device enrollment code (valid 24 h) and its QR code.")
    p.add_argument("--site", required=True, help="site code the device will belong to")
    p.add_argument("--server-url", help="also put the server's URL in the QR code")
    p = add("devices", cmd_devices, "List enrolled devices with their ids and state.")
    p.add_argument("--site", help="only this site")
    p = add("revoke-device", cmd_revoke_device, "Revoke a device token; the device must enroll again.")
    p.add_argument("device_id", type=uuid.UUID)
    p = add("export", cmd_export, "Export sessions (audited): csv-wide, csv-long, sav or fhir.")
    p.add_argument("--format", required=True, choices=("csv-wide", "csv-long", "sav", "fhir"))
    p.add_argument("-o", "--output", type=Path, help="write to this file (default: standard output)")
    p.add_argument("--site", help="only this site code")
    p.add_argument("--from", dest="date_from", type=date.fromisoformat, help="first session date, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", type=date.fromisoformat, help="last session date, YYYY-MM-DD")
    p.add_argument("--instrument", default="qlq-c30")
    p.add_argument("--language", default="fr")
    p.add_argument("--completed-only", action="store_true", help="leave abandoned sessions out")
    p.add_argument("--include-birth-date", action="store_true", help="add birth dates (audited as such)")
    p = add("import-legacy", cmd_import_legacy, "Import the old prototype's SQLite database (idempotent).")
    p.add_argument("path", type=Path, help="the prototype's .db file")
    p.add_argument("--site", required=True, help="site code to file the sessions under")
    p.add_argument("--instrument", default="qlq-c30")
    p.add_argument("--language", default="fr")
    p = add(
        "publish-release",
        cmd_publish_release,
        "Verify a signed kiosk release and copy it (archive, signature, "
        "manifest, SBOM) into the releases folder kiosks update from (QLQ_RELEASES_DIR).",
    )
    p.add_argument(
        "archive",
        type=Path,
        help="qlq-kiosk-VERSION-OS-ARCH.tar.gz, with its .sig, .manifest, .manifest.sig and .cdx.json beside it",
    )
    p.add_argument(
        "--public-key",
        type=Path,
        help="Ed25519 public key (PEM) to verify with "
        "(default QLQ_RELEASE_PUBLIC_KEY, else the key built into the kiosk)",
    )
    p.add_argument("--releases-dir", type=Path, help="overrides QLQ_RELEASES_DIR")
    p.add_argument("--allow-missing-sbom", action="store_true", help="publish even without the CycloneDX SBOM")
    p = add("gdpr", cmd_gdpr, "GDPR actions on stored sessions (audited): show, delete, anonymize, purge.")
    gdpr = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("show", "Print everything held about a session."),
        ("delete", "Delete a session and its answers."),
        ("anonymize", "Drop initials, birth date and exact age; keep an age band."),
    ):
        g = gdpr.add_parser(action, help=text, description=text)
        g.add_argument("submission_id", type=uuid.UUID)
        g.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    g = gdpr.add_parser(
        "purge",
        help="Delete sessions older than a retention period.",
        description="Delete every session whose session date is more than DAYS days ago.",
    )
    g.add_argument("--older-than", type=int, required=True, metavar="DAYS")
    g.add_argument("--dry-run", action="store_true", help="only count")
    g.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from sync_server.errors import AppError
    from sync_server.settings import SettingsError

    try:
        return int(args.handler(args))
    except AppError as exc:
        where = f" ({exc.field})" if exc.field else ""
        print(f"error: {exc.code}{where}: {exc.message}", file=sys.stderr)
        return 1
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
