"""Runs the recommendation scripts as SageMaker does: separate processes, code unpacked under <step>/opt/ml, the
processing channels and the training job's SM_* environment."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[3]
CODE = ROOT / "scripts" / "recommendations"
PYTHON = sys.executable


def run(command: List[str], cwd: Path, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    # One OpenMP thread: the test host is shared and busy, and spinning worker threads only slow these small runs.
    environment = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    return subprocess.run(command, cwd=str(cwd), env=environment, capture_output=True, text=True, timeout=120)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (result.returncode, result.stdout,
                                                                           result.stderr)
    return result


def unpack_code(target: Path) -> Path:
    """What the step's entrypoint does with sourcedir.tar.gz: every scripts/recommendations/*.py, flat."""
    target.mkdir(parents=True)
    for script in CODE.glob("*.py"):
        shutil.copy(script, target)
    return target


def copy_into(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for path in ([source] if source.is_file() else sorted(source.iterdir())):
        shutil.copy(path, target / path.name)


def pack_model(model_dir: Path, archive: Path) -> Path:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    return archive


def processing(work: Path, step: str, script: str, inputs: Dict[str, Path], arguments: List[str]
               ) -> subprocess.CompletedProcess:
    """Runs a processing script with its channels under <work>/<step>/opt/ml/processing/input/<channel>."""
    ml = work / step / "opt" / "ml"
    (ml / "output").mkdir(parents=True)
    for channel, source in inputs.items():
        copy_into(source, ml / "processing" / "input" / channel)
    code = unpack_code(ml / "processing" / "code")
    return run([PYTHON, str(code / script), *arguments], cwd=work)


def training(work: Path, basket: Path, hyperparameters: Dict[str, str]) -> subprocess.CompletedProcess:
    ml = work / "train" / "opt" / "ml"
    channel = ml / "input" / "data" / "basket"
    copy_into(basket, channel)
    (ml / "output").mkdir(parents=True)
    code = unpack_code(ml / "code")
    env = {"SM_MODEL_DIR": str(ml / "model"), "SM_CHANNEL_BASKET": str(channel),
           "SM_OUTPUT_DATA_DIR": str(ml / "output" / "data"), "SM_CHANNELS": '["basket"]',
           "SM_HPS": json.dumps(hyperparameters), "SM_CURRENT_HOST": "algo-1", "SM_HOSTS": '["algo-1"]'}
    env.update({"SM_HP_%s" % key.upper().replace("-", "_"): value for key, value in hyperparameters.items()})
    arguments = [part for key, value in hyperparameters.items() for part in ("--%s" % key, value)]
    return run([PYTHON, "train_clustering.py", *arguments], cwd=code, env=env)
