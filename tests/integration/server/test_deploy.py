"""The deployment files: every QLQ_ setting they pass exists in Settings, the metrics the dashboard plots
exist, and the container entrypoint really migrates a database and dispatches commands."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from sync_server import metrics, migrate
from sync_server.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
DOC = ROOT / "docs" / "server.md"
SETTING_RE = re.compile(r"\bQLQ_([A-Z][A-Z0-9_]*)\b")
NOT_SETTINGS = {"DB_WAIT_SECONDS", "TEST_DATABASE_URL", "RESOURCES_DIR"}  # entrypoint, tests, kiosk.domain


def test_deploy_files_only_use_real_settings():
    fields = {name.upper() for name in Settings.model_fields}
    files = [*DEPLOY.glob("*.yaml"), *DEPLOY.glob("k8s/*.yaml"), DEPLOY / "Dockerfile", DEPLOY / "entrypoint.sh"]
    used = {m for f in files for m in SETTING_RE.findall(f.read_text())}
    assert used, "the deployment files set QLQ_ variables"
    assert used - NOT_SETTINGS <= fields, sorted(used - NOT_SETTINGS - fields)


def test_docs_describe_every_setting():
    text = DOC.read_text()
    missing = [name for name in Settings.model_fields if f"QLQ_{name.upper()}" not in text]
    assert missing == []


def test_dashboard_plots_existing_metrics():
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    names = set(re.findall(r"\b(qlq_[a-z_]+?)(?:_bucket|_sum|_count|_total)?\b[\[{(]", exprs))
    registered = {m.name for m in metrics.REGISTRY.collect()} | {
        m.name.removesuffix("_total") for m in metrics.REGISTRY.collect()
    }
    assert names and {n.removesuffix("_total") for n in names} <= registered, names


def test_entrypoint_migrates_and_dispatches(make_database):
    url = make_database()
    env = {
        **os.environ,
        "QLQ_DATABASE_URL": url,
        "QLQ_DB_WAIT_SECONDS": "10",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    result = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh"), "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert migrate.current_revision_for_url(url) == migrate.head_revision()
    result = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh"), "--help"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "import-legacy" in result.stdout
    bad = {**env, "QLQ_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none", "QLQ_DB_WAIT_SECONDS": "1"}
    result = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh"), "migrate"], env=bad, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "unreachable" in result.stderr
