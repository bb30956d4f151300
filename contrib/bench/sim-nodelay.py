#!/usr/bin/env python3
"""sim-nodelay.py - runs contrib/cloudsim with TCP_NODELAY on its connections.

    python3 contrib/bench/sim-nodelay.py [cloudsim arguments...]

cloudsim's handler is a BaseHTTPRequestHandler, which leaves Nagle's algorithm on and writes a
reply's headers and body in separate send() calls: the tail of each reply then waits for the
client's delayed ACK, about 40 ms per request on Linux (measured: a 50-task page took 45 ms,
4 ms with TCP_NODELAY). Real API gateways do not add that, so the benchmark turns it off
(socketserver's own switch, StreamRequestHandler.disable_nagle_algorithm) without changing the
simulator. Everything else is cloudsim as is; set BENCH_SIM_NAGLE=1 in bench.sh to run the
simulator unchanged.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cloudsim"))
import cloudsim  # noqa: E402

cloudsim.Handler.disable_nagle_algorithm = True
sys.exit(cloudsim.main(sys.argv[1:]))
