"""Shared fixtures of the recommendations tests: small generated B2B data, one run of the whole step chain as
SageMaker runs it (see step_runner), model.tar.gz between the steps, and dynalite (a DynamoDB-compatible server from
npm) on loopback."""
from __future__ import annotations

import json
import socket
import subprocess
import time
from typing import Callable, Dict, Iterator, List

import boto3
import pandas as pd
import pytest
import threadpoolctl

from sample_data import b2b
from step_runner import ROOT, ok, pack_model, processing, training

DYNALITE = ROOT / "node_modules" / "dynalite" / "cli.js"

SMALL = {"invoices": 3000, "customers": 240, "products": 80, "seed": 7, "regions": 2, "end_uses": 2,
         "bad_rows": 2, "feedback_rows": 150}


@pytest.fixture(scope="session")
def small_data(tmp_path_factory) -> Dict[str, object]:
    folder = tmp_path_factory.mktemp("b2b")
    data = b2b.generate(**SMALL)
    data.write(folder)
    return {"data": data, "dir": folder, "truth": data.truth}


@pytest.fixture(scope="session")
def chain(small_data, tmp_path_factory) -> Dict[str, object]:
    """Every step once, with the specification's default parameters, as separate processes."""
    work = tmp_path_factory.mktemp("chain")
    data_dir = small_data["dir"]
    results = {}
    results["basket"] = ok(processing(work, "basket", "market_basket.py", {
        "customers": data_dir / "customers", "products": data_dir / "products", "invoices": data_dir / "invoices"},
        ["--min-order-count", "1", "--recency-cutoff-days", "730"]))
    basket_out = work / "basket" / "opt" / "ml" / "processing" / "output"
    results["train"] = ok(training(work, basket_out / "basket", {
        "max-k": "8", "min-cluster-customers": "6", "elbow-threshold": "10.0",
        "feature-groups": "l2_qty,brand,functionality,rfm", "random-state": "42", "n-init": "15"}))
    model_dir = work / "train" / "opt" / "ml" / "model"
    archive = pack_model(model_dir, work / "artifacts" / "model.tar.gz")
    results["associations"] = ok(processing(work, "associations", "associations.py", {
        "model": archive, "invoices": basket_out / "invoices", "reference": basket_out / "reference"}, []))
    associations_out = work / "associations" / "opt" / "ml" / "processing" / "output" / "associations"
    results["ranking"] = ok(processing(work, "ranking", "ranking.py", {
        "basket": basket_out / "basket", "model": archive, "associations": associations_out}, []))
    ranking_out = work / "ranking" / "opt" / "ml" / "processing" / "output" / "recommendations"
    results["feedback"] = ok(processing(work, "feedback", "feedback_calibration.py", {
        "recommendations": ranking_out, "reference": basket_out / "reference"},
        ["--feedback-uri", str(data_dir / "feedback")]))
    feedback_out = work / "feedback" / "opt" / "ml" / "processing" / "output"
    ids = {"customer_id": str, "product_id": str, "recommended_product": str, "trigger_product": str,
           "product_a": str, "product_b": str}
    return {
        "work": work, "results": results, "model_dir": model_dir, "archive": archive,
        "basket_out": basket_out, "associations_out": associations_out, "ranking_out": ranking_out,
        "feedback_out": feedback_out,
        "basket": pd.read_csv(basket_out / "basket" / "market_basket.csv", dtype=ids),
        "basket_report": json.loads((basket_out / "reference" / "basket_report.json").read_text()),
        "clusters": pd.read_csv(model_dir / "customer_clusters.csv", dtype=ids),
        "registry": json.loads((model_dir / "model_registry.json").read_text()),
        "rules": pd.read_csv(associations_out / "associations.csv", dtype=ids),
        "associations_report": json.loads((associations_out / "associations_report.json").read_text()),
        "recommendations": pd.read_csv(ranking_out / "recommendations.csv", dtype=ids),
        "ranking_report": json.loads((ranking_out / "ranking_report.json").read_text()),
        "final": pd.read_csv(feedback_out / "final" / "recommendations.csv", dtype=ids),
        "summary": json.loads((feedback_out / "feedback" / "feedback_summary.json").read_text()),
    }


@pytest.fixture
def one_thread() -> Iterator[None]:
    """In-process KMeans on tiny data: OpenMP's spinning threads cost more than they give on a busy host."""
    with threadpoolctl.threadpool_limits(1):
        yield


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
def dynamodb(dynalite, monkeypatch):
    """A client of dynalite, with the environment the steps find it through."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynalite)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return boto3.client("dynamodb", endpoint_url=dynalite)


@pytest.fixture
def make_table(dynamodb) -> Iterator[Callable[[str, str], str]]:
    """Creates a table with a string partition key only (as the RecommendationsPipeline construct creates both of its
    tables) and deletes it after the test."""
    created: List[str] = []

    def create(name: str, key: str) -> str:
        dynamodb.create_table(TableName=name, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
        dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
        created.append(name)
        return name

    yield create
    for name in created:
        dynamodb.delete_table(TableName=name)
