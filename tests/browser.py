"""Headless Chromium (Debian's `chromium` package) for tests that look at a page as a person would.

Installed with apt-get when it is missing and the tests run as root (as CI does), so a fresh machine needs
nothing done by hand."""

import os
import shutil
import subprocess
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def chromium() -> str:
    """The path of a runnable chromium, installing Debian's package first when needed."""
    if shutil.which("chromium") is None and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, check=True, capture_output=True,
                       timeout=1200)  # fmt: skip
    path = shutil.which("chromium")
    assert path, "Debian's chromium package is needed: apt-get install chromium"
    return path


def headless(url: str, *args: str, budget_ms: int = 12000, timeout: float = 120) -> subprocess.CompletedProcess:
    """Chromium headless on `url`: scripts run (and timers fire) for `budget_ms` of virtual time first."""
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--hide-scrollbars", f"--virtual-time-budget={budget_ms}", *args, url]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def dom_of(url: str, **kwargs) -> str:
    shown = headless(url, "--dump-dom", **kwargs)
    assert shown.returncode == 0, shown.stderr[-2000:]
    return shown.stdout


def screenshot_of(url: str, name: str, size: str = "1400,1500", **kwargs) -> Path:
    """A PNG of the page, kept under test-artifacts/ (gitignored) for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.unlink(missing_ok=True)
    shot = headless(url, f"--screenshot={path}", f"--window-size={size}", **kwargs)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert path.stat().st_size > 10_000
    return path
