"""``qlq-kiosk enroll``: enroll this kiosk with a centre from a shell (IT scripts, support).

Prints one JSON object (site, device name and id, server URL) on success; a French message on stderr and exit
status 2 otherwise (nothing changed then).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qlq-kiosk enroll",
        description="Enroll this kiosk with the central server: trade a one-time code (from 'qlq-server enroll') "
        "for a device token, kept in the OS keyring.",
    )
    parser.add_argument("--server", help="the server URL, https://... (optional when --code is the QR text)")
    parser.add_argument(
        "--code", required=True, help="the enrollment code, or the QR text 'qlq-enroll:https://server#CODE'"
    )
    parser.add_argument("--name", help="this kiosk's name as the centre lists it (default: the host name)")
    parser.add_argument("--data-dir", type=Path, help="the kiosk's data folder (default: the app-data folder)")
    parser.add_argument("--ca-bundle", type=Path, help="PEM file of the hospital's certificate authorities")
    parser.add_argument(
        "--insecure-http-for-development",
        action="store_true",
        help="accept a plain http:// server URL (development only)",
    )
    return parser


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from kiosk.cli.sync import open_secrets, open_store
    from kiosk.secrets.interface import SecretStoreError
    from kiosk.storage.interface import StorageError
    from kiosk.sync.config import allow_http_from_env
    from kiosk.sync.enroll import EnrollmentError, enroll, parse_enrollment_text
    from kiosk.sync.transport import HttpxTransport

    ca_bundle = args.ca_bundle.resolve() if args.ca_bundle else None
    if ca_bundle is not None and not ca_bundle.is_file():
        print(
            f"qlq-kiosk enroll: le fichier d'autorités de certification {ca_bundle} est introuvable.", file=sys.stderr
        )
        return 2
    try:
        given = parse_enrollment_text(args.code, args.server)
        if not given.server_url:
            raise EnrollmentError("no server URL", nurse_message="Indiquez l'adresse du serveur (--server).")
        secrets = open_secrets(args.data_dir)
        store, data_dir = open_store(args.data_dir, secrets)
        try:
            enrollment = enroll(
                server_url=given.server_url,
                code=given.code,
                device_name=args.name or socket.gethostname(),
                settings=store,
                secrets=secrets,
                transport_for=lambda url: HttpxTransport(url, ca_bundle=ca_bundle),
                allow_http=args.insecure_http_for_development or allow_http_from_env(),
                ca_bundle=str(ca_bundle) if ca_bundle else None,
            )
        finally:
            store.close()
    except (EnrollmentError, SecretStoreError, StorageError) as exc:
        print(f"qlq-kiosk enroll: {exc.nurse_message}", file=sys.stderr)
        return 2
    print(
        json.dumps(
            {
                "site": enrollment.site,
                "device_name": enrollment.device_name,
                "device_id": enrollment.server_device_id,
                "server_url": enrollment.server_url,
                "enrolled_at": enrollment.enrolled_at.isoformat(),
                "data_dir": str(data_dir),
            },
            ensure_ascii=False,
        )
    )
    return 0
