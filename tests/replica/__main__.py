"""Run the replica servers in their own process: `python -m tests.replica [--port-base N] [--dialect D ...]`.

Prints one JSON line `{"apipie": "http://127.0.0.1:P/v1", ...}` on stdout once listening, then serves until
interrupted. Benchmarks use this so that the server does not share the client's interpreter (and GIL).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from ._models import DIALECTS
from ._server import Replica, ReplicaServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.replica", description=__doc__.split("\n")[0])
    parser.add_argument("--port-base", type=int, default=0, help="apipie on N, aimlapi on N+1, openai on N+2")
    parser.add_argument("--dialect", action="append", choices=DIALECTS, help="serve only these (repeatable)")
    args = parser.parse_args(argv)
    dialects = tuple(args.dialect or DIALECTS)
    replica = Replica(())
    for offset, dialect in enumerate(DIALECTS):
        if dialect in dialects:
            port = args.port_base + offset if args.port_base else 0
            replica.servers[dialect] = ReplicaServer(dialect, port=port)
    replica.start()
    print(json.dumps({d: s.base_url for d, s in replica.servers.items()}), flush=True)
    done = threading.Event()

    def stop(*_: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    done.wait()
    replica.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
