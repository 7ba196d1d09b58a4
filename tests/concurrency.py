"""Running the same work in threads released together, each with its own database connections (for the races
that row and advisory locks must settle; such tests use django_db(transaction=True))."""

import threading

from django.db import connections


def at_once(call, *, times: int = 2, allowed: tuple[type[Exception], ...] = (), timeout: float = 60) -> list:
    """What `call()` returned (or raised, when the exception is one of `allowed`) in each of `times` threads
    started together; any other exception is raised here."""
    start, outcomes = threading.Barrier(times), []

    def run():
        try:
            start.wait()
            outcomes.append(call())
        except Exception as exc:  # handed to the test's thread below
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    for outcome in outcomes:
        if isinstance(outcome, Exception) and not isinstance(outcome, allowed):
            raise outcome
    assert len(outcomes) == times, f"{times - len(outcomes)} thread(s) still running after {timeout} s"
    return outcomes
