"""Upstream connections: one httpx client (one pool) per service and kind of request, so that a slow or busy
service, or miners waiting in long-polls, never take the connections every other request needs."""

import httpx
from django.conf import settings


class UpstreamPools:
    def __init__(self):
        self._clients: dict[tuple[str, bool], httpx.AsyncClient] = {}

    def client(self, service: str, *, long_poll: bool) -> httpx.AsyncClient:
        client = self._clients.get((service, long_poll))
        if client is None:
            size = settings.AITBC_GATEWAY_LONGPOLL_CONNECTIONS if long_poll else settings.AITBC_GATEWAY_POOL_CONNECTIONS
            limits = httpx.Limits(max_connections=size, max_keepalive_connections=min(size, 50))
            client = httpx.AsyncClient(limits=limits, timeout=self.timeout(service), follow_redirects=False)
            self._clients[(service, long_poll)] = client
        return client

    @staticmethod
    def timeout(service: str) -> httpx.Timeout:
        """The service's own read timeout; a second to connect; AITBC_GATEWAY_POOL_WAIT_S for a free connection."""
        return httpx.Timeout(
            settings.AITBC_GATEWAY_TIMEOUTS[service], connect=1.0, pool=settings.AITBC_GATEWAY_POOL_WAIT_S
        )

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
