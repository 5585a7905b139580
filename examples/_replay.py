"""Live, replayed or recording: how every example gets its HTTP, in one place.

- Live: a key for the example's gateway (APIPIE_API_KEY / AIMLAPI_API_KEY) is set → nothing is patched.
- Replay (no key): the example's HTTP comes from `cassettes/replica/examples/<name>.yaml` through vcrpy
  with record mode "none" — a request that is not in the cassette fails instead of reaching the network.
  A dummy key is put in the environment for the duration, and one line on stderr says what is happening.
  Requests are matched on method, path and the JSON body (never the host), so the public base URLs work.
  `HERMES_CASSETTES=live` replays `cassettes/live/examples/` instead (when someone has recorded it).
- Recording (`HERMES_RECORD=replica` or `live`, set by
  `python -m tests.record_cassettes tests/test_examples.py`, which also starts the replica and points the
  `*_BASE_URL` variables at it): the cassette is rewritten from scratch, with the recorder's scrubbing
  (keys, cookies) and public URIs from `tests.cassette_support`.

```python
from _replay import replaying

with replaying("quickstart", gateways=("apipie",)):
    ...  # the example's body
```

The integration notebooks (docs/integrations/) use the same modes with `cassettes/<target>/notebooks/`:
no `with` block spans a notebook's cells, so `start_replaying()` enters it and returns the ExitStack that a
last cell closes (closing writes the cassette while recording).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CASSETTES = REPO_ROOT / "cassettes"
KEY_ENV = {"apipie": "APIPIE_API_KEY", "aimlapi": "AIMLAPI_API_KEY"}
REPLAY_KEY = "replay-dummy-key-not-a-secret"
"""Handed to the clients while replaying: vcrpy answers, nothing is sent anywhere."""


_GENERATED_CALL_ID = re.compile(r"call_[0-9a-f]{24}")
"""Tool-call ids the client generates fresh for each call: numbered in order of appearance when matching."""


def _number_generated_ids(text: str) -> str:
    seen: dict[str, str] = {}
    return _GENERATED_CALL_ID.sub(lambda m: seen.setdefault(m.group(0), f"call_generated_{len(seen)}"), text)


def _body(request: Any) -> Any:
    raw = request.body
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not raw:
        return None
    raw = _number_generated_ids(raw)
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _json_body(r1: Any, r2: Any) -> None:
    """vcrpy matcher: request bodies equal as parsed JSON (key order and spacing ignored; generated tool-call
    ids numbered, so a history with this run's fresh ids matches its recording)."""
    if _body(r1) != _body(r2):
        raise AssertionError("request bodies differ")


def mode(gateways: tuple[str, ...]) -> str:
    """ "record-replica" / "record-live" while recording, "live" when every key is set, else "replay"."""
    recording = os.environ.get("HERMES_RECORD", "").strip().lower()
    if recording in ("replica", "live"):
        return f"record-{recording}"
    return "live" if any(os.environ.get(KEY_ENV[g]) for g in gateways) else "replay"


def cassette_path(name: str, target: str = "replica", folder: str = "examples") -> Path:
    return CASSETTES / target / folder / f"{name}.yaml"


@contextmanager
def _replica_with_faults(faults: Mapping[str, Sequence[int]]) -> Iterator[None]:
    """While recording: a private replica whose gateways first answer with these HTTP statuses (then
    normally), with the base-URL variables pointed at it for the duration."""
    from tests.replica import Fault, Replica

    with Replica() as replica:
        for gateway, statuses in faults.items():
            replica[gateway].enqueue(*(Fault.error(status) for status in statuses))
        saved = {name: os.environ.get(name) for name in replica.env()}
        os.environ.update(replica.env())
        try:
            yield
        finally:
            for env_name, value in saved.items():
                if value is None:
                    os.environ.pop(env_name, None)
                else:
                    os.environ[env_name] = value


@contextmanager
def replaying(
    name: str,
    *,
    gateways: tuple[str, ...] = ("apipie",),
    record_faults: Mapping[str, Sequence[int]] | None = None,
    folder: str = "examples",
) -> Iterator[str]:
    """Run the block live, replayed from the example's cassette, or recording it; yields the mode.

    `record_faults` only matters while recording against the replica: statuses each gateway answers first
    (e.g. `{"apipie": [503, 503]}`), so that a cassette can show what happens when a gateway is down.
    """
    current = mode(gateways)
    if current == "live":
        keys = " and ".join(KEY_ENV[g] for g in gateways if os.environ.get(KEY_ENV[g]))
        print(f"{keys} set: calling the gateway live.", file=sys.stderr)
        yield current
        return

    import vcr  # the `examples` extra (vcrpy); only needed when not live

    if current == "replay":
        target = "live" if os.environ.get("HERMES_CASSETTES", "").strip().lower() == "live" else "replica"
        path = cassette_path(name, target, folder)
        missing = " and ".join(KEY_ENV[g] for g in gateways if not os.environ.get(KEY_ENV[g]))
        source = "the in-repo replica" if target == "replica" else "the real gateways"
        print(
            f"No {missing} set: replaying the recorded cassette {path.relative_to(REPO_ROOT)} "
            f"(recorded against {source})",
            file=sys.stderr,
        )
        if not path.exists():
            raise SystemExit(f"cassette {path} not found: set {missing} to run live, or record it")
        player = vcr.VCR(match_on=["method", "path", "json_body"], decode_compressed_response=True)
        player.register_matcher("json_body", _json_body)
        saved = {g: os.environ.get(KEY_ENV[g]) for g in gateways}
        for gateway in gateways:
            os.environ.setdefault(KEY_ENV[gateway], REPLAY_KEY)
        try:
            with player.use_cassette(str(path), record_mode="none", allow_playback_repeats=False):
                yield current
        finally:
            for gateway, value in saved.items():
                if value is None:
                    os.environ.pop(KEY_ENV[gateway], None)
        return

    # Recording: only from a checkout, driven by tests.record_cassettes (which sets the env).
    sys.path.insert(0, str(REPO_ROOT))
    from tests import cassette_support

    target = current.removeprefix("record-")
    path = cassette_path(name, target, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    print(f"Recording {path.relative_to(REPO_ROOT)} ({target})", file=sys.stderr)
    config = cassette_support.vcr_config()
    config["match_on"] = ["method", "path", "json_body"]
    repeats = config.pop("allow_playback_repeats")  # a use_cassette option, not a VCR one
    recorder = vcr.VCR(**config)
    recorder.register_matcher("json_body", _json_body)
    with ExitStack() as stack:
        if record_faults and target == "replica":
            stack.enter_context(_replica_with_faults(record_faults))
        stack.enter_context(
            recorder.use_cassette(str(path), record_mode="all", allow_playback_repeats=repeats)
        )
        yield current


def start_replaying(name: str, *, gateways: tuple[str, ...] = ("apipie",)) -> ExitStack:
    """`replaying(name, folder="notebooks")`, entered for a notebook: `.close()` it in the last cell."""
    stack = ExitStack()
    stack.enter_context(replaying(name, gateways=gateways, folder="notebooks"))
    return stack
