"""Cold start of a Lambda custom-runtime process: spawn -> first response through a loopback Runtime API.

Usage: lambda_cold_start.py --runs N --event JSON --env NAME=VALUE ... -- <command...>

Serves the Lambda Runtime API (2018-06-01) on 127.0.0.1, starts the command once per run with
AWS_LAMBDA_RUNTIME_API pointing at it, hands out one event and measures the wall time from just before the
process is spawned to the moment its response (or error) is posted. Prints one line per run and a JSON summary.
Runs under Python 3.9+ with the standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional

PREFIX = "/2018-06-01/runtime/invocation/"


class RuntimeApi:
    """One event per run; records when and what the function answered."""

    def __init__(self, event: bytes) -> None:
        self.event = event
        self.lock = threading.Lock()
        self.request_id = ""
        self.answered = threading.Event()
        self.answered_at = 0.0
        self.answer: Optional[bytes] = None
        self.is_error = False
        self.handed_out = threading.Event()

    def arm(self) -> str:
        with self.lock:
            self.request_id = str(uuid.uuid4())
            self.answered.clear()
            self.handed_out.clear()
            self.answer = None
            return self.request_id


def make_handler(api: RuntimeApi) -> type:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class names it so
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path != PREFIX + "next":
                self.send_error(404)
                return
            if api.handed_out.is_set():
                # The process asks for its second event: hold the call until the run ends and the process is killed.
                api.answered.wait(60)
                time.sleep(60)
                return
            api.handed_out.set()
            deadline = int((time.time() + 300) * 1000)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Lambda-Runtime-Aws-Request-Id", api.request_id)
            self.send_header("Lambda-Runtime-Deadline-Ms", str(deadline))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:benchmark")
            self.send_header("Content-Length", str(len(api.event)))
            self.end_headers()
            self.wfile.write(api.event)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            now = time.perf_counter()
            if self.path in (PREFIX + api.request_id + "/response", PREFIX + api.request_id + "/error", "/2018-06-01/runtime/init/error"):
                api.answered_at = now
                api.answer = body
                api.is_error = not self.path.endswith("/response")
                api.answered.set()
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


def serve(api: RuntimeApi) -> ThreadingHTTPServer:
    """The Runtime API for api on a free loopback port, served on a daemon thread until shutdown()."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(api))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(command: List[str], env: Dict[str, str], api: RuntimeApi, timeout: float) -> float:
    api.arm()
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not api.answered.wait(timeout):
            raise RuntimeError(f"no answer within {timeout} s from {' '.join(command)}")
        if api.is_error:
            raise RuntimeError(f"the function answered an error: {api.answer!r}")
        return (api.answered_at - started) * 1000
    finally:
        process.kill()
        process.wait()


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--event", required=True, help="the event JSON handed to the function")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the function's environment")
    parser.add_argument("--label", default="function")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(argv)

    api = RuntimeApi(args.event.encode("utf-8"))
    server = serve(api)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(dict(item.split("=", 1) for item in args.env))
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{server.server_address[1]}"

    run(args.command, env, api, args.timeout)  # warm the file cache; not counted
    samples = []
    for index in range(args.runs):
        samples.append(run(args.command, env, api, args.timeout))
        print(f"{args.label} run {index + 1}: {samples[-1]:.1f} ms", file=sys.stderr)
    server.shutdown()
    print(json.dumps({
        "label": args.label,
        "runs": len(samples),
        "median_ms": round(statistics.median(samples), 1),
        "min_ms": round(min(samples), 1),
        "max_ms": round(max(samples), 1),
        "answer": json.loads(api.answer or b"null"),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
