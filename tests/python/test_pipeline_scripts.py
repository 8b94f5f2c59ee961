"""The scripts as SageMaker runs them: separate processes, code unpacked under /opt/ml (here <tmp>/<step>/opt/ml), the
processing arguments and training hyperparameters of the pipeline contract, the SM_* environment, model.tar.gz
between Train and Evaluate."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Dict, List

import numpy as np
import pandas as pd
import pytest
import threadpoolctl

import evaluate as evaluate_script
import preprocess as preprocess_script
import train as train_script
from sample_data import customers

ROOT = Path(__file__).resolve().parents[2]
CODE = ROOT / "scripts" / "sagemaker"
# The container's Python is the one running these tests (Debian's /usr/bin/python3 with scikit-learn 1.2.1).
PYTHON = sys.executable
EVALUATION_KEYS = ["silhouette", "calinski_harabasz", "davies_bouldin", "min_cluster_fraction",
                   "max_cluster_fraction", "k", "rows", "label_stability_ari"]


def unpack_code(target: Path) -> Path:
    """What the step's entrypoint does with sourcedir.tar.gz: every scripts/sagemaker/*.py, flat."""
    target.mkdir(parents=True)
    for script in CODE.glob("*.py"):
        shutil.copy(script, target)
    return target


def run(command: List[str], cwd: Path, env: Dict[str, str] = None) -> subprocess.CompletedProcess:
    # One OpenMP thread: the test host is shared and busy, and spinning worker threads only slow these small runs.
    environment = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    return subprocess.run(command, cwd=str(cwd), env=environment, capture_output=True, text=True, timeout=120)


def preprocess(work: Path, csv: Path, features: str = "Age,Income,Purchases") -> subprocess.CompletedProcess:
    ml = work / "preprocess" / "opt" / "ml"
    (ml / "processing" / "input" / "data").mkdir(parents=True)
    (ml / "output").mkdir(parents=True)
    shutil.copy(csv, ml / "processing" / "input" / "data" / csv.name)
    code = unpack_code(ml / "processing" / "code")
    return run([PYTHON, str(code / "preprocess.py"), "--features", features, "--validation-fraction", "0.2",
                "--random-seed", "42"], cwd=work)


def train(work: Path, train_csv: Path, baseline_uri: str = "", n_clusters: str = "0",
          name: str = "train") -> subprocess.CompletedProcess:
    ml = work / name / "opt" / "ml"
    channel = ml / "input" / "data" / "train"
    channel.mkdir(parents=True)
    (ml / "output").mkdir(parents=True)
    shutil.copy(train_csv, channel / "train.csv")
    code = unpack_code(ml / "code")
    hyperparameters = {"n-clusters": n_clusters, "max-k": "6", "n-components": "0", "random-seed": "42",
                       "features": "Age,Income,Purchases", "baseline-uri": baseline_uri}
    env = {"SM_MODEL_DIR": str(ml / "model"), "SM_CHANNEL_TRAIN": str(channel),
           "SM_OUTPUT_DATA_DIR": str(ml / "output" / "data"), "SM_CHANNELS": '["train"]',
           "SM_HPS": json.dumps(hyperparameters), "SM_CURRENT_HOST": "algo-1", "SM_HOSTS": '["algo-1"]'}
    env.update({"SM_HP_%s" % key.upper(): value for key, value in hyperparameters.items()})
    arguments = [part for key, value in hyperparameters.items() for part in ("--%s" % key, value)]
    return run([PYTHON, "train.py", *arguments], cwd=code, env=env)


def pack_model(model_dir: Path, archive: Path) -> Path:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    return archive


def evaluate(work: Path, model_dir: Path, validation_csv: Path) -> subprocess.CompletedProcess:
    ml = work / "evaluate" / "opt" / "ml"
    pack_model(model_dir, ml / "processing" / "input" / "model" / "model.tar.gz")
    (ml / "processing" / "input" / "validation").mkdir(parents=True)
    shutil.copy(validation_csv, ml / "processing" / "input" / "validation" / "validation.csv")
    code = unpack_code(ml / "processing" / "code")
    return run([PYTHON, str(code / "evaluate.py")], cwd=work)


def generate_csv(out: Path, rows: int, seed: int, segments: int, bad_rows: int = 0) -> Path:
    result = run([PYTHON, "-m", "sample_data.customers", "--rows", str(rows), "--seed", str(seed), "--segments",
                  str(segments), "--out", str(out), "--bad-rows", str(bad_rows)], cwd=ROOT / "scripts")
    assert result.returncode == 0, result.stderr
    return out


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (result.returncode, result.stdout,
                                                                           result.stderr)
    return result


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Dict[str, object]:
    work = tmp_path_factory.mktemp("pipeline")
    csv = generate_csv(work / "customers.csv", rows=3000, seed=17, segments=4, bad_rows=2)
    pre = ok(preprocess(work, csv))
    processing = work / "preprocess" / "opt" / "ml" / "processing" / "output"
    trained = ok(train(work, processing / "train" / "train.csv"))
    model_dir = work / "train" / "opt" / "ml" / "model"
    evaluated = ok(evaluate(work, model_dir, processing / "validation" / "validation.csv"))
    return {"work": work, "processing": processing, "model_dir": model_dir, "preprocess": pre, "train": trained,
            "evaluate": evaluated, "eval_out": work / "evaluate" / "opt" / "ml" / "processing" / "output"}


def test_preprocess_subprocess_writesSplitAndProfileUnderProcessingOutput(pipeline):
    processing = pipeline["processing"]
    profile = json.loads((processing / "profile" / "data_profile.json").read_text())
    assert profile["rows_read"] == 3012
    assert profile["rows_kept"] == 3002  # zero purchases are valid without SpendingPower
    assert profile["dropped_by_rule"] == {"missing_value": 2, "non_numeric": 2, "age_out_of_range": 2,
                                          "negative_income": 2, "negative_purchases": 2, "zero_purchases": 0}
    train_rows = len(pd.read_csv(processing / "train" / "train.csv"))
    validation_rows = len(pd.read_csv(processing / "validation" / "validation.csv"))
    assert train_rows + validation_rows == 3002
    assert "validation: rows read 3012, kept 3002, dropped 10" in pipeline["preprocess"].stdout


def test_train_subprocess_writesModelFilesAndMetricLines(pipeline):
    assert sorted(p.name for p in pipeline["model_dir"].iterdir()) == [
        "metrics.json", "model.joblib", "preprocessing_spec.json", "segment_profiles.json"]
    stdout = pipeline["train"].stdout
    silhouette = float(re.search(r"metric: silhouette=([-0-9.eE+]+)", stdout).group(1))
    assert silhouette > 0.7
    assert re.search(r"^metric: k=4$", stdout, re.MULTILINE)
    metrics = json.loads((pipeline["model_dir"] / "metrics.json").read_text())
    assert metrics["k"] == 4 and metrics["silhouette"] == pytest.approx(silhouette)


def test_evaluate_subprocess_evaluationJsonHasContractShape(pipeline):
    evaluation = json.loads((pipeline["eval_out"] / "evaluation" / "evaluation.json").read_text())
    assert list(evaluation) == ["metrics"]
    assert list(evaluation["metrics"]) == EVALUATION_KEYS
    metrics = evaluation["metrics"]
    assert all(isinstance(metrics[key], float) for key in EVALUATION_KEYS[:5])
    assert isinstance(metrics["k"], int) and isinstance(metrics["rows"], int)
    assert metrics["label_stability_ari"] is None
    assert metrics["k"] == 4
    assert metrics["silhouette"] > 0.7
    assert 0.2 < metrics["min_cluster_fraction"] <= 0.25 <= metrics["max_cluster_fraction"] < 0.3
    assert metrics["rows"] == len(pd.read_csv(pipeline["processing"] / "validation" / "validation.csv"))


def test_evaluate_subprocess_writesArtifacts(pipeline):
    artifacts = pipeline["eval_out"] / "artifacts"
    assert sorted(p.name for p in artifacts.iterdir()) == [
        "metrics.json", "model_quality.json", "preprocessing_spec.json", "segment_profiles.json"]
    assert (artifacts / "segment_profiles.json").read_bytes() == \
        (pipeline["model_dir"] / "segment_profiles.json").read_bytes()
    metrics = json.loads((artifacts / "metrics.json").read_text())
    evaluation = json.loads((pipeline["eval_out"] / "evaluation" / "evaluation.json").read_text())
    assert metrics["k_selection"]["method"] == "silhouette"
    assert metrics["validation"]["silhouette"] == evaluation["metrics"]["silhouette"]
    quality = json.loads((artifacts / "model_quality.json").read_text())
    assert quality["dataset"]["item_count"] == evaluation["metrics"]["rows"]
    assert quality["clustering_metrics"]["silhouette"]["value"] == evaluation["metrics"]["silhouette"]


def test_train_subprocess_withBaselineOnShuffledRows_reportsAriAndKeepsIds(pipeline):
    work = pipeline["work"]
    shuffled = work / "shuffled.csv"
    frame = pd.read_csv(pipeline["processing"] / "train" / "train.csv")
    frame.sample(frac=1.0, random_state=1).to_csv(shuffled, index=False)
    baseline = pipeline["model_dir"] / "segment_profiles.json"
    ok(train(work, shuffled, baseline_uri=str(baseline), name="retrain"))
    model_dir = work / "retrain" / "opt" / "ml" / "model"
    first = json.loads(baseline.read_text())["segments"]
    second = json.loads((model_dir / "segment_profiles.json").read_text())["segments"]
    assert [s["id"] for s in second] == [s["id"] for s in first]
    for old, new in zip(first, second):
        assert new["centroid"]["Income"] == pytest.approx(old["centroid"]["Income"], rel=1e-3)
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["label_stability_ari"] == pytest.approx(1.0)
    assert metrics["baseline_status"] == "loaded"


def test_pipeline_noStructureData_silhouetteFailsDefaultGate(tmp_path):
    rng = np.random.default_rng(4)
    values = rng.normal(size=(1500, 3)) * [10, 20000, 8] + [45, 70000, 30]
    (tmp_path / "in").mkdir()
    pd.DataFrame({"Age": values[:, 0].round(), "Income": values[:, 1].round(2),
                  "Purchases": values[:, 2].round()}).to_csv(tmp_path / "in" / "flat.csv", index=False)
    failure = ["--failure-file", str(tmp_path / "failure")]
    with threadpoolctl.threadpool_limits(1):
        assert preprocess_script.main(["--input-dir", str(tmp_path / "in"), "--output-dir", str(tmp_path),
                                       *failure]) == 0
        assert train_script.main(["--train", str(tmp_path / "train"), "--model-dir", str(tmp_path / "model"),
                                  *failure]) == 0
        pack_model(tmp_path / "model", tmp_path / "packed" / "model.tar.gz")
        assert evaluate_script.main(["--model-dir", str(tmp_path / "packed"), "--validation-dir",
                                     str(tmp_path / "validation"), "--evaluation-dir", str(tmp_path / "evaluation"),
                                     "--artifacts-dir", str(tmp_path / "artifacts"), *failure]) == 0
    evaluation = json.loads((tmp_path / "evaluation" / "evaluation.json").read_text())
    assert evaluation["metrics"]["silhouette"] < 0.25


def test_preprocess_subprocess_noUsableRows_exitsNonZeroWithFailureReason(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("Age,Gender,Income,Purchases\n200,M,1,1\n30,F,-1,1\n")
    result = preprocess(tmp_path, csv)
    assert result.returncode == 2
    expected = ("preprocess failed: no usable rows in %s: rows read 2, kept 0, dropped 2 (age_out_of_range=1, "
                "negative_income=1). Rules: " % (tmp_path / "preprocess" / "opt" / "ml" / "processing" / "input" /
                                                  "data"))
    assert result.stderr.startswith("ERROR: " + expected)
    output = tmp_path / "preprocess" / "opt" / "ml" / "output"
    for name in ("failure", "message"):
        assert (output / name).read_text().startswith(expected)


def test_train_subprocess_badHyperparameter_exitsNonZeroWithFailureFile(tmp_path, pipeline):
    result = train(tmp_path, pipeline["processing"] / "train" / "train.csv", n_clusters="1")
    assert result.returncode == 2
    failure = tmp_path / "train" / "opt" / "ml" / "output" / "failure"
    assert failure.read_text() == "train failed: --n-clusters must be 0 (choose automatically) or >= 2, got 1"


def test_evaluate_subprocess_noModelArchive_exitsNonZero(tmp_path):
    ml = tmp_path / "evaluate" / "opt" / "ml"
    (ml / "processing" / "input" / "model").mkdir(parents=True)
    (ml / "output").mkdir(parents=True)
    code = unpack_code(ml / "processing" / "code")
    result = run([PYTHON, str(code / "evaluate.py")], cwd=tmp_path)
    assert result.returncode == 2
    assert (ml / "output" / "failure").read_text() == (
        "evaluate failed: expected exactly one *.tar.gz in %s, found none" % (ml / "processing" / "input" / "model"))


def test_sample_data_cli_sameSeed_sameBytes(tmp_path, pipeline):
    arguments = ["--rows", "3000", "--seed", "17", "--segments", "4", "--bad-rows", "2", "--out"]
    assert customers.main(arguments + [str(tmp_path / "again.csv")]) == 0
    assert (tmp_path / "again.csv").read_bytes() == (pipeline["work"] / "customers.csv").read_bytes()
    assert (pipeline["work"] / "customers.csv").read_text().splitlines()[0] == "CustomerID,Age,Gender,Income,Purchases"
    assert customers.main(["--rows", "3000", "--seed", "18", "--segments", "4", "--out", str(tmp_path / "other.csv")]) \
        == 0
    assert (tmp_path / "other.csv").read_bytes() != (tmp_path / "again.csv").read_bytes()
