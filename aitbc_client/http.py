"""A small HTTP client for the AITBC API, through the gateway by default."""

import os

import httpx

DEFAULT_URL = "http://127.0.0.1:8080"


class ApiError(Exception):
    def __init__(self, status: int, detail: str, code: str, body: dict | None = None):
        super().__init__(f"{status} {code}: {detail}")
        self.status, self.detail, self.code, self.body = status, detail, code, body or {}


def default_url() -> str:
    return os.environ.get("AITBC_URL") or DEFAULT_URL


class Api:
    """`Api(url, key).get("ai", "/v1/jobs")` calls `{url}/ai/v1/jobs` with the key."""

    def __init__(self, url: str | None = None, key: str | None = None, timeout: float = 45.0):
        self.url = (url or default_url()).rstrip("/")
        self.key = key or os.environ.get("AITBC_API_KEY") or ""
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, service: str, path: str, **kwargs) -> httpx.Response:
        response = self.http.request(method, f"/{service}{path}", **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"detail": response.text[:200] or response.reason_phrase, "code": "http_error"}
            raise ApiError(response.status_code, body.get("detail", ""), body.get("code", "error"), body)
        return response

    def get(self, service: str, path: str, **kwargs):
        return self.request("GET", service, path, **kwargs).json()

    def post(self, service: str, path: str, json=None, **kwargs) -> httpx.Response:
        return self.request("POST", service, path, json=json, **kwargs)

    def put(self, service: str, path: str, json=None, **kwargs):
        return self.request("PUT", service, path, json=json, **kwargs).json()

    def delete(self, service: str, path: str, **kwargs) -> httpx.Response:
        return self.request("DELETE", service, path, **kwargs)
