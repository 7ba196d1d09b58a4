"""A circuit breaker per service: after a run of failures the gateway stops calling the service for a
while and answers 503 at once; then one request is let through to see whether it is back."""

import time
from dataclasses import dataclass


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None


class CircuitBreaker:
    def __init__(self, failures_to_open: int, open_seconds: float, clock=time.monotonic):
        self.failures_to_open, self.open_seconds, self.clock = failures_to_open, open_seconds, clock
        self._circuits: dict[str, _Circuit] = {}

    def _circuit(self, service: str) -> _Circuit:
        return self._circuits.setdefault(service, _Circuit())

    def retry_after(self, service: str) -> float | None:
        """Seconds until the service may be called again; None when it may be called now."""
        circuit = self._circuit(service)
        if circuit.opened_at is None:
            return None
        waited = self.clock() - circuit.opened_at
        if waited >= self.open_seconds:
            circuit.opened_at = self.clock()  # half open: this request is the trial, the others wait
            return None
        return self.open_seconds - waited

    def success(self, service: str) -> None:
        self._circuits[service] = _Circuit()

    def failure(self, service: str) -> None:
        circuit = self._circuit(service)
        circuit.failures += 1
        if circuit.failures >= self.failures_to_open:
            circuit.opened_at = self.clock()
