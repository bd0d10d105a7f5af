"""The deployment files stay valid: the systemd unit passes `systemd-analyze verify`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze absent (systemd is not installed on this machine)")
    crieur = Path(sys.executable).with_name("crieur")  # where the unit's ExecStart would be
    unit = (DEPLOY / "crieur.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/crieur/.venv/bin/crieur run" in unit
    copy = tmp_path / "crieur.service"
    copy.write_text(unit.replace("/opt/crieur/.venv/bin/crieur", str(crieur)), encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    problems = [line for line in done.stderr.splitlines() if "crieur.service" in line]
    assert done.returncode == 0 and not problems, done.stderr
