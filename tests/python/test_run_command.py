"""The README run command (scripts/run.sh) end to end, and the example-request formatting it prints with.

The end-to-end tests run the real command: synthesis with every function bundled for this machine, both pipelines
through the local runner in one local environment (the training pipeline deploying through the real EndpointDeployer
to a local endpoint serving inference.py, the recommendations pipeline publishing to dynalite), the real SegmentProxy
and RecommendationsApi behind the local API Gateway. They check the answers, that every process the run started is
gone afterwards and that its port is free again.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

import example_recommendations as recommendations
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


def started_servers(work: Path) -> Dict[str, int]:
    """The loopback servers the runner started for the run (s3rver, dynalite) and their ports, from its log."""
    log = (work / "runner.log").read_text()
    return {name: int(port) for port, name in re.findall(r"endpoint http://127\.0\.0\.1:(\d+)/ \((\w+) started for this run\)", log)}


def assert_nothing_left(work: Path, port: int) -> None:
    """No process of the run is left (s3rver and dynalite run from the repository, so their ports are checked too)."""
    servers = started_servers(work)
    assert sorted(servers) == ["dynalite", "s3rver"], servers
    ports = [port] + list(servers.values())
    deadline = time.monotonic() + 10
    while (processes_mentioning(str(work)) or not all(port_is_free(p) for p in ports)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_mentioning(str(work)) == []
    assert port_is_free(port), "port %d is still bound after the run" % port
    for name, server_port in servers.items():
        assert port_is_free(server_port), "%s's port %d is still bound after the run" % (name, server_port)


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


def test_recommendation_rows_Answer_OneRowPerRecommendationWithBlanksForColdStartNulls() -> None:
    answer = {"recommendations": [
        {"rank": 1, "product_id": "P1", "score": 0.5, "confidence": 0.4, "lift": 2.0, "trigger_product": "P9",
         "recommended_qty": 3, "reason": "P9 -> P1"},
        {"rank": 2, "product_id": "P2", "score": 0.2, "confidence": None, "lift": None, "trigger_product": None,
         "recommended_qty": 1, "reason": "Popular in segment West_HVAC"}]}

    rows = recommendations.recommendation_rows(answer)

    assert rows == [[1, "P1", 0.5, 0.4, 2.0, "P9", 3, "P9 -> P1"], [2, "P2", 0.2, "", "", "", 1, "Popular in segment West_HVAC"]]


def test_recommendation_rows_RanksOutOfOrder_RaisesNamingThem() -> None:
    answer = {"recommendations": [{"rank": 2, "product_id": "P1", "score": 0.5, "recommended_qty": 1, "reason": "r"}]}

    with pytest.raises(ValueError, match=r"ranks are not 1..1 in order: \[2\]"):
        recommendations.recommendation_rows(answer)


def test_recommendation_rows_NoList_RaisesWithTheAnswer() -> None:
    with pytest.raises(ValueError, match="the answer has no recommendations list"):
        recommendations.recommendation_rows({"error": "x"})


def test_summary_line_WithAndWithoutFeedback_SaysCoverageAndAcceptance() -> None:
    summary = {"run_id": "r1", "published_at": "2026-01-31T00:00:00Z",
               "coverage": {"customers": 4, "customers_covered": 3, "coverage": 0.75, "recommendations": 12}}

    without = recommendations.summary_line(dict(summary, feedback_summary=None))
    with_feedback = recommendations.summary_line(dict(summary, feedback_summary={"overall": {"acceptance_rate": 0.5}}))

    assert without == "run r1 published 2026-01-31T00:00:00Z: 3 of 4 customers covered (75.0%), 12 recommendations; no feedback summary"
    assert with_feedback.endswith("; feedback acceptance rate 50.0%")


def test_read_customers_Csv_SkipsRowsWithoutAnId(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,region,end_use\nC1,West,HVAC\n,East,Plumbing\n")

    assert recommendations.read_customers(path) == [{"customer_id": "C1", "region": "West", "end_use": "HVAC"}]


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
    assert "GET /recommendations/summary: run " in out and "1000 of 1000 customers covered" in out
    assert "GET /recommendations/NEW-CUSTOMER-0001 without region and end_use answered 404" in out
    assert "answered 201 (stored True), the same again 200 (stored False)" in out
    for page in ("Account manager page: http://127.0.0.1:%d/prod/account-manager", "Sales leader page: http://127.0.0.1:%d/prod/sales-leader",
                 "OpenAPI document: http://127.0.0.1:%d/prod/openapi.json"):
        assert page % port in out
    timings = out.split("Phase timings:")[1]
    for phase in ("setup", "synthesize", "recommendations data", "pipelines, deployment and API", "training pipeline",
                  "recommendations pipeline", "example requests", "recommendation requests", "shutdown"):
        assert phase in timings
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
        check_recommendations_and_feedback(base, key, work / "b2b" / "customers" / "customers.csv")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130
    assert_nothing_left(work, port)


def request(url: str, key: Optional[str] = None, body: Optional[dict] = None,
            headers: Optional[Dict[str, str]] = None) -> Tuple[int, str, str]:
    """Status, content type and body of one request through the served API; HTTP errors are answers too."""
    data = None if body is None else json.dumps(body).encode()
    sent = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if body is not None:
        sent.add_header("Content-Type", "application/json")
    if key:
        sent.add_header("x-api-key", key)
    for name, value in (headers or {}).items():
        sent.add_header(name, value)
    try:
        with urllib.request.urlopen(sent, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


def check_recommendations_and_feedback(base: str, key: str, customers_csv: Path) -> None:
    """The recommendation, feedback and page routes as a CRM and a browser use them, against the locally published run."""
    customers = recommendations.read_customers(customers_csv)
    answers = [json.loads(request(base + "recommendations/" + c["customer_id"], key)[2]) for c in customers[:20]]
    answer = next(a for a in answers if a["recommendations"])
    assert answer["cold_start"] is False and answer["run_id"]
    assert [r["rank"] for r in answer["recommendations"]] == list(range(1, len(answer["recommendations"]) + 1))
    assert all(0.0 <= r["score"] <= 1.0 and r["reason"] for r in answer["recommendations"])
    assert request(base + "recommendations/" + answer["customer_id"])[0] == 403  # no key

    rating = {"customer_id": answer["customer_id"], "product_id": answer["recommendations"][0]["product_id"],
              "rating": "low", "reason_code": "Price_Too_High"}
    idempotency = {"Idempotency-Key": "run-command-test-1"}
    first = request(base + "feedback", key, rating, idempotency)
    again = request(base + "feedback", key, rating, idempotency)
    high = {"customer_id": rating["customer_id"], "product_id": rating["product_id"], "rating": "High"}
    reused = request(base + "feedback", key, high, idempotency)
    stored = json.loads(first[2])
    assert first[0] == 201 and stored["stored"] is True and stored["idempotency_key"] == "run-command-test-1"
    assert stored["feedback"]["rating"] == "Low" and stored["feedback"]["reason_code"] == "price_too_high"
    assert again[0] == 200 and json.loads(again[2])["stored"] is False
    assert reused[0] == 409 and json.loads(reused[2])["field"] == "Idempotency-Key"
    never = request(base + "feedback", key, dict(rating, product_id="NOT-RECOMMENDED"))
    assert never[0] == 400 and json.loads(never[2])["field"] == "product_id"

    for page in ("account-manager", "sales-leader"):
        status, content_type, html = request(base + page)
        assert status == 200 and content_type.startswith("text/html") and "<html" in html.lower()
    status, _, document = request(base + "openapi.json")
    openapi = json.loads(document)
    assert status == 200 and openapi["openapi"].startswith("3.0.")
    assert {"/recommendations/{customerId}", "/recommendations/summary", "/feedback", "/segment"} <= set(openapi["paths"])
