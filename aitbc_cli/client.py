"""What every HTTP command of the CLI shares: --url, --key, --json, and errors printed as one line."""

import functools
import json
import uuid

import click
import httpx

from aitbc_client.http import Api, ApiError


def api_command(func):
    """Adds --url/--key/--json and passes `api` and `as_json`; API and connection errors become one line."""

    @click.option("--url", envvar="AITBC_URL", default="http://127.0.0.1:8080", show_default=True, help="The gateway.")
    @click.option("--key", envvar="AITBC_API_KEY", default="", help="API key (default: AITBC_API_KEY).")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @functools.wraps(func)
    def wrapper(url, key, as_json, **kwargs):
        if not key:
            raise click.UsageError("an API key is needed: --key KEY or AITBC_API_KEY")
        api = Api(url, key)
        try:
            return func(api=api, as_json=as_json, **kwargs)
        except ApiError as exc:
            raise click.ClickException(f"{exc.status} {exc.code}: {exc.detail}") from None
        except httpx.HTTPError as exc:
            raise click.ClickException(f"cannot reach {url}: {exc}") from None
        finally:
            api.close()

    return wrapper


def once() -> dict:
    """A fresh Idempotency-Key for one command: a request retried underneath it never acts twice."""
    return {"Idempotency-Key": str(uuid.uuid4())}


def emit(value, as_json: bool, text: str | None = None) -> None:
    if as_json:
        click.echo(json.dumps(value, default=str))
    else:
        click.echo(text if text is not None else json.dumps(value, indent=2, default=str))


def json_argument(text: str, what: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise click.BadParameter(f"{what} must be a JSON object")
    return value
