"""Chooses the test backends before Django reads its settings (loaded with `-p tests.backends`).

PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379 are used when they answer; otherwise the
embedded defaults (SQLite, filesystem broker). AITBC_TEST_BACKENDS=embedded forces the latter.
"""

import fcntl
import os
import secrets
import socket
import tempfile


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def _run_slot() -> int:
    """A number no other test run on this machine holds (15 first, then down to 1), kept until this process
    ends, so that two runs at once get their own databases and Redis database instead of sharing queues."""
    for slot in range(15, 0, -1):
        lock = open(os.path.join(tempfile.gettempdir(), f"aitbc-test-slot-{slot}.lock"), "w")  # noqa: SIM115
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        _held.append(lock)
        return slot
    raise RuntimeError("15 test runs at once: no free test slot")


_held: list = []

if os.environ.get("AITBC_TEST_BACKENDS") == "embedded":
    os.environ.pop("AITBC_DATABASE_URL", None)
    os.environ.pop("AITBC_REDIS_URL", None)
else:
    slot = _run_slot()
    if not os.environ.get("AITBC_DATABASE_URL") and _answers(5432):
        name = "aitbc" if slot == 15 else f"aitbc_s{slot}"
        os.environ["AITBC_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    if not os.environ.get("AITBC_REDIS_URL") and _answers(6379):
        os.environ["AITBC_REDIS_URL"] = f"redis://127.0.0.1:6379/{slot}"

# Tests never touch a developer's ./var; every process they start shares this secret.
os.environ["AITBC_HOME"] = tempfile.mkdtemp(prefix="aitbc-test-")
os.environ.setdefault("AITBC_SECRET_KEY", "test-" + secrets.token_hex(24))
os.environ.pop("AITBC_PORT_OFFSET", None)


def backends_line() -> str:
    database = "PostgreSQL" if os.environ.get("AITBC_DATABASE_URL") else "SQLite (embedded)"
    broker = "Redis" if os.environ.get("AITBC_REDIS_URL") else "filesystem broker (embedded)"
    return f"aitbc test backends: database={database}, broker={broker}"


def pytest_report_header(config):
    return backends_line()


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(backends_line())
