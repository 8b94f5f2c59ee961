"""What every step shares: Python 3.9 compatibility (the container's), the processing path contract, failure
reasons, and model archives."""
from __future__ import annotations

import ast
import json
import tarfile
from pathlib import Path

import pandas as pd
import pytest

import pipeline_io
from step_runner import CODE, PYTHON, ROOT, processing, run

SCRIPTS = sorted(CODE.glob("*.py")) + [ROOT / "scripts" / "sample_data" / "b2b.py",
                                       ROOT / "scripts" / "benchmarks" / "recommendations_pipeline_benchmark.py"]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_parsesAsPython39WithPostponedAnnotations(script):
    # IPRE bug 5: `pd.DataFrame | None` in a signature is evaluated at import on Python 3.9 and raises TypeError.
    # With postponed annotations nothing in an annotation is evaluated, and the grammar must be 3.9's (no match).
    tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script), feature_version=(3, 9))
    future = [node for node in tree.body if isinstance(node, ast.ImportFrom) and node.module == "__future__"]
    assert future and any(alias.name == "annotations" for alias in future[0].names), script.name


def test_processing_root_isDerivedFromWhereTheCodeWasUnpacked(tmp_path):
    script = tmp_path / "step" / "opt" / "ml" / "processing" / "code" / "x.py"
    assert pipeline_io.processing_root(script) == tmp_path / "step" / "opt" / "ml" / "processing"
    assert pipeline_io.processing_root(tmp_path / "elsewhere" / "x.py") == Path("/opt/ml/processing")


def test_subprocess_noUsableCustomers_exits2WithReasonInBothFailureFiles(tmp_path):
    for name, text in (("customers", "customer_id,region,end_use\nC1,,Plumbing\n"),
                       ("products", "product_id,brand,l2_category,l3_category,functionality,in_stock\n"),
                       ("invoices", "invoice_date,customer_id,product_id,quantity\n")):
        (tmp_path / "in" / name).mkdir(parents=True)
        (tmp_path / "in" / name / "x.csv").write_text(text)
    result = processing(tmp_path, "basket", "market_basket.py", {n: tmp_path / "in" / n for n in
                                                                  ("customers", "products", "invoices")}, [])
    assert result.returncode == 2
    channel = tmp_path / "basket" / "opt" / "ml" / "processing" / "input" / "customers"
    expected = ("MarketBasket failed: no usable rows in the customers input (%s): customers: rows read 1, kept 0, "
                "dropped 1 (missing_field=1). Rules: missing_field: " % channel)
    for name in ("failure", "message"):
        assert (tmp_path / "basket" / "opt" / "ml" / "output" / name).read_text().startswith(expected)
    assert result.stderr.startswith("ERROR: " + expected)
    assert last_metric(result.stdout)["metric"] == "PeakMemoryMB"


def test_subprocess_missingModelArchive_exits2(tmp_path):
    (tmp_path / "empty").mkdir()
    result = processing(tmp_path, "associations", "associations.py", {"model": tmp_path / "empty"}, [])
    assert result.returncode == 2
    model = tmp_path / "associations" / "opt" / "ml" / "processing" / "input" / "model"
    assert (tmp_path / "associations" / "opt" / "ml" / "output" / "failure").read_text() == (
        "Associations failed: expected exactly one *.tar.gz in %s, found none" % model)


def test_read_model_files_archiveWithoutClusters_failsNamingTheFile(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model_registry.json").write_text("{}")
    with tarfile.open(tmp_path / "model.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "m" / "model_registry.json", arcname="./model_registry.json")
    assert pipeline_io.read_model_files(tmp_path, ["model_registry.json"]) == {"model_registry.json": b"{}"}
    with pytest.raises(pipeline_io.StepError) as error:
        pipeline_io.read_customer_clusters(tmp_path)
    assert str(error.value) == "model.tar.gz lacks customer_clusters.csv"


def test_chain_everyStepRanAsItsOwnProcessWithMetricLines(chain):
    for step, result in chain["results"].items():
        assert '"metric": ' in result.stdout, step


def last_metric(stdout: str) -> dict:
    return json.loads([line for line in stdout.splitlines() if line.startswith('{"metric": ')][-1])


def test_chain_everyStepEndsWithItsPeakMemory(chain):
    for step, result in chain["results"].items():
        peak = last_metric(result.stdout)
        # A Python process with pandas imported holds tens of MB; a figure in bytes or in GB would be a unit slip.
        assert peak["metric"] == "PeakMemoryMB" and 20 < peak["value"] < 4096, (step, peak)


def test_run_step_unexpectedError_stillReportsPeakMemoryAndPropagates(tmp_path, capsys):
    def fail() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        pipeline_io.run_step("X", fail, [tmp_path / "failure"])
    peak = last_metric(capsys.readouterr().out)
    assert peak["metric"] == "PeakMemoryMB" and peak["step"] == "X" and peak["value"] > 0


def test_pairs_in_matchesPairsNotSingleValues():
    found = pipeline_io.pairs_in(pd.Series(["a", "a", "b"]), pd.Series(["x", "y", "x"]),
                                 pd.Series(["a", "b"]), pd.Series(["y", "z"]))
    assert found.tolist() == [False, True, False]


def test_parameters_cli_runsAsScript():
    result = run([PYTHON, str(CODE / "pipeline_parameters.py"), "--json"], cwd=CODE)
    assert result.returncode == 0 and result.stdout.count('"name"') == 32
