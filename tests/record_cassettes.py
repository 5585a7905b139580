"""Record cassettes: `python -m tests.record_cassettes [--target replica|live] [pytest args...]`.

replica (default): starts tests/replica on loopback ports, points APIPIE_BASE_URL / AIMLAPI_BASE_URL /
OPENAI_BASE_URL at it with dummy keys, sets HERMES_RECORD=replica and runs pytest with
`--record-mode=rewrite`: every test marked `@pytest.mark.vcr` rewrites its cassette under cassettes/replica/.

live: needs APIPIE_API_KEY and/or AIMLAPI_API_KEY (the gateways whose keys are missing are refused unless
`--allow-missing-keys`); sets HERMES_RECORD=live, lets sockets reach the gateways, and writes cassettes/live/.

Extra arguments go to pytest (default: the whole `tests` directory); e.g.
`python -m tests.record_cassettes tests/langchain -k apipie`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from tests.cassette_support import KEY_ENV, RECORDING_KEYS, REPO_ROOT
from tests.replica import Replica


def _pytest_command(pytest_args: list[str], extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", "--record-mode=rewrite", *extra, *(pytest_args or ["tests"])]


def record_replica(pytest_args: list[str]) -> int:
    with Replica() as replica:
        env = dict(os.environ)
        env.update(replica.env())
        env.update({KEY_ENV[g]: key for g, key in RECORDING_KEYS.items()})
        env["HERMES_RECORD"] = "replica"
        for name, url in replica.env().items():
            print(f"replica: {name}={url}", file=sys.stderr)
        return subprocess.call(_pytest_command(pytest_args, []), env=env, cwd=REPO_ROOT)


def record_live(pytest_args: list[str], allow_missing: bool) -> int:
    missing = [KEY_ENV[g] for g in ("apipie", "aimlapi") if not os.environ.get(KEY_ENV[g])]
    if missing and (not allow_missing or len(missing) == 2):
        print(f"recording live needs {' and '.join(missing)} in the environment", file=sys.stderr)
        return 2
    env = dict(os.environ)
    env["HERMES_RECORD"] = "live"
    return subprocess.call(_pytest_command(pytest_args, ["--force-enable-socket"]), env=env, cwd=REPO_ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.record_cassettes", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--target", choices=("replica", "live"), default="replica")
    parser.add_argument(
        "--allow-missing-keys", action="store_true", help="live: record with one gateway's key"
    )
    args, pytest_args = parser.parse_known_args(argv)
    if args.target == "live":
        return record_live(pytest_args, args.allow_missing_keys)
    return record_replica(pytest_args)


if __name__ == "__main__":
    raise SystemExit(main())
