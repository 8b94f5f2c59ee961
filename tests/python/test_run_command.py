"""The README run command (scripts/run.sh) end to end, and the example-request formatting it prints with.

The end-to-end tests run the real command: synthesis with both functions bundled for this machine, the training
pipeline through the local runner, the deployment through the real EndpointDeployer to a local endpoint serving
inference.py, the real SegmentProxy behind the local API Gateway. They check the answers, that every process the run
started is gone afterwards and that its port is free again.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import List

import pytest

import example_requests as examples

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "scripts" / "run.sh"
CUSTOMERS = ROOT / "scripts" / "sample_data" / "customers.py"
PYTHON = os.environ.get("SEGMENTATION_PYTHON", "/usr/bin/python3")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """True when a new server could listen on the port (connections the run closed may linger in TIME_WAIT, which
    SO_REUSEADDR, as every server sets it, ignores; a socket still listening does not)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def processes_mentioning(text: str) -> List[str]:
    """Command lines of live processes whose command line or working directory mentions text."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if text in command or text in cwd:
            found.append("%s: %s" % (entry.name, command))
    return found


def assert_nothing_left(work: Path, port: int) -> None:
    deadline = time.monotonic() + 10
    while (processes_mentioning(str(work)) or not port_is_free(port)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_mentioning(str(work)) == []
    assert port_is_free(port), "port %d is still bound after the run" % port


def csv_with_bad_rows(path: Path) -> Path:
    subprocess.run([PYTHON, str(CUSTOMERS), "--rows", "1200", "--seed", "11", "--segments", "4", "--out", str(path)],
                   check=True, capture_output=True)
    with path.open("a") as out:
        out.write("BAD1,,Female,50000,10\n")        # missing Age
        out.write("BAD2,40,Male,lots,10\n")         # non-numeric Income
        out.write("BAD3,140,Female,50000,10\n")     # Age out of range
        out.write("BAD4,40,Male,-100,10\n")         # negative Income
    return path


def run_command(*args: str, timeout: int = 1500) -> subprocess.CompletedProcess:
    return subprocess.run([str(RUN), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


# ----- the formatting the run command prints with (pure functions)

def test_format_table_NumbersAndText_AlignsNumbersRightAndTextLeft() -> None:
    table = examples.format_table(["age", "label"], [[7, "a"], [123, "bbb"]])

    assert table.splitlines() == ["age  label", "---  -----", "  7  a", "123  bbb"]


def test_format_table_LargeFloat_PrintsThousandsSeparators() -> None:
    assert examples.format_table(["income"], [[72000.0]]).splitlines()[2] == "72,000"


def test_example_customers_Profiles_OneCustomerPerCentroidThenTheFixedOnes() -> None:
    profiles = {"segments": [{"id": 0, "centroid": {"Age": 33.6, "Income": 72049.0, "Purchases": 11.5}},
                             {"id": 1, "centroid": {"Age": 61.2, "Income": 40960.0, "Purchases": 3.4}}]}

    customers = examples.example_customers(profiles)

    assert customers[:2] == [{"age": 34, "income": 72000, "purchases": 12}, {"age": 61, "income": 41000, "purchases": 3}]
    assert customers[2:] == examples.FIXED_CUSTOMERS


def test_example_customers_SpendingPowerModel_SkipsCentroidsWithoutTheRawAttributes() -> None:
    profiles = {"segments": [{"id": 0, "centroid": {"Age": 30.0, "SpendingPower": 900.0}}]}

    assert examples.example_customers(profiles) == examples.FIXED_CUSTOMERS


def test_prediction_rows_AnswerCountDiffers_RaisesNamingBothCounts() -> None:
    with pytest.raises(ValueError, match="answered 1 predictions for 2 customers"):
        examples.prediction_rows(examples.FIXED_CUSTOMERS, {"predictions": [{"closest_cluster": 1, "distance_to_cluster": 1.0}]})


def test_prediction_rows_NoPredictionsMember_Raises() -> None:
    with pytest.raises(ValueError, match="answered -1 predictions"):
        examples.prediction_rows(examples.FIXED_CUSTOMERS, {"error": "x"})


# ----- bad arguments

@pytest.mark.parametrize("args, message", [
    (["--port", "http"], "run.sh: --port 'http' must be a number from 0 to 65535."),
    (["--port", "70000"], "run.sh: --port '70000' must be a number from 0 to 65535."),
    (["--data", "/nonexistent/customers.csv"], "run.sh: --data '/nonexistent/customers.csv' is not a file."),
    (["--bogus"], "run.sh: unknown argument '--bogus'."),
    (["--port"], "run.sh: --port needs a value."),
])
def test_run_BadArgument_ExitsTwoNamingIt(args: List[str], message: str) -> None:
    result = run_command(*args, timeout=60)

    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == message


# ----- end to end

def test_run_CsvWithBadRows_ReportsThemServesAnswersAndLeavesNothingRunning(tmp_path: Path) -> None:
    data = csv_with_bad_rows(tmp_path / "customers.csv")
    work = tmp_path / "work"
    port = free_port()

    result = run_command("--data", str(data), "--port", str(port), "--work-dir", str(work))

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    out = result.stdout
    assert "validation: rows read 1204, kept 1200, dropped 4" in out
    assert "dropped (missing_value): customers.csv line 1202 column Age value ''" in out
    assert "POST /segment (endpoint customer-segmentation-endpoint, model version 1)" in out
    assert 'POST /segment with income -5 answered 400: {"error": "-5 must be >= 0", "field": "customers[0].income"}' in out
    assert "Segment explorer: http://127.0.0.1:%d/prod/" % port in out
    for phase in ("setup", "synthesize", "pipeline, deployment and API", "example requests", "shutdown"):
        assert phase in out.split("Phase timings:")[1]
    assert_nothing_left(work, port)


def test_run_Serve_AnswersUntilInterruptedThenStopsEverything(tmp_path: Path) -> None:
    work = tmp_path / "work"
    port = free_port()
    process = subprocess.Popen([str(RUN), "--serve", "--port", str(port), "--work-dir", str(work)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: List[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Serving until Ctrl+C (runner log"):
                break
        assert any(line.startswith("Serving until Ctrl+C (runner log") for line in lines), "".join(lines[-80:])
        key = next(line.split("x-api-key: ")[1].rstrip(")\n") for line in lines if "(x-api-key: " in line)
        base = "http://127.0.0.1:%d/prod/" % port

        with urllib.request.urlopen(base, timeout=30) as page:
            html = page.read().decode()
        request = urllib.request.Request(base + "segment", method="POST", headers={
            "Content-Type": "application/json", "x-api-key": key},
            data=json.dumps({"age": 40, "income": 60000, "purchases": 10}).encode())
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read().decode())

        assert "<html" in html.lower()
        assert len(answer["predictions"]) == 1 and answer["model_version"] == "1"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130
    assert_nothing_left(work, port)
