"""What the Lambda benchmarks share (proxy_overhead.py, recommendations_api_benchmark.py): functions run as Lambda runs
them, behind a loopback Lambda Runtime API, and measured the same way.

  WarmRuntimeApi / warm()   one long-lived process per function, events handed out one at a time, the functions served
                            alternately; per request the "function" time (the Runtime API handing the event out -> the
                            function's response arriving: what Lambda bills and the caller waits for) and the round
                            trip, plus every JSON line the function printed ("Request served." is one per request).
  cold()                    process spawn -> first response posted (lambda_cold_start.py), the functions alternating
                            run by run, after two untimed runs each so all start from a warm page cache.
  python_package_size()     a Python handler plus what its imports need as a Lambda layer, measured from Debian's
                            installed packages; our_package_size() a native bootstrap zipped as Lambda receives it.
  publish_native(), start_server(), conditions()   the native AOT publish, loopback servers, the host's CPU and load.

Runs under Debian's /usr/bin/python3 with the standard library only (numpy, pandas, boto3 stay with the callers).
"""
from __future__ import annotations

import json
import math
import os
import queue
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import lambda_cold_start

ROOT = Path(__file__).resolve().parents[2]
# What the managed Python runtime's bootstrap does, for any handler: `<loop> module.function` with LAMBDA_TASK_ROOT.
PYTHON_RUNTIME_LOOP = Path(__file__).resolve().parent / "python_scaler_lambda" / "runtime_loop.py"

SERVED = "Request served."
WARM_UPS = 30
# Shared libraries AL2023 (provided.al2023 / python3.x runtimes) already has; any other library the layer's extension
# modules link against must ship in the layer, as the PyPI wheels do (numpy.libs, scipy.libs).
SYSTEM_LIBRARIES = ("linux-vdso", "libc.so", "libm.so", "libpthread", "libdl.so", "librt.so", "ld-linux", "libgcc_s",
                    "libstdc++", "libz.so", "libutil", "libexpat")
DIST_PACKAGES = "/usr/lib/python3/dist-packages/"


# ---------------------------------------------------------------------------------------------------------------------
# A Runtime API that serves many events and times each one
# ---------------------------------------------------------------------------------------------------------------------

@dataclass
class Invocation:
    event: bytes
    request_id: str
    handed_out: float = 0.0
    answered: float = 0.0
    answer: bytes = b""
    is_error: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class WarmRuntimeApi:
    """Events are handed out in order; each records when it left and when its answer arrived."""

    def __init__(self) -> None:
        self.pending: "queue.Queue[Invocation]" = queue.Queue()
        self.by_id: Dict[str, Invocation] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return "127.0.0.1:%d" % self.server.server_address[1]

    def invoke(self, event: bytes, timeout: float = 60) -> Invocation:
        invocation = Invocation(event, str(uuid.uuid4()))
        self.by_id[invocation.request_id] = invocation
        self.pending.put(invocation)
        if not invocation.done.wait(timeout):
            raise RuntimeError("no answer within %d s" % timeout)
        if invocation.is_error:
            raise RuntimeError("the function answered an error: %r" % invocation.answer)
        return invocation

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in separate writes: without TCP_NODELAY, Nagle's algorithm holds the second one
            # until the client's delayed ACK, 40 ms later, on every keep-alive request.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class names it so
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                invocation = api.pending.get()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Lambda-Runtime-Aws-Request-Id", invocation.request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int((time.time() + 300) * 1000)))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 "arn:aws:lambda:us-east-1:123456789012:function:benchmark")
                self.send_header("Content-Length", str(len(invocation.event)))
                self.end_headers()
                invocation.handed_out = time.perf_counter()
                self.wfile.write(invocation.event)
                self.wfile.flush()

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.perf_counter()
                parts = self.path.split("/")
                invocation = api.by_id.get(parts[-2]) if len(parts) >= 2 else None
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if invocation is not None:
                    invocation.answered, invocation.answer = now, body
                    invocation.is_error = parts[-1] == "error"
                    invocation.done.set()

        return Handler


# ---------------------------------------------------------------------------------------------------------------------
# Processes and servers
# ---------------------------------------------------------------------------------------------------------------------

def run(command: List[str], cwd: Path = ROOT, env: Optional[Dict[str, str]] = None) -> str:
    result = subprocess.run(command, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError("%s failed (exit %d):\n%s%s" % (" ".join(command), result.returncode, result.stdout,
                                                         result.stderr))
    return result.stdout


def publish_native(project: str, work: Path) -> Path:
    """`dotnet publish <project> -r linux-x64 -p:PublishAot=true` as CDK bundling and the loopback tests do, under
    work/; returns the bootstrap."""
    output = work / "aot"
    run(["dotnet", "publish", project, "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", str(output),
         "--artifacts-path", str(work / "artifacts"), "--nologo", "-v", "quiet"])
    return output / "bootstrap"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def node_entry(relative: str) -> Path:
    """A script of the repository's node_modules (s3rver, dynalite); missing means setup has not run."""
    entry = ROOT / "node_modules" / relative
    if not entry.is_file():
        raise RuntimeError("%s is missing: run scripts/setup.sh (npm ci)" % entry)
    return entry


def start_server(command: List[str], port: int, timeout: float = 10) -> subprocess.Popen:
    """Starts a loopback server and returns once it accepts connections on port."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise RuntimeError("%s did not listen on port %d" % (" ".join(command), port))
            time.sleep(0.1)


def conditions() -> str:
    """The host's CPUs and load average, to read the figures by (the machine may be shared)."""
    return "%d CPUs (%s), load average %s (1, 5, 15 min)" % (
        os.cpu_count() or 0, os.uname().machine, ", ".join("%.2f" % load for load in os.getloadavg()))


def command_line() -> str:
    return shlex.join([sys.executable] + sys.argv)


# ---------------------------------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------------------------------

@dataclass
class Function:
    name: str
    command: List[str]
    env: Dict[str, str]


@dataclass
class WarmRun:
    """One payload's measured requests of one function (warm-ups left out)."""
    function_ms: List[float]
    round_trip_ms: List[float]
    answers: List[bytes]
    logs: List[Dict[str, object]]  # every JSON line printed while serving them, in order


def log_documents(lines: Iterable[str]) -> List[Dict[str, object]]:
    """The JSON object lines of a function's output; anything else is skipped."""
    documents = []
    for line in lines:
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict):
            documents.append(document)
    return documents


def served(documents: Iterable[Dict[str, object]], message: str = SERVED) -> List[Dict[str, object]]:
    """The lines with this message (by default the one "Request served." line per request both kinds of function
    print)."""
    return [document for document in documents if document.get("message") == message]


def values_of(documents: List[Dict[str, object]], name: str) -> List[float]:
    return [float(document[name]) for document in documents if isinstance(document.get(name), (int, float))]


def median_of(documents: List[Dict[str, object]], name: str) -> float:
    values = values_of(documents, name)
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (fraction 0.99 for p99): a value that was measured, never an interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered), max(1, math.ceil(fraction * len(ordered)))) - 1]


def expect_ok(invocation: Invocation) -> Invocation:
    answer = json.loads(invocation.answer)
    if answer.get("statusCode") != 200:
        raise RuntimeError("the function answered %s" % invocation.answer[:300])
    return invocation


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident memory (VmHWM), what Lambda's "Max Memory Used" reports."""
    for line in Path("/proc/%d/status" % pid).read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


class _Output:
    """A function's stdout, read line by line on a thread; counts the "Request served." lines as they arrive."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.documents: List[Dict[str, object]] = []
        self.served = 0
        self.changed = threading.Condition()
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            for document in log_documents([line]):
                with self.changed:
                    self.documents.append(document)
                    self.served += document.get("message") == SERVED
                    self.changed.notify_all()

    def after_served(self, count: int, timeout: float = 10) -> List[Dict[str, object]]:
        """Waits for the count-th "Request served." line; the documents printed after it so far."""
        with self.changed:
            if not self.changed.wait_for(lambda: self.served >= count, timeout):
                raise RuntimeError("only %d of %d requests logged %r" % (self.served, count, SERVED))
            seen = 0
            for index, document in enumerate(self.documents):
                if seen == count:
                    return self.documents[index:]
                seen += document.get("message") == SERVED
            return []


def warm(functions: List[Function], events: Dict[str, Sequence[bytes]], requests: int,
         check: Callable[[Invocation], Invocation] = expect_ok) -> Tuple[Dict[str, Dict[str, WarmRun]], Dict[str, int]]:
    """Every function started once; for each payload, WARM_UPS requests each, then `requests` rounds in which the
    functions are served alternately, one request at a time, round i handing each the same event events[i % len].
    Returns the runs by function name and payload label, and each function's peak resident memory."""
    apis = [WarmRuntimeApi() for _ in functions]
    processes: List[subprocess.Popen] = []
    outputs: List[_Output] = []
    results: Dict[str, Dict[str, WarmRun]] = {function.name: {} for function in functions}
    memory: Dict[str, int] = {}
    try:
        for function, api in zip(functions, apis):
            process = subprocess.Popen(function.command, env=dict(function.env, AWS_LAMBDA_RUNTIME_API=api.address),
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            processes.append(process)
            outputs.append(_Output(process))
        logged = 0
        for label, payloads in events.items():
            for api in apis:
                for index in range(WARM_UPS):
                    check(api.invoke(payloads[index % len(payloads)]))
            samples: List[List[Tuple[float, float, bytes]]] = [[] for _ in functions]
            for index in range(requests):
                for api, sample in zip(apis, samples):
                    started = time.perf_counter()
                    invocation = check(api.invoke(payloads[index % len(payloads)]))
                    sample.append(((invocation.answered - invocation.handed_out) * 1000,
                                   (time.perf_counter() - started) * 1000, invocation.answer))
            for function, output, sample in zip(functions, outputs, samples):
                output.after_served(logged + WARM_UPS + requests)
                measured = output.after_served(logged + WARM_UPS)
                results[function.name][label] = WarmRun([s[0] for s in sample], [s[1] for s in sample],
                                                        [s[2] for s in sample], measured)
            logged += WARM_UPS + requests
        memory = {function.name: peak_rss_bytes(process.pid) for function, process in zip(functions, processes)}
    finally:
        for process in processes:
            process.kill()
            process.wait()
        for api in apis:
            api.close()
    return results, memory


def cold(functions: List[Function], payload: bytes, runs: int,
         check: Callable[[bytes], bool] = lambda answer: json.loads(answer).get("statusCode") == 200
         ) -> Dict[str, Dict[str, float]]:
    """Process spawn -> first response posted, median of `runs` per function, alternating run by run; two untimed
    runs each first, so both start from a warm page cache."""
    apis = [lambda_cold_start.RuntimeApi(payload) for _ in functions]
    servers = [(api, lambda_cold_start.serve(api)) for api in apis]
    times: List[List[float]] = [[] for _ in functions]
    try:
        for attempt in range(runs + 2):
            for index, (function, (api, server)) in enumerate(zip(functions, servers)):
                env = dict(function.env, AWS_LAMBDA_RUNTIME_API="127.0.0.1:%d" % server.server_address[1])
                elapsed = lambda_cold_start.run(function.command, env, api, 60)
                if not check(api.answer or b"{}"):
                    raise RuntimeError("%s answered %r" % (function.name, api.answer))
                if attempt >= 2:
                    times[index].append(elapsed)
    finally:
        for _, server in servers:
            server.shutdown()
            server.server_close()
    return {function.name: {"median_ms": statistics.median(samples), "min_ms": min(samples), "max_ms": max(samples),
                            "runs": len(samples)} for function, samples in zip(functions, times)}


# ---------------------------------------------------------------------------------------------------------------------
# Package size
# ---------------------------------------------------------------------------------------------------------------------

def zipped_size(files: Iterable[Tuple[Path, str]]) -> int:
    """Bytes of a deflate zip (level 6, as `zip` makes one) of (path, name-in-zip) pairs."""
    with tempfile.TemporaryFile() as buffer:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path, name in files:
                archive.write(path, name)
        return buffer.tell()


def package_files(package: str) -> List[Path]:
    listed = run(["dpkg-query", "-L", package]).splitlines()
    return [Path(line) for line in listed if line.startswith(DIST_PACKAGES) and Path(line).is_file()
            and not Path(line).is_symlink()]


def linked_libraries(files: Iterable[Path]) -> List[Path]:
    """Shared libraries the extension modules load that AL2023 lacks (resolved by ldd, symlinks followed)."""
    found = set()
    for path in files:
        if ".so" not in path.name:
            continue
        for line in run(["ldd", str(path)]).splitlines():
            parts = line.split("=>")
            target = parts[1].split("(")[0].strip() if len(parts) == 2 else ""
            if target and not any(name in target for name in SYSTEM_LIBRARIES):
                found.add(Path(target).resolve())
    return sorted(found)


def python_package_size(packages: Sequence[str], handler: Sequence[Path]) -> Dict[str, object]:
    """Installed bytes and zipped bytes of the handler's files + the Debian packages' files under dist-packages
    (dpkg-query -L, regular files, no __pycache__ since dpkg lists none), + the native libraries those link that AL2023
    lacks."""
    files = [path for package in packages for path in package_files(package)]
    libraries = linked_libraries(files)
    everything = [(path, "python/" + str(path.relative_to(DIST_PACKAGES))) for path in files]
    everything += [(path, "lib/" + path.name) for path in libraries] + [(path, path.name) for path in handler]
    return {
        "packages": list(packages),
        "python_files": len(files),
        "python_bytes": sum(path.stat().st_size for path in files),
        "native_libraries": [str(path) for path in libraries],
        "native_bytes": sum(path.stat().st_size for path in libraries),
        "handler_bytes": sum(path.stat().st_size for path in handler),
        "installed_bytes": sum(path.stat().st_size for path, _ in everything),
        "zip_bytes": zipped_size(everything),
    }


def our_package_size(bootstrap: Path) -> Dict[str, object]:
    return {"bootstrap_bytes": bootstrap.stat().st_size, "zip_bytes": zipped_size([(bootstrap, "bootstrap")])}


def mb(value: float) -> str:
    return "%.2f MB" % (value / 1e6)


def python_package_line(size: Dict[str, object]) -> str:
    return "%s zipped, %s installed (%s python files of %s, %s native libraries: %s)" % (
        mb(size["zip_bytes"]), mb(size["installed_bytes"]), mb(size["python_bytes"]), ", ".join(size["packages"]),
        mb(size["native_bytes"]), ", ".join(Path(p).name for p in size["native_libraries"]))
