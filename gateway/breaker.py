"""A circuit breaker per service: after a run of failures the gateway stops calling the service for a
while and answers 503 at once; then one request is let through to see whether it is back.

Only the service's own failures count (it cannot be reached, it does not answer in time, it answers 5xx);
the caller (ServiceProxy) never reports what is the gateway's or the client's doing, such as its own pool
of connections running dry or a body over the limit. A trial request that never reached the service gives
its turn to the next request."""

import time
from dataclasses import dataclass


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    trial: bool = False  # a trial request is on its way


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
            circuit.trial = True
            return None
        return self.open_seconds - waited

    def in_trial(self, service: str) -> bool:
        """Whether the request just let through by retry_after is the trial (asked before any await)."""
        return self._circuit(service).trial

    def trial_unused(self, service: str) -> None:
        """The trial request never reached the service: the next request is the trial."""
        circuit = self._circuit(service)
        if circuit.trial and circuit.opened_at is not None:
            circuit.opened_at, circuit.trial = self.clock() - self.open_seconds, False

    def success(self, service: str) -> None:
        self._circuits[service] = _Circuit()

    def failure(self, service: str) -> None:
        circuit = self._circuit(service)
        circuit.failures += 1
        circuit.trial = False
        if circuit.failures >= self.failures_to_open:
            circuit.opened_at = self.clock()
