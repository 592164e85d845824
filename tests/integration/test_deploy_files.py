"""The files docs/deploy.md ships: systemd units that systemd itself reads without a complaint, an nginx site nginx accepts."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
INSTALLED_AT = "/opt/vigie"  # where the units expect the checkout (and its .venv)


@pytest.mark.parametrize("unit,as_name", [
    ("vigie-engine.service", "vigie-engine.service"),
    ("vigie-web@.service", "vigie-web@8051.service"),
    ("vigie-simulator@.service", "vigie-simulator@water.service"),
])
def test_systemd_reads_each_unit_without_a_warning(unit: str, as_name: str, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("no systemd-analyze (Debian: apt-get install systemd)")
    # verify also checks that ExecStart's program exists: point the unit at this checkout's interpreter
    text = (UNITS / unit).read_text(encoding="utf-8").replace(INSTALLED_AT, str(ROOT))
    (tmp_path / as_name).write_text(text, encoding="utf-8")
    done = subprocess.run([analyze, "verify", str(tmp_path / as_name)], capture_output=True, text=True, timeout=60)
    # systemd-analyze verify exits 0 even on unknown keys or bad values: any line it prints is a finding
    findings = [line for line in (done.stdout + done.stderr).splitlines()
                if line.strip() and "Failed to read $container of PID 1" not in line]
    assert done.returncode == 0 and not findings, "\n".join(findings)


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    nginx = shutil.which("nginx")
    if nginx is None:
        pytest.skip("no nginx binary (Debian: apt-get install nginx)")
    site = (ROOT / "deploy" / "nginx" / "vigie.conf").read_text(encoding="utf-8")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=vigie.example.org",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem"), "-days", "1"],
                   check=True, capture_output=True, timeout=60)
    site = site.replace("/etc/ssl/vigie/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace("/etc/ssl/vigie/privkey.pem", str(tmp_path / "key.pem"))
    (tmp_path / "vigie.conf").write_text(site, encoding="utf-8")
    temp = "\n".join(f"  {kind}_temp_path {tmp_path}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\nhttp {{\n  access_log off;\n{temp}\n"
        f"  include {tmp_path}/vigie.conf;\n}}\n", encoding="utf-8")
    done = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
