"""The miner's heartbeats renew the leases of the jobs it runs: nothing but stopping the miner may stop them."""

import threading

from aitbc_miner.agent import MinerAgent
from tests.miner.fake_nvml import FakeNvml


class Answer:
    def __init__(self, body):
        self.body = body

    def json(self):
        return self.body


class Platform:
    """The platform's API as the agent calls it: heartbeats are counted; hermes hangs until `released` is set,
    and the first `broken_beats` heartbeats get an answer that is not JSON."""

    def __init__(self, broken_beats: int = 0):
        self.beats = threading.Semaphore(0)
        self.released = threading.Event()
        self.broken_beats = broken_beats

    def get(self, service, path, **kwargs):
        assert service == "hermes", path
        self.released.wait(60)
        return {"items": []}

    def post(self, service, path, **kwargs):
        assert (service, path) == ("gpu", "/v1/miners/heartbeat")
        self.beats.release()
        if self.broken_beats:
            self.broken_beats -= 1
            raise ValueError("Expecting value: line 1 column 1 (char 0)")  # what .json() raises on HTML
        return Answer({"renewed_leases": 0})


def beating(platform: Platform) -> MinerAgent:
    agent = MinerAgent(platform, region="", unit_price="0.01", concurrency=1, mode="poll", nvml=FakeNvml("busy"))
    agent.heartbeat_interval = 0.01
    agent.heartbeats_start()
    return agent


def test_heartbeats_go_on_while_a_call_to_hermes_hangs():
    platform = Platform()
    agent = beating(platform)
    try:
        beats = [platform.beats.acquire(timeout=20) for _ in range(5)]
    finally:
        agent.stop()
        platform.released.set()
    assert beats == [True] * 5


def test_heartbeats_go_on_after_an_answer_they_cannot_read():
    platform = Platform(broken_beats=2)
    platform.released.set()
    agent = beating(platform)
    try:
        beats = [platform.beats.acquire(timeout=20) for _ in range(5)]
    finally:
        agent.stop()
    assert beats == [True] * 5
