"""`aitbc gov` refuses incomplete commands before sending anything (the live flow is in tests/governance)."""

import pytest
from click.testing import CliRunner

from aitbc_cli.main import cli

NOWHERE = ["--url", "http://127.0.0.1:1", "--key", "k"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["propose", "--title", "t", "--category", "parameter", "--value", "5"], "needs --parameter NAME --value N"),
        (["propose", "--title", "t", "--category", "funding", "--amount", "5"], "needs --to PRINCIPAL_ID --amount"),
        (["propose", "--title", "t", "--payload", "[1]"], "--payload must be a JSON object"),
        (["delegate"], "give TO_PRINCIPAL_ID, or --undo"),
        (["vote", "some-id", "maybe"], "'maybe' is not one of"),
    ],
)
def test_an_incomplete_gov_command_is_a_usage_error(args, message):
    result = CliRunner().invoke(cli, ["gov", *args, *NOWHERE])
    assert result.exit_code == 2
    assert message in result.output


def test_an_unreachable_gateway_is_one_line():
    result = CliRunner().invoke(cli, ["gov", "params", *NOWHERE])
    assert result.exit_code == 1
    assert "cannot reach http://127.0.0.1:1" in result.output
