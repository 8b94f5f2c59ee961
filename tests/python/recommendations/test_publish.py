"""Publish against dynalite (a DynamoDB-compatible server from npm) on loopback: items, the pointer switch seen by
readers polling while a second run publishes, TTL, retries of unprocessed items, and the manifest."""
from __future__ import annotations

import datetime
import http.server
import json
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import boto3
import pandas as pd
import pytest

import pipeline_io
import publish
import ranking
from step_runner import ROOT

DYNALITE = ROOT / "node_modules" / "dynalite" / "cli.js"
TABLE = "recommendations-test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def dynalite() -> Iterator[str]:
    if not DYNALITE.is_file():
        pytest.fail("dynalite is missing at %s: run scripts/setup.sh (it installs the npm packages)" % DYNALITE)
    port = free_port()
    server = subprocess.Popen(["node", str(DYNALITE), "--host", "127.0.0.1", "--port", str(port),
                               "--createTableMs", "0", "--deleteTableMs", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("dynalite did not start: %s" % server.stdout.read().decode(errors="replace"))
            time.sleep(0.05)
    yield "http://127.0.0.1:%d" % port
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def table(dynalite, monkeypatch) -> Iterator[object]:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynalite)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("dynamodb", endpoint_url=dynalite)
    # The layout the serving table has (the RecommendationsPipeline construct creates it the same way).
    client.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")
    client.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    yield client
    client.delete_table(TableName=TABLE)


def final_csv(folder: Path, run: int, customers: int, per_customer: int = 3) -> Path:
    """A final recommendations CSV as FeedbackCalibration writes it (sorted by customer, rank order)."""
    rows = []
    for c in range(customers):
        for r in range(per_customer):
            fallback = r == per_customer - 1
            rows.append({"customer_id": "C%05d" % c, "recommended_product": "P%d-%d" % (run, r),
                         "cluster_id": "W_P_0", "segment": "W_P", "l2_category": "Valves", "l3_category": "Ball",
                         "trigger_product": "fallback" if fallback else "P0", "support": None if fallback else 0.1,
                         "confidence": None if fallback else 0.5, "lift": None if fallback else 2.5,
                         "weighted_support": None if fallback else 0.08, "score": 0.9 - 0.1 * r - 0.01 * run,
                         "recommended_qty": 2, "reason": "run %d" % run, "rank": r + 1, "feedback_weight": 1.0})
    path = folder / ("run%d.csv" % run)
    pd.DataFrame(rows, columns=ranking.OUTPUT_COLUMNS + ["feedback_weight"]).to_csv(path, index=False)
    return path


def read(client, customer: str) -> Tuple[str, Dict[str, object]]:
    """What a serving reader does: the pointer, then its run's item of the customer."""
    pointer = client.get_item(TableName=TABLE, Key={"pk": {"S": publish.POINTER_KEY}}, ConsistentRead=True)["Item"]
    run_id = pointer["run_id"]["S"]
    item = client.get_item(TableName=TABLE, Key={"pk": {"S": publish.run_key(run_id, customer)}}).get("Item")
    return run_id, item


def test_publish_writesOneItemPerCustomerAndThePointer(table, tmp_path):
    now = datetime.datetime(2026, 2, 1, tzinfo=datetime.timezone.utc)
    record = publish.publish(final_csv(tmp_path, 1, 30), TABLE, "run-1", ttl_days=35, writers=4, now=now)
    assert record["customers"] == 30 and record["recommendations"] == 90 and record["batches"] == 2
    assert record["previous_run_id"] is None
    run_id, item = read(table, "C00007")
    assert run_id == "run-1" and item["run_id"] == {"S": "run-1"} and item["customer_id"] == {"S": "C00007"}
    assert item["expires_at"] == {"N": str(int(now.timestamp()) + 35 * 86400)}
    recommendations = json.loads(item["recommendations"]["S"])
    assert [r["recommended_product"] for r in recommendations] == ["P1-0", "P1-1", "P1-2"]
    assert [r["rank"] for r in recommendations] == [1, 2, 3]
    assert recommendations[0] == {"rank": 1, "recommended_product": "P1-0", "score": 0.89, "reason": "run 1",
                                  "trigger_product": "P0", "confidence": 0.5, "lift": 2.5, "support": 0.1,
                                  "weighted_support": 0.08, "l2_category": "Valves", "l3_category": "Ball",
                                  "recommended_qty": 2, "cluster_id": "W_P_0", "segment": "W_P",
                                  "feedback_weight": 1.0}
    assert "lift" not in recommendations[2] and recommendations[2]["trigger_product"] == "fallback"
    pointer = table.get_item(TableName=TABLE, Key={"pk": {"S": "pointer"}})["Item"]
    assert "expires_at" not in pointer and pointer["customers"] == {"N": "30"}


def test_publish_readersPollingDuringASecondRun_seeOneRunOrTheOtherNeverAMix(table, tmp_path):
    first, second = final_csv(tmp_path, 1, 400), final_csv(tmp_path, 2, 400)
    publish.publish(first, TABLE, "run-1", ttl_days=35, writers=2)
    expected = {"run-1": ["P1-0", "P1-1", "P1-2"], "run-2": ["P2-0", "P2-1", "P2-2"]}
    seen: Dict[int, List[Tuple[str, List[str]]]] = {i: [] for i in range(3)}
    stop = threading.Event()
    errors: List[BaseException] = []

    def poll(reader_number: int) -> None:
        reader = boto3.client("dynamodb", endpoint_url=table.meta.endpoint_url)
        number = reader_number
        try:
            while not stop.is_set():
                run_id, item = read(reader, "C%05d" % (number % 400))
                seen[reader_number].append((run_id, [r["recommended_product"] for r in
                                                     json.loads(item["recommendations"]["S"])] if item else []))
                number += 37
        except BaseException as error:  # noqa: B902 (reported to the test thread)
            errors.append(error)

    readers = [threading.Thread(target=poll, args=(i,)) for i in seen]
    for reader in readers:
        reader.start()
    time.sleep(0.3)
    record = publish.publish(second, TABLE, "run-2", ttl_days=35, writers=2)
    time.sleep(0.3)
    stop.set()
    for reader in readers:
        reader.join()
    assert not errors, errors
    assert record["previous_run_id"] == "run-1"
    for observations in seen.values():
        runs = [run_id for run_id, _ in observations]
        # Each read is wholly one run's, and the complete list of that run's recommendations.
        assert all(products == expected[run_id] for run_id, products in observations)
        # The reader saw the old run, then the new one, and never went back: the pointer moves once, after every
        # item of the new run is written.
        assert runs[0] == "run-1" and runs[-1] == "run-2", "the readers must overlap the switch"
        switch = runs.index("run-2")
        assert set(runs[:switch]) == {"run-1"} and set(runs[switch:]) == {"run-2"}


def test_publish_customersOfTheNewRunOnly_oldRunItemsStayUntilTtl(table, tmp_path):
    publish.publish(final_csv(tmp_path, 1, 5), TABLE, "run-1", ttl_days=35, writers=1)
    publish.publish(final_csv(tmp_path, 2, 3), TABLE, "run-2", ttl_days=35, writers=1)
    assert read(table, "C00004") == ("run-2", None)  # not in the new run: no recommendations
    old = table.get_item(TableName=TABLE, Key={"pk": {"S": publish.run_key("run-1", "C00004")}})["Item"]
    assert int(old["expires_at"]["N"]) > time.time()


class Flaky:
    """A DynamoDB client double that leaves the first request's items unprocessed."""

    def __init__(self) -> None:
        self.calls: List[int] = []

    def batch_write_item(self, RequestItems):  # noqa: N803 (boto3's name)
        pending = RequestItems[TABLE]
        self.calls.append(len(pending))
        return {"UnprocessedItems": {TABLE: pending[:2]} if len(self.calls) == 1 else {}}


def test_write_batch_unprocessedItems_areRetried():
    client = Flaky()
    assert publish.write_batch(client, TABLE, [{"pk": {"S": str(i)}} for i in range(5)]) == 1
    assert client.calls == [5, 2]


@pytest.mark.parametrize("arguments,message", [
    (["--run-id", "a#b"], "--run-id 'a#b' must be non-empty and without '#'"),
    (["--run-id", "r", "--ttl-days", "0"], "--ttl-days 0 must be from 1 to 3650"),
    (["--run-id", "r", "--manifest-uri", "latest.json"], "--manifest-uri 'latest.json' must be an s3:// URI or empty"),
])
def test_main_badArguments_exit2(tmp_path, arguments, message):
    failure = tmp_path / "failure"
    assert publish.main(["--table-name", TABLE, *arguments, "--failure-file", str(failure)]) == 2
    assert failure.read_text() == "Publish failed: " + message


class CapturePut(http.server.BaseHTTPRequestHandler):
    bodies: Dict[str, bytes] = {}

    def do_PUT(self) -> None:  # noqa: N802 (http.server's name)
        CapturePut.bodies[self.path] = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("ETag", '"1"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_run_writesManifestAfterPublishing(table, tmp_path, monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CapturePut)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:%d" % server.server_address[1])
    final = final_csv(tmp_path, 1, 4)
    try:
        assert publish.main(["--table-name", TABLE, "--run-id", "exec-1", "--final", str(final),
                             "--manifest-uri", "s3://data/recommendations/latest.json",
                             "--final-uri", "s3://data/recommendations/runs/exec-1/final/recommendations.csv",
                             "--failure-file", str(tmp_path / "failure")]) == 0
    finally:
        server.shutdown()
        server.server_close()
    manifest = json.loads(CapturePut.bodies["/data/recommendations/latest.json"])
    assert manifest["run_id"] == "exec-1" and manifest["customers"] == 4 and manifest["table"] == TABLE
    assert manifest["final_recommendations"] == "s3://data/recommendations/runs/exec-1/final/recommendations.csv"
    assert read(table, "C00001")[0] == "exec-1"


def test_run_missingFinalInput_failsNamingIt(tmp_path):
    with pytest.raises(pipeline_io.StepError) as error:
        publish.run(publish.parse_args(["--table-name", TABLE, "--run-id", "r", "--final",
                                        str(tmp_path / "none.csv")]))
    assert str(error.value) == ("%s not found: FeedbackCalibration's final output must be mapped here"
                                % (tmp_path / "none.csv"))


def test_customer_items_customerAcrossChunkBoundaries_isOneItem(tmp_path):
    path = final_csv(tmp_path, 1, 7, per_customer=3)  # 21 rows; chunks of 4 split most customers
    found = list(publish.customer_items(path, "r", 0, chunk_rows=4))
    assert [item["customer_id"]["S"] for item, _ in found] == ["C%05d" % c for c in range(7)]
    assert all(count == 3 == len(json.loads(item["recommendations"]["S"])) for item, count in found)


def test_customer_items_unsortedRows_fail(tmp_path):
    path = final_csv(tmp_path, 1, 3)
    frame = pd.read_csv(path)
    frame.iloc[::-1].to_csv(path, index=False)
    with pytest.raises(pipeline_io.StepError) as error:
        list(publish.customer_items(path, "r", 0, chunk_rows=2))
    assert str(error.value) == "%s is not sorted by customer_id; it must be FeedbackCalibration's output" % path


def test_chain_finalOutput_publishes(table, chain):
    path = chain["feedback_out"] / "final" / "recommendations.csv"
    final = pd.read_csv(path, dtype={"customer_id": str})
    record = publish.publish(path, TABLE, "chain-run", ttl_days=7, writers=4)
    assert record["customers"] == final["customer_id"].nunique()
    assert record["recommendations"] == len(final)
    customer = final["customer_id"].iat[0]
    _, item = read(table, customer)
    assert len(json.loads(item["recommendations"]["S"])) == (final["customer_id"] == customer).sum()
