"""Bad configuration gets one clear line and a non-zero exit, never a traceback."""

import json

import pytest

from tests.processes import process_env, run_aitbc

DEAD_DATABASE = "postgres://postgres@127.0.0.1:1/aitbc"


def error_line(result) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_an_unknown_service_is_refused(tmp_path):
    result = run_aitbc(["serve", "nosuch"], process_env(tmp_path, embedded=True))
    assert result.returncode == 2
    assert "'nosuch' is not one of" in error_line(result)


@pytest.mark.parametrize("command", [["db", "migrate"], ["serve", "gpu"], ["keys", "list"]])
def test_a_malformed_database_url_is_one_line(tmp_path, command):
    result = run_aitbc(command, process_env(tmp_path, embedded=True, AITBC_DATABASE_URL="mysql://nope"))
    assert result.returncode == 2
    assert error_line(result).startswith("error: AITBC_DATABASE_URL must look like postgres://USER@HOST:PORT/NAME")


@pytest.mark.parametrize("command", [["db", "migrate"], ["serve", "gpu"], ["worker"], ["keys", "list"]])
def test_a_database_server_that_does_not_answer_is_one_line(tmp_path, command):
    result = run_aitbc(command, process_env(tmp_path, embedded=True, AITBC_DATABASE_URL=DEAD_DATABASE), timeout=60)
    assert result.returncode == 1
    assert "127.0.0.1:1" in error_line(result)
    assert "does not answer" in error_line(result)


@pytest.mark.parametrize(
    ("options", "refusal"),
    [(["--name", "a\x01b"], "control characters"), (["--name", "ok", "--expires-in", "99999999999d"], "further away")],
)
def test_a_key_the_service_would_refuse_is_one_line_and_creates_nobody(tmp_path, options, refusal):
    env = process_env(tmp_path, embedded=True)
    assert run_aitbc(["db", "migrate"], env, timeout=300).returncode == 0
    result = run_aitbc(["keys", "create", "--role", "client", *options], env)
    assert result.returncode in (1, 2)  # a refusal, or a usage error
    assert refusal in error_line(result)
    assert json.loads(run_aitbc(["keys", "list", "--json"], env).stdout)["count"] == 0
