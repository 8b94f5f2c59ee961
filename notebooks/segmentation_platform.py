"""The customer-segmentation platform as CustomerSegmentation.ipynb reaches it, locally or in AWS: the stack's names,
pipeline runs (the local pipeline runner, or SageMaker through boto3) and the segment API (POST /segment).

Kept out of the notebook so its cells stay short and these pieces are tested (tests/python/test_notebook.py). Runs
unchanged under Python 3.9 (SageMaker notebook kernels) and Debian's 3.11. boto3 is only needed in aws mode, and the
AWS clients are passed in, so nothing here reaches AWS on its own.
"""
from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import pandas as pd

MODES = ("local", "aws")
FINISHED = ("Succeeded", "Failed", "Stopped")
DEFAULT_STACK = "CustomerSegmentation"
# Training data the notebook sends goes next to the production file (data/customers.csv), never over it: data/ is
# where the pipeline's role may read, and the notebook's role may write.
NOTEBOOK_DATA_PREFIX = "data/notebooks/"

API_NOT_RUNNING = (
    "The segment API is not running, so this step calls nothing; that is not an error.\n"
    "To call it locally: run `scripts/run.sh --serve` in a terminal (it trains, deploys and serves the API on "
    "loopback and prints its URL), then set SEGMENT_API_URL to that URL (os.environ['SEGMENT_API_URL'] = '...', or "
    "in the environment Jupyter starts from) and run this cell again.")

API_NEEDS_SIGNATURE = (
    "The stack's API uses IAM authorization (api:authorization iam: the stack has no ApiKeyId output), so requests "
    "need a SigV4 signature for execute-api rather than an API key; this notebook sends API keys only, so it calls "
    "nothing here.")


def choose_mode(value: Optional[str]) -> str:
    """SEGMENTATION_MODE: "local" (the default: no AWS account needed) or "aws" (the deployed stack)."""
    mode = (value or "local").strip().lower()
    if mode not in MODES:
        raise ValueError("SEGMENTATION_MODE must be 'local' or 'aws', got %r" % value)
    return mode


@dataclass
class Step:
    name: str
    status: str
    failure_reason: Optional[str] = None


@dataclass
class Execution:
    """A pipeline execution as DescribePipelineExecution + ListPipelineExecutionSteps show it."""
    arn: str
    status: str
    failure_reason: Optional[str] = None
    steps: List[Step] = field(default_factory=list)
    record: Optional[Path] = None  # local mode: the runner's execution.json

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def steps_table(execution: Execution) -> pd.DataFrame:
    return pd.DataFrame([{"step": s.name, "status": s.status, "failure reason": s.failure_reason or ""}
                         for s in execution.steps], columns=["step", "status", "failure reason"])


# ---------------------------------------------------------------------------------------------------------------------
# Local mode: the synthesized app in cdk.out and the local pipeline runner
# ---------------------------------------------------------------------------------------------------------------------


def local_stack_outputs(cdk_out: Path, stack: Optional[str] = None) -> Dict[str, str]:
    """The stack outputs of a synthesized app as the local runner resolves them: literal values as they are, and a
    bucket's {"Ref": logical id} as its local bucket name, the logical id in lower case. Outputs only a deployment
    can resolve (attributes of other resources) are left out."""
    manifest_path = Path(cdk_out) / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(
            "no synthesized app in %s (manifest.json is missing): synthesize it with scripts/run.sh, or set CDK_OUT "
            "to the cdk.out folder of a synthesized app" % cdk_out)
    artifacts = json.loads(manifest_path.read_text())["artifacts"]
    stacks = {name: artifact for name, artifact in artifacts.items()
              if artifact.get("type") == "aws:cloudformation:stack"}
    if stack is None and len(stacks) == 1:
        stack = next(iter(stacks))
    if stack not in stacks:
        raise ValueError("stack %r is not in %s; its stacks: %s" % (stack, cdk_out, ", ".join(sorted(stacks))))
    template = json.loads((Path(cdk_out) / stacks[stack]["properties"]["templateFile"]).read_text())
    outputs = {}
    for key, output in template.get("Outputs", {}).items():
        value = output["Value"]
        if isinstance(value, str):
            outputs[key] = value
        elif isinstance(value, dict) and set(value) == {"Ref"}:
            outputs[key] = value["Ref"].lower()
    return outputs


def runner_command(repository: Path, cdk_out: Path, pipeline: str, work_dir: Path, data_file: Path, data_uri: str,
                   parameters: Mapping[str, str], execution_id: str) -> List[str]:
    """The local pipeline runner's command line: upload the CSV to data_uri in its loopback S3, then run the pipeline
    (its PipelineName: the stack has more than one) with the parameters (the same names and values SageMaker takes)."""
    command = ["dotnet", "run", "--project", str(Path(repository) / "infra" / "LocalPipelineRunner"), "--",
               "--cdk-out", str(cdk_out), "--pipeline", pipeline, "--work-dir", str(work_dir),
               "--execution-id", execution_id, "--upload", "%s=%s" % (data_file, data_uri)]
    for name, value in parameters.items():
        command += ["--param", "%s=%s" % (name, value)]
    return command


def new_execution_id() -> str:
    return uuid.uuid4().hex[:12]


def read_execution_record(path: Path) -> Execution:
    record = json.loads(Path(path).read_text())
    steps = [Step(s["StepName"], s["StepStatus"], s.get("FailureReason")) for s in record["Steps"]]
    return Execution(record["PipelineExecutionArn"], record["PipelineExecutionStatus"], record.get("FailureReason"),
                     steps, Path(path))


def run_local_pipeline(command: Sequence[str], cwd: Path, work_dir: Path, execution_id: str,
                       echo: Callable[[str], None] = print) -> Execution:
    """Runs the local pipeline runner, echoing its progress line by line, and returns the execution it recorded.
    A Failed execution (exit code 1) is a result, not an error; the runner refusing its input is an error."""
    process = subprocess.Popen(list(command), cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    assert process.stdout is not None
    last_lines: List[str] = []
    for line in process.stdout:
        echo(line.rstrip("\n"))
        last_lines = (last_lines + [line.strip()])[-5:]
    code = process.wait()
    record = Path(work_dir) / execution_id / "execution.json"
    if code not in (0, 1) or not record.is_file():
        raise RuntimeError("the local pipeline runner exited with code %d without an execution record; its last "
                           "lines: %s" % (code, " | ".join(line for line in last_lines if line)))
    return read_execution_record(record)


def train_metrics(execution: Execution) -> Dict[str, float]:
    """Local mode: the metrics the Train step reported (FinalMetricDataList, as DescribeTrainingJob shows them)."""
    if execution.record is None:
        return {}
    steps = json.loads(execution.record.read_text())["Steps"]
    metadata = next((s.get("Metadata") or {} for s in steps if s["StepName"] == "Train"), {})
    return {m["MetricName"]: m["Value"] for m in metadata.get("FinalMetricDataList", [])}


# ---------------------------------------------------------------------------------------------------------------------
# AWS mode: boto3 clients, passed in
# ---------------------------------------------------------------------------------------------------------------------


def stack_outputs(cloudformation: Any, stack: str) -> Dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def upload_training_data(s3: Any, bucket: str, data_file: Path) -> str:
    """Puts the CSV under data/notebooks/ of the data bucket and returns its s3:// URI (the DataFile parameter)."""
    key = NOTEBOOK_DATA_PREFIX + Path(data_file).name
    s3.put_object(Bucket=bucket, Key=key, Body=Path(data_file).read_bytes(), ContentType="text/csv")
    return "s3://%s/%s" % (bucket, key)


def start_pipeline(sagemaker: Any, pipeline: str, parameters: Mapping[str, str]) -> str:
    response = sagemaker.start_pipeline_execution(
        PipelineName=pipeline,
        PipelineParameters=[{"Name": name, "Value": str(value)} for name, value in parameters.items()])
    return response["PipelineExecutionArn"]


def describe_execution(sagemaker: Any, arn: str) -> Execution:
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    steps = []
    for page in sagemaker.get_paginator("list_pipeline_execution_steps").paginate(PipelineExecutionArn=arn,
                                                                                   SortOrder="Ascending"):
        steps += [Step(s["StepName"], s["StepStatus"], s.get("FailureReason")) for s in page["PipelineExecutionSteps"]]
    return Execution(arn, described["PipelineExecutionStatus"], described.get("FailureReason"), steps)


def follow_execution(sagemaker: Any, arn: str, poll_seconds: float = 30, timeout_seconds: float = 3600,
                     echo: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep,
                     clock: Callable[[], float] = time.monotonic) -> Execution:
    """Polls the execution until it ends, echoing a line whenever its status or a step's status changes."""
    started = clock()
    last = None
    while True:
        execution = describe_execution(sagemaker, arn)
        steps = ", ".join("%s %s" % (step.name, step.status) for step in execution.steps) or "no step started yet"
        line = "%s: %s (%s)" % (execution.id, execution.status, steps)
        if line != last:
            echo("[%5.0f s] %s" % (clock() - started, line))
            last = line
        if execution.finished:
            return execution
        if clock() - started >= timeout_seconds:
            raise TimeoutError("pipeline execution %s is still %s after %d s; it carries on in SageMaker: follow it "
                               "with scripts/ops pipeline status --execution %s"
                               % (execution.id, execution.status, timeout_seconds, arn))
        sleep(poll_seconds)


def api_key_value(apigateway: Any, key_id: str) -> str:
    return apigateway.get_api_key(apiKey=key_id, includeValue=True)["value"]


# ---------------------------------------------------------------------------------------------------------------------
# The segment API
# ---------------------------------------------------------------------------------------------------------------------


class SegmentApiError(RuntimeError):
    """POST /segment did not answer 200; the message carries the API's error and the field it names."""


def post_segment(url: str, customers: Sequence[Mapping[str, float]], api_key: Optional[str] = None,
                 timeout: float = 30) -> Dict[str, Any]:
    """POSTs {"customers": [...]} to <url>/segment (with the x-api-key header when a key is given) and returns the
    answer: predictions (closest_cluster, distance_to_cluster, segment_label), endpoint, model_version."""
    endpoint = url.rstrip("/") + "/segment"
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["x-api-key"] = api_key
    request = urllib.request.Request(endpoint, data=json.dumps({"customers": list(customers)}).encode("utf-8"),
                                     headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", errors="replace")
        try:
            problem = json.loads(body)
        except ValueError:
            problem = {}
        message = problem.get("error") or problem.get("message") or body or "no body"
        where = " (field %s)" % problem["field"] if problem.get("field") else ""
        raise SegmentApiError("POST %s answered HTTP %d: %s%s" % (endpoint, error.code, message, where)) from None
    except urllib.error.URLError as error:
        raise SegmentApiError("POST %s failed: %s" % (endpoint, error.reason)) from None


def segments_table(customers: Sequence[Mapping[str, float]], answer: Mapping[str, Any]) -> pd.DataFrame:
    """The customers sent, side by side with the segment each got."""
    rows = []
    for customer, prediction in zip(customers, answer["predictions"]):
        rows.append({**customer, "segment": prediction["closest_cluster"],
                     "distance": prediction["distance_to_cluster"], "label": prediction.get("segment_label", "")})
    return pd.DataFrame(rows)
