"""The GPU host's side of AITBC: GPU detection, job runners, the polling miner and the Celery GPU worker.

It talks to the platform over HTTP with a miner key only: no database credentials on GPU hosts.
"""
