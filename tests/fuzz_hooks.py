"""schemathesis hooks (SCHEMATHESIS_HOOKS=tests.fuzz_hooks): besides what the schema allows, each request
may carry one hostile value somewhere, of the classes that once reached the database, so the fuzzer looks
where the bugs were."""

import json
import os
from pathlib import Path

import schemathesis
from hypothesis import strategies as st

from tests import hostile

# raw JSON texts, for anywhere in a body: beyond these, a value of the wrong type, a number beyond its column,
# a date beyond what a reader can hold or without a timezone, and nesting beyond the door's limit
IN_BODIES = [
    *hostile.ALL.values(), "1" + "0" * 40, "2147483648", "9223372036854775808", "-1", "0", '"99999999999.5"',
    '"9999-12-31T23:59:59-05:00"', '"2030-01-01T00:00:00"', '"\\u00b2"', '"24"', "true", "null", "[]", "{}",
    '{"min_vram_gb": "24"}', "[" * 40 + "]" * 40, '"' + "9" * 5000 + '"',
]  # fmt: skip
# what a query string or a path can carry (no lone surrogate: it has no UTF-8 form to send)
IN_URLS = ["a\x00b", "\x01", "\u00b2", "9" * 5000, "NaN", "-Infinity", "1e400", "-1", "9999-12-31T23:59:59-05:00"]


# ids this run's key can see, by parameter name (tests/test_fuzz.py writes them): {"job_id": [...], ...}
KNOWN_IDS = json.loads(Path(os.environ["AITBC_FUZZ_IDS"]).read_text()) if os.environ.get("AITBC_FUZZ_IDS") else {}


def _places(value, path=()):
    """Every path in a JSON value where a value could stand."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, (*path, index))


def _hostile_body(body, place, raw: str) -> bytes:
    return hostile.json_with(body, list(place), raw).encode()  # bytes go out as they are (NaN included)


@schemathesis.hook
def flatmap_body(ctx, body):
    if not isinstance(body, dict | list):
        return st.just(body)
    places = list(_places(body))
    return st.one_of(st.just(body), st.builds(_hostile_body, st.just(body), st.sampled_from(places),
                                              st.sampled_from(IN_BODIES)))  # fmt: skip


def _replaced(params: dict, name: str, value: str) -> dict:
    return {**params, name: value}


def _with_one_hostile(params: dict):
    # named functions, no lambdas: hypothesis describes a lambda by parsing its source, which is not safe in the
    # fuzzer's worker threads on Python 3.11 ("AST constructor recursion depth mismatch")
    if not params:
        return st.just(params)
    one = st.builds(_replaced, st.just(params), st.sampled_from(sorted(params)), st.sampled_from(IN_URLS))
    return st.one_of(st.just(params), one)


@schemathesis.hook
def flatmap_query(ctx, query):
    return _with_one_hostile(query)


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    strategy = _with_one_hostile(path_parameters)
    known = [name for name in sorted(path_parameters or {}) if KNOWN_IDS.get(name)]
    for name in known:  # often a real object's id, so that the operation gets past its 404
        real = st.builds(_replaced, st.just(path_parameters), st.just(name), st.sampled_from(KNOWN_IDS[name]))
        strategy = st.one_of(strategy, real, real)
    return strategy
