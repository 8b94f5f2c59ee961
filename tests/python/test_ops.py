"""scripts/ops driven as a subprocess against a strict stand-in `aws` executable.

The stand-in is a small SageMaker/CloudFormation/STS/S3/Application Auto Scaling/API Gateway state machine: it
answers exactly the AWS CLI calls the commands are meant to make (same arguments, same `--output text` shape as
the real CLI), moves the notebook instance through its states the way SageMaker does (a start is refused unless
the instance is Stopped or Failed, a stop unless it is InService), moves pipeline executions through the statuses
a test gives them, logs every call, and exits 2 on anything else, so a wrong or unexpected call fails the test
instead of being answered. `api test` talks to a loopback stand-in of the segment API (segment_api_standin.py).
The stand-in's likeness to the real CLI is itself tested: the same calls go to the real AWS CLI pointed at a
loopback server, and both must print the same.
"""
from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import stat
import subprocess
import threading
import urllib.parse
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from segment_api_standin import SegmentApi

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "scripts" / "ops"
NOTEBOOK = "customer-segmentation-notebook"
STACK = "CustomerSegmentation"
OUTPUTS_QUERY = "Stacks[0].Outputs[].[OutputKey,OutputValue]"
STATUS_QUERY = "[NotebookInstanceStatus,FailureReason]"
DETAILS_QUERY = "[NotebookInstanceName,NotebookInstanceStatus,InstanceType,Url,FailureReason]"
PRESIGNED_URL = "https://customer-segmentation-notebook.notebook.eu-west-1.sagemaker.aws?authToken=token-123"
PIPELINE = "customer-segmentation-training"
ENDPOINT = "customer-segmentation-endpoint"
ENDPOINT_CONFIG = "customer-segmentation-endpoint-20261125103000"
MODEL_BUCKET = "segmentation-models"
API_KEY_ID = "k7x2abc9de"
API_KEY = "secret-key-value-123"
EXECUTION_ARN_PREFIX = f"arn:aws:sagemaker:eu-west-1:123456789012:pipeline/{PIPELINE}/execution/"
LATEST_QUERY = "PipelineExecutionSummaries[0].[PipelineExecutionArn,PipelineExecutionStatus]"
EXECUTION_QUERY = "[PipelineExecutionStatus,FailureReason]"
STEPS_QUERY = "PipelineExecutionSteps[].[StepName,StepStatus,FailureReason]"
ENDPOINT_QUERY = ("[[EndpointName,EndpointStatus,EndpointConfigName,FailureReason],ProductionVariants[].[VariantName,"
                  "CurrentInstanceCount,DesiredInstanceCount] || `[]`]")
CONFIG_QUERY = "ProductionVariants[].[VariantName,InstanceType]"
SCALING_QUERY = "ScalableTargets[].[ResourceId,MinCapacity,MaxCapacity]"
SCALING_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
OBJECTS_QUERY = "Contents[].[Key,Size]"
QUERIES = {name: value for name, value in globals().items() if name.endswith(("_QUERY", "_DIMENSION", "_PREFIX"))}

FAKE_AWS = r'''#!/usr/bin/python3
"""Stand-in for the AWS CLI: answers the expected calls from the state file, logs every call, exits 2 otherwise."""
import json
import os
import sys

STATE = os.environ["FAKE_AWS_STATE"]
LOG = os.environ["FAKE_AWS_LOG"]
globals().update(@QUERIES@)
args = sys.argv[1:]
with open(LOG, "a") as log:
    log.write(json.dumps(args) + "\n")
with open(STATE) as f:
    state = json.load(f)
nb = state["notebook"]
pipeline = state["pipeline"]
endpoint = state["endpoint"]


def unexpected():
    with open(LOG, "a") as log:
        log.write("UNEXPECTED\n")
    sys.stderr.write("fake aws: unexpected call: %s\n" % " ".join(args))
    sys.exit(2)


def save():
    with open(STATE, "w") as f:
        json.dump(state, f)


def service_error(code, operation, message):
    sys.stderr.write("\nAn error occurred (%s) when calling the %s operation: %s\n" % (code, operation, message))
    sys.exit(254)


def text(value):
    return "None" if value is None else str(value)


def injected_error(operation):
    injected = state["errors"].get(operation)
    if injected:
        service_error(injected["code"], operation, injected["message"])


def transition(operation, allowed, status, queue):
    if nb["status"] not in allowed:
        service_error("ValidationException", operation, "Status (%s) not in ([%s]). Unable to transition to (%s) "
                      "for Notebook Instance (%s)." % (nb["status"], ", ".join(allowed), status, nb["name"]))
    injected_error(operation)
    nb["status"] = status
    nb["queue"] = list(queue)
    save()


def describe():
    if nb["queue"]:
        nb["status"] = nb["queue"].pop(0)
        save()
    return nb["status"], (nb["failure_reason"] if nb["status"] == "Failed" else None)


def known_notebook(name, operation):
    if name != nb["name"]:
        service_error("ValidationException", operation, "RecordNotFound")


def known_pipeline(name, operation):
    if name != pipeline["name"]:
        service_error("ResourceNotFound", operation, "Pipeline %s does not exist" % name)


def execution(arn, operation):
    for candidate in pipeline["executions"]:
        if EXECUTION_ARN_PREFIX + candidate["id"] == arn:
            return candidate
    service_error("ResourceNotFound", operation, "Pipeline execution %s does not exist" % arn)


def start_execution(parameters_json):
    try:
        parameters = json.loads(parameters_json) if parameters_json is not None else []
    except ValueError:
        unexpected()
    if not isinstance(parameters, list) or not all(
            isinstance(p, dict) and sorted(p) == ["Name", "Value"] and all(isinstance(v, str) for v in p.values())
            for p in parameters):
        unexpected()
    injected_error("StartPipelineExecution")
    started = dict(pipeline["on_start"], parameters=parameters, id="execution%03d" % (len(pipeline["executions"]) + 1))
    started["status"] = "Executing"
    pipeline["executions"].append(started)
    save()
    print(EXECUTION_ARN_PREFIX + started["id"])


def describe_execution(current):
    if current["queue"]:
        current["status"] = current["queue"].pop(0)
        save()
    reason = current["failure_reason"] if current["status"] in ("Failed", "Stopped") else None
    print("%s\t%s" % (current["status"], text(reason)))


if args == ["sts", "get-caller-identity", "--query", "Arn", "--output", "text"]:
    if not state["credentials"]:
        sys.stderr.write('Unable to locate credentials. You can configure credentials by running "aws configure".\n')
        sys.exit(253)
    print("arn:aws:iam::123456789012:user/operator")
elif (len(args) == 8 and args[:3] == ["cloudformation", "describe-stacks", "--stack-name"]
        and args[4:] == ["--query", OUTPUTS_QUERY, "--output", "text"]):
    outputs = state["stacks"].get(args[3])
    if outputs is None:
        service_error("ValidationError", "DescribeStacks", "Stack with id %s does not exist" % args[3])
    print("\n".join("%s\t%s" % item for item in outputs.items()) if outputs else "None")
elif len(args) == 8 and args[:3] == ["sagemaker", "describe-notebook-instance", "--notebook-instance-name"] \
        and args[4] == "--query" and args[6:] == ["--output", "text"] \
        and args[5] in (STATUS_QUERY, DETAILS_QUERY):
    known_notebook(args[3], "DescribeNotebookInstance")
    status, reason = describe()
    if args[5] == STATUS_QUERY:
        print("%s\t%s" % (status, text(reason)))
    else:
        url = None if status in ("Pending", "Stopped") else nb["url"]
        print("\t".join([nb["name"], status, nb["instance_type"], text(url), text(reason)]))
elif len(args) == 4 and args[:3] == ["sagemaker", "start-notebook-instance", "--notebook-instance-name"]:
    known_notebook(args[3], "StartNotebookInstance")
    transition("StartNotebookInstance", ["Stopped", "Failed"], "Pending", nb["on_start"])
elif len(args) == 4 and args[:3] == ["sagemaker", "stop-notebook-instance", "--notebook-instance-name"]:
    known_notebook(args[3], "StopNotebookInstance")
    transition("StopNotebookInstance", ["InService"], "Stopping", nb["on_stop"])
elif len(args) == 8 and args[:3] == ["sagemaker", "create-presigned-notebook-instance-url",
                                     "--notebook-instance-name"] \
        and args[4:] == ["--query", "AuthorizedUrl", "--output", "text"]:
    known_notebook(args[3], "CreatePresignedNotebookInstanceUrl")
    print(state["presigned_url"])
elif args[:3] == ["sagemaker", "start-pipeline-execution", "--pipeline-name"] and len(args) in (8, 10) \
        and args[-4:] == ["--query", "PipelineExecutionArn", "--output", "text"] \
        and (len(args) == 8 or args[4] == "--pipeline-parameters"):
    known_pipeline(args[3], "StartPipelineExecution")
    start_execution(args[5] if len(args) == 10 else None)
elif len(args) == 8 and args[:3] == ["sagemaker", "describe-pipeline-execution", "--pipeline-execution-arn"] \
        and args[4:] == ["--query", EXECUTION_QUERY, "--output", "text"]:
    describe_execution(execution(args[3], "DescribePipelineExecution"))
elif len(args) == 10 and args[:3] == ["sagemaker", "list-pipeline-execution-steps", "--pipeline-execution-arn"] \
        and args[4:] == ["--sort-order", "Ascending", "--query", STEPS_QUERY, "--output", "text"]:
    for name, status, reason in execution(args[3], "ListPipelineExecutionSteps")["steps"]:
        print("%s\t%s\t%s" % (name, status, text(reason)))
elif len(args) == 15 and args[:3] == ["sagemaker", "list-pipeline-executions", "--pipeline-name"] \
        and args[4:] == ["--sort-by", "CreationTime", "--sort-order", "Descending", "--max-results", "1",
                         "--no-paginate", "--query", LATEST_QUERY, "--output", "text"]:
    known_pipeline(args[3], "ListPipelineExecutions")
    latest = pipeline["executions"][-1] if pipeline["executions"] else None
    print("%s\t%s" % (EXECUTION_ARN_PREFIX + latest["id"], latest["status"]) if latest else "None")
elif len(args) == 8 and args[:3] == ["sagemaker", "describe-endpoint", "--endpoint-name"] \
        and args[4:] == ["--query", ENDPOINT_QUERY, "--output", "text"]:
    injected_error("DescribeEndpoint")
    if not endpoint["exists"] or args[3] != endpoint["name"]:
        service_error("ValidationException", "DescribeEndpoint",
                      'Could not find endpoint "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/%s".' % args[3])
    print("\t".join([endpoint["name"], endpoint["status"], endpoint["config"], text(endpoint["failure_reason"])]))
    for variant in endpoint["variants"]:
        print("\t".join(text(value) for value in variant))
elif len(args) == 8 and args[:3] == ["sagemaker", "describe-endpoint-config", "--endpoint-config-name"] \
        and args[4:] == ["--query", CONFIG_QUERY, "--output", "text"]:
    variants = state["endpoint_configs"].get(args[3])
    if variants is None:
        service_error("ValidationException", "DescribeEndpointConfig", 'Could not find endpoint configuration '
                      '"arn:aws:sagemaker:eu-west-1:123456789012:endpoint-config/%s".' % args[3])
    for variant in variants:
        print("\t".join(text(value) for value in variant))
elif len(args) > 11 and args[:5] == ["application-autoscaling", "describe-scalable-targets", "--service-namespace",
                                     "sagemaker", "--resource-ids"] \
        and args[-6:] == ["--scalable-dimension", SCALING_DIMENSION, "--query", SCALING_QUERY, "--output", "text"]:
    for resource in args[5:-6]:
        if resource in state["scalable_targets"]:
            print("%s\t%d\t%d" % (resource, *state["scalable_targets"][resource]))
elif len(args) == 10 and args[:3] == ["s3api", "list-objects-v2", "--bucket"] and args[4] == "--prefix" \
        and args[6:] == ["--query", OBJECTS_QUERY, "--output", "text"]:
    if args[3] not in state["buckets"]:
        service_error("NoSuchBucket", "ListObjectsV2", "The specified bucket does not exist")
    objects = state["buckets"][args[3]]
    keys = sorted(key for key in objects if key.startswith(args[5]))
    sizes = [objects[key] if isinstance(objects[key], int) else len(objects[key].encode()) for key in keys]
    print("\n".join("%s\t%d" % item for item in zip(keys, sizes)) if keys else "None")
elif len(args) == 4 and args[:2] == ["s3", "cp"] and args[2].startswith("s3://") and args[3] == "-":
    bucket, _, key = args[2][len("s3://"):].partition("/")
    content = state["buckets"].get(bucket, {}).get(key)
    if not isinstance(content, str):
        sys.stderr.write("download failed: %s to - An error occurred (404) when calling the HeadObject operation: Not"
                         " Found\n" % args[2])
        sys.exit(1)
    sys.stdout.write(content)
elif len(args) == 9 and args[:3] == ["apigateway", "get-api-key", "--api-key"] \
        and args[4:] == ["--include-value", "--query", "value", "--output", "text"]:
    if args[3] not in state["api_keys"]:
        service_error("NotFoundException", "GetApiKey", "Invalid API Key identifier specified")
    print(state["api_keys"][args[3]])
else:
    unexpected()
'''


OUTPUTS = {"DataBucketName": "segmentation-data", "ModelBucketName": MODEL_BUCKET, "PipelineName": PIPELINE,
           "ModelPackageGroupName": "customer-segmentation-models", "EndpointName": ENDPOINT,
           "NotebookInstanceName": NOTEBOOK, "ApiUrl": "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/prod/",
           "ApiKeyId": API_KEY_ID}
STEP_NAMES = ["Preprocess", "Train", "Evaluate", "CheckQuality", "CreateModel", "RegisterModel", "Deploy"]
ALL_STEPS_SUCCEEDED = [[name, "Succeeded", None] for name in STEP_NAMES]


class FakeAws:
    """The stand-in's files: a bin folder to put first on PATH, its state and its call log."""

    def __init__(self, folder: Path) -> None:
        self.bin = folder / "bin"
        self.bin.mkdir()
        self.executable = self.bin / "aws"
        self.executable.write_text(FAKE_AWS.replace("@QUERIES@", repr(QUERIES)))
        self.executable.chmod(self.executable.stat().st_mode | stat.S_IXUSR)
        self.state_path = folder / "aws-state.json"
        self.log_path = folder / "aws-calls.log"
        self.log_path.write_text("")
        self.state: Dict[str, Any] = {
            "credentials": True,
            "stacks": {STACK: dict(OUTPUTS)},
            "errors": {},
            "presigned_url": PRESIGNED_URL,
            "notebook": {
                "name": NOTEBOOK,
                "status": "Stopped",
                "queue": [],
                "on_start": ["Pending", "Pending", "InService"],
                "on_stop": ["Stopping", "Stopped"],
                "failure_reason": None,
                "instance_type": "ml.t3.medium",
                "url": "customer-segmentation-notebook.notebook.eu-west-1.sagemaker.aws",
            },
            # Executions oldest first; a new one takes on_start's queue (statuses its describes walk through),
            # steps (what list-pipeline-execution-steps shows) and failure_reason.
            "pipeline": {
                "name": PIPELINE,
                "executions": [],
                "on_start": {"queue": ["Executing", "Succeeded"], "steps": ALL_STEPS_SUCCEEDED,
                             "failure_reason": None},
            },
            "endpoint": {"name": ENDPOINT, "exists": True, "status": "InService", "config": ENDPOINT_CONFIG,
                         "failure_reason": None, "variants": [["AllTraffic", 1, 1]]},
            "endpoint_configs": {ENDPOINT_CONFIG: [["AllTraffic", "ml.m5.large"]]},
            "scalable_targets": {f"endpoint/{ENDPOINT}/variant/AllTraffic": [1, 4]},
            # bucket -> key -> content (a str) or size (an int, for objects only listed, never read)
            "buckets": {MODEL_BUCKET: {}},
            "api_keys": {API_KEY_ID: API_KEY},
        }
        self.save()

    def save(self) -> None:
        self.state_path.write_text(json.dumps(self.state))

    def notebook(self, **changes: Any) -> None:
        self.state["notebook"].update(changes)
        self.save()

    def execution(self, status: str, steps: Optional[List[List[Optional[str]]]] = None,
                  failure_reason: Optional[str] = None, queue: Optional[List[str]] = None) -> str:
        """Adds an execution (the newest) and returns its ARN."""
        executions = self.state["pipeline"]["executions"]
        executions.append({"id": f"execution{len(executions) + 1:03d}", "status": status, "queue": queue or [],
                           "steps": ALL_STEPS_SUCCEEDED if steps is None else steps,
                           "failure_reason": failure_reason, "parameters": []})
        self.save()
        return EXECUTION_ARN_PREFIX + executions[-1]["id"]

    def objects(self, objects: Dict[str, Any]) -> None:
        """Puts objects into the model bucket: key -> content (str) or size (int)."""
        self.state["buckets"][MODEL_BUCKET].update(objects)
        self.save()

    def load(self) -> Dict[str, Any]:
        """The state as the stand-in left it."""
        return json.loads(self.state_path.read_text())

    def calls(self) -> List[List[str]]:
        lines = self.log_path.read_text().splitlines()
        assert "UNEXPECTED" not in lines, "the command made a call the stand-in does not expect"
        return [json.loads(line) for line in lines]

    def env(self, **extra: str) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("SEGMENTATION_STACK", "OPS_POLL_SECONDS")}
        env.update(
            PATH=f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            FAKE_AWS_STATE=str(self.state_path),
            FAKE_AWS_LOG=str(self.log_path),
            OPS_POLL_SECONDS="0.01",
        )
        env.update(extra)
        return env


@pytest.fixture
def aws(tmp_path: Path) -> FakeAws:
    return FakeAws(tmp_path)


def run_ops(*args: str, env: Dict[str, str], ops: Path = OPS) -> subprocess.CompletedProcess:
    return subprocess.run([str(ops), *args], env=env, capture_output=True, text=True, timeout=60)


# The calls, spelled as the stand-in logs them.
IDENTITY = ["sts", "get-caller-identity", "--query", "Arn", "--output", "text"]


def outputs_call(stack: str = STACK) -> List[str]:
    return ["cloudformation", "describe-stacks", "--stack-name", stack, "--query", OUTPUTS_QUERY, "--output", "text"]


STATUS = ["sagemaker", "describe-notebook-instance", "--notebook-instance-name", NOTEBOOK,
          "--query", STATUS_QUERY, "--output", "text"]
DETAILS = ["sagemaker", "describe-notebook-instance", "--notebook-instance-name", NOTEBOOK,
           "--query", DETAILS_QUERY, "--output", "text"]
START = ["sagemaker", "start-notebook-instance", "--notebook-instance-name", NOTEBOOK]
STOP = ["sagemaker", "stop-notebook-instance", "--notebook-instance-name", NOTEBOOK]
PRESIGN = ["sagemaker", "create-presigned-notebook-instance-url", "--notebook-instance-name", NOTEBOOK,
           "--query", "AuthorizedUrl", "--output", "text"]
LOOKUP = [IDENTITY, outputs_call()]
EXECUTION_1 = EXECUTION_ARN_PREFIX + "execution001"
PARAMETERS_JSON = '[{"Name":"NClusters","Value":"5"},{"Name":"Features","Value":"Age,Income,SpendingPower"}]'
STEP_FAILURE = "Step failure: One or multiple steps failed."
TRAIN_FAILED_STEPS = [["Preprocess", "Succeeded", None],
                      ["Train", "Failed", "AlgorithmError: --n-clusters 12 exceeds the 10 training rows"]]


def start_call(parameters: Optional[str] = None) -> List[str]:
    return ["sagemaker", "start-pipeline-execution", "--pipeline-name", PIPELINE,
            *(["--pipeline-parameters", parameters] if parameters else []),
            "--query", "PipelineExecutionArn", "--output", "text"]


def latest_call(pipeline: str = PIPELINE) -> List[str]:
    return ["sagemaker", "list-pipeline-executions", "--pipeline-name", pipeline, "--sort-by", "CreationTime",
            "--sort-order", "Descending", "--max-results", "1", "--no-paginate", "--query", LATEST_QUERY,
            "--output", "text"]


def describe_execution_call(arn: str = EXECUTION_1) -> List[str]:
    return ["sagemaker", "describe-pipeline-execution", "--pipeline-execution-arn", arn,
            "--query", EXECUTION_QUERY, "--output", "text"]


def steps_call(arn: str = EXECUTION_1) -> List[str]:
    return ["sagemaker", "list-pipeline-execution-steps", "--pipeline-execution-arn", arn, "--sort-order",
            "Ascending", "--query", STEPS_QUERY, "--output", "text"]


def scaling_call(*resources: str) -> List[str]:
    return ["application-autoscaling", "describe-scalable-targets", "--service-namespace", "sagemaker",
            "--resource-ids", *resources, "--scalable-dimension", SCALING_DIMENSION, "--query", SCALING_QUERY,
            "--output", "text"]


def list_objects_call(execution_id: str = "execution001") -> List[str]:
    return ["s3api", "list-objects-v2", "--bucket", MODEL_BUCKET, "--prefix", f"runs/{execution_id}/",
            "--query", OBJECTS_QUERY, "--output", "text"]


LATEST = latest_call()
LATEST_REQUEST = ("SageMaker.ListPipelineExecutions", {"PipelineName": PIPELINE, "SortBy": "CreationTime",
                                                       "SortOrder": "Descending", "MaxResults": 1})
DESCRIBE_ENDPOINT = ["sagemaker", "describe-endpoint", "--endpoint-name", ENDPOINT, "--query", ENDPOINT_QUERY,
                     "--output", "text"]
DESCRIBE_CONFIG = ["sagemaker", "describe-endpoint-config", "--endpoint-config-name", ENDPOINT_CONFIG,
                   "--query", CONFIG_QUERY, "--output", "text"]
VARIANT_RESOURCE = f"endpoint/{ENDPOINT}/variant/AllTraffic"
SCALING_REQUEST = {"ServiceNamespace": "sagemaker", "ResourceIds": [VARIANT_RESOURCE],
                   "ScalableDimension": SCALING_DIMENSION}
LIST_OBJECTS_REQUEST = (f"GET /{MODEL_BUCKET}", {"list-type": "2", "prefix": "runs/execution001/",
                                                 "encoding-type": "url"})
MARKER = ('{\n  "ModelPackageArn": "arn:aws:sagemaker:eu-west-1:123456789012:model-package/'
          'customer-segmentation-models/3",\n  "ModelPackageVersion": 3,\n  "EndpointName": "' + ENDPOINT + '"\n}\n')
MARKER_CALL = ["s3", "cp", f"s3://{MODEL_BUCKET}/deployed/version.json", "-"]
API_KEY_CALL = ["apigateway", "get-api-key", "--api-key", API_KEY_ID, "--include-value", "--query", "value",
                "--output", "text"]
RUN_OBJECTS: Dict[str, Any] = {
    "runs/execution001/training/pipelines-execution001-Train-x1/output/model.tar.gz": 56789,
    "runs/execution001/artifacts/preprocessing_spec.json": "{" + " " * 1100 + "}",
    "runs/execution001/artifacts/metrics.json": '{"k": 4}',
    "runs/execution001/artifacts/segment_profiles.json": "{" + " " * 2000 + "}",
    "runs/execution001/evaluation/evaluation.json": '{"metrics": {}}',
    "runs/execution001/preprocess/train/train.csv": 3 * 1024 * 1024 + 200_000,
}


def progress(stderr: str) -> List[str]:
    """The statuses printed while waiting, without the elapsed seconds."""
    prefix = f"notebook instance {NOTEBOOK}: "
    return [line[len(prefix):].split(" (")[0] for line in stderr.splitlines() if line.startswith(prefix)]


# --- the stand-in itself -------------------------------------------------------------------------------------


def test_fake_aws_unexpected_call_exits_two_and_is_logged(aws: FakeAws) -> None:
    result = subprocess.run([str(aws.executable), "sagemaker", "delete-notebook-instance",
                             "--notebook-instance-name", NOTEBOOK], env=aws.env(), capture_output=True, text=True)

    assert result.returncode == 2
    assert result.stderr == f"fake aws: unexpected call: sagemaker delete-notebook-instance " \
                            f"--notebook-instance-name {NOTEBOOK}\n"
    with pytest.raises(AssertionError, match="does not expect"):
        aws.calls()


def test_fake_aws_start_while_stopping_refused_like_sagemaker(aws: FakeAws) -> None:
    aws.notebook(status="Stopping")

    result = subprocess.run([str(aws.executable), *START], env=aws.env(), capture_output=True, text=True)

    assert result.returncode == 254
    assert "Status (Stopping) not in ([Stopped, Failed])" in result.stderr


# The stand-in is only as good as its likeness to the real CLI: the same calls go to the real AWS CLI, pointed at
# a loopback server that gives the service's answer for the same state, and both must print the same thing.

class LoopbackAws:
    """Answers each request with the next canned (status, content type, body[, headers]) and records what was asked:
    (X-Amz-Target, JSON body) for JSON protocols, (Action, form) for query protocols, ("METHOD /path", query
    parameters) for REST protocols (S3, API Gateway)."""

    def __init__(self) -> None:
        self.answers: List[Tuple[Any, ...]] = []
        self.requests: List[Tuple[str, Dict[str, Any]]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                target = self.headers.get("X-Amz-Target")
                if target:
                    request = json.loads(body)
                    # The CLI fills an idempotency token with a fresh UUID: its presence is what can be compared.
                    if "ClientRequestToken" in request:
                        request["ClientRequestToken"] = "<generated>"
                    outer.requests.append((target, request))
                else:
                    form = dict(urllib.parse.parse_qsl(body))
                    outer.requests.append((form.pop("Action"), form))
                self.answer()

            def do_GET(self) -> None:  # noqa: N802
                path, _, query = self.path.partition("?")
                outer.requests.append((f"{self.command} {path}", dict(urllib.parse.parse_qsl(query))))
                self.answer()

            do_HEAD = do_GET  # noqa: N815

            def answer(self) -> None:
                status, content_type, answer, *headers = outer.answers.pop(0)
                data = answer.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers[0] if headers else {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def loopback() -> Iterator[LoopbackAws]:
    server = LoopbackAws()
    yield server
    server.server.shutdown()
    server.server.server_close()


def sagemaker_json(body: Dict[str, Any], status: int = 200) -> Tuple[int, str, str]:
    return status, "application/x-amz-json-1.1", json.dumps(body)


def query_xml(operation: str, namespace: str, result: str) -> Tuple[int, str, str]:
    return 200, "text/xml", (f'<{operation}Response xmlns="{namespace}"><{operation}Result>{result}</{operation}Result>'
                             f"<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></{operation}Response>")


CFN = "http://cloudformation.amazonaws.com/doc/2010-05-15/"


def stack_xml(outputs: Dict[str, str]) -> Tuple[int, str, str]:
    members = "".join(f"<member><OutputKey>{k}</OutputKey><OutputValue>{v}</OutputValue></member>"
                      for k, v in outputs.items())
    return query_xml("DescribeStacks", CFN, (
        f"<Stacks><member><StackName>{STACK}</StackName><StackId>arn:aws:cloudformation:eu-west-1:123456789012:"
        f"stack/{STACK}/1</StackId><CreationTime>2026-11-25T10:00:00Z</CreationTime>"
        f"<StackStatus>CREATE_COMPLETE</StackStatus>{'<Outputs>' + members + '</Outputs>' if members else ''}"
        "</member></Stacks>"))


def described_endpoint(status: str, variants: Optional[List[Dict[str, Any]]], **extra: str) -> Tuple[int, str, str]:
    return sagemaker_json({"EndpointName": ENDPOINT, "EndpointArn": "arn:e", "EndpointConfigName": ENDPOINT_CONFIG,
                           "EndpointStatus": status, "CreationTime": 1764064800.0, "LastModifiedTime": 1764065000.0,
                           **({"ProductionVariants": variants} if variants is not None else {}), **extra})


def objects_xml(objects: Dict[str, Any]) -> Tuple[int, str, str]:
    contents = "".join(
        f"<Contents><Key>{key}</Key><LastModified>2026-11-25T10:00:00.000Z</LastModified><ETag>&quot;e&quot;</ETag>"
        f"<Size>{value if isinstance(value, int) else len(value.encode())}</Size>"
        "<StorageClass>STANDARD</StorageClass></Contents>" for key, value in sorted(objects.items()))
    return 200, "application/xml", (
        '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Name>{MODEL_BUCKET}</Name><Prefix>runs/execution001/</Prefix><KeyCount>{len(objects)}</KeyCount>"
        f"<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{contents}</ListBucketResult>")


def described(status: str, **extra: str) -> Tuple[int, str, str]:
    arn = f"arn:aws:sagemaker:eu-west-1:123456789012:notebook-instance/{NOTEBOOK}"
    return sagemaker_json({"NotebookInstanceArn": arn, "NotebookInstanceName": NOTEBOOK,
                           "NotebookInstanceStatus": status, "InstanceType": "ml.t3.medium", **extra})


URL_HOST = "customer-segmentation-notebook.notebook.eu-west-1.sagemaker.aws"
NAME_ONLY = {"NotebookInstanceName": NOTEBOOK}
LIKENESS_CASES = {
    "identity": ({}, IDENTITY, query_xml(
        "GetCallerIdentity", "https://sts.amazonaws.com/doc/2011-06-15/",
        "<Arn>arn:aws:iam::123456789012:user/operator</Arn><UserId>AIDA1</UserId><Account>123456789012</Account>"),
        ("GetCallerIdentity", {"Version": "2011-06-15"})),
    "stack outputs": ({}, outputs_call(), stack_xml(OUTPUTS),
                      ("DescribeStacks", {"Version": "2010-05-15", "StackName": STACK})),
    "stack without outputs": ({"stacks": {STACK: {}}}, outputs_call(), stack_xml({}),
                              ("DescribeStacks", {"Version": "2010-05-15", "StackName": STACK})),
    "stack missing": ({}, outputs_call("Staging"), (400, "text/xml", (
        f'<ErrorResponse xmlns="{CFN}"><Error><Type>Sender</Type><Code>ValidationError</Code>'
        "<Message>Stack with id Staging does not exist</Message></Error><RequestId>r-1</RequestId></ErrorResponse>")),
        ("DescribeStacks", {"Version": "2010-05-15", "StackName": "Staging"})),
    "status in service": ({"notebook": {"status": "InService"}}, STATUS, described("InService", Url=URL_HOST),
                          ("SageMaker.DescribeNotebookInstance", NAME_ONLY)),
    "status failed": ({"notebook": {"status": "Failed", "failure_reason": "Insufficient capacity"}}, STATUS,
                      described("Failed", FailureReason="Insufficient capacity"),
                      ("SageMaker.DescribeNotebookInstance", NAME_ONLY)),
    "details stopped": ({}, DETAILS, described("Stopped"), ("SageMaker.DescribeNotebookInstance", NAME_ONLY)),
    "details in service": ({"notebook": {"status": "InService"}}, DETAILS, described("InService", Url=URL_HOST),
                           ("SageMaker.DescribeNotebookInstance", NAME_ONLY)),
    "start": ({}, START, sagemaker_json({}), ("SageMaker.StartNotebookInstance", NAME_ONLY)),
    "start refused": ({"notebook": {"status": "Stopping"}}, START, sagemaker_json({
        "__type": "ValidationException",
        "message": "Status (Stopping) not in ([Stopped, Failed]). Unable to transition to (Pending) for Notebook "
                   f"Instance ({NOTEBOOK})."}, status=400), ("SageMaker.StartNotebookInstance", NAME_ONLY)),
    "stop": ({"notebook": {"status": "InService"}}, STOP, sagemaker_json({}),
             ("SageMaker.StopNotebookInstance", NAME_ONLY)),
    "presigned url": ({"notebook": {"status": "InService"}}, PRESIGN, sagemaker_json({"AuthorizedUrl": PRESIGNED_URL}),
                      ("SageMaker.CreatePresignedNotebookInstanceUrl", NAME_ONLY)),
    "start pipeline with parameters": ({}, start_call(PARAMETERS_JSON), sagemaker_json(
        {"PipelineExecutionArn": EXECUTION_1}), ("SageMaker.StartPipelineExecution", {
            "PipelineName": PIPELINE, "PipelineParameters": json.loads(PARAMETERS_JSON),
            "ClientRequestToken": "<generated>"})),
    "latest execution": ({"executions": [{"status": "Executing"}]}, LATEST, sagemaker_json(
        {"PipelineExecutionSummaries": [{"PipelineExecutionArn": EXECUTION_1, "PipelineExecutionStatus": "Executing",
                                         "StartTime": 1764064800.0}], "NextToken": "more"}), LATEST_REQUEST),
    "no executions": ({}, LATEST, sagemaker_json({"PipelineExecutionSummaries": []}), LATEST_REQUEST),
    "execution failed": ({"executions": [{"status": "Failed", "failure_reason": STEP_FAILURE}]},
                         describe_execution_call(), sagemaker_json(
        {"PipelineExecutionArn": EXECUTION_1, "PipelineExecutionStatus": "Failed", "FailureReason": STEP_FAILURE}),
        ("SageMaker.DescribePipelineExecution", {"PipelineExecutionArn": EXECUTION_1})),
    "execution steps": ({"executions": [{"status": "Failed", "steps": TRAIN_FAILED_STEPS}]}, steps_call(),
                        sagemaker_json({"PipelineExecutionSteps": [
                            {"StepName": name, "StepStatus": status, **({"FailureReason": reason} if reason else {}),
                             "StartTime": 1764064800.0} for name, status, reason in TRAIN_FAILED_STEPS]}),
                        ("SageMaker.ListPipelineExecutionSteps", {"PipelineExecutionArn": EXECUTION_1,
                                                                  "SortOrder": "Ascending"})),
    "execution without steps": ({"executions": [{"status": "Executing", "steps": []}]}, steps_call(),
                                sagemaker_json({"PipelineExecutionSteps": []}),
                                ("SageMaker.ListPipelineExecutionSteps", {"PipelineExecutionArn": EXECUTION_1,
                                                                          "SortOrder": "Ascending"})),
    "endpoint": ({"endpoint": {"status": "Failed", "failure_reason": "Image not found",
                               "variants": [["AllTraffic", 2, 3], ["Canary", None, None]]}},
                 DESCRIBE_ENDPOINT, described_endpoint("Failed", [
                     {"VariantName": "AllTraffic", "CurrentInstanceCount": 2, "DesiredInstanceCount": 3},
                     {"VariantName": "Canary"}], FailureReason="Image not found"),
                 ("SageMaker.DescribeEndpoint", {"EndpointName": ENDPOINT})),
    "endpoint creating": ({"endpoint": {"status": "Creating", "variants": []}}, DESCRIBE_ENDPOINT,
                          described_endpoint("Creating", None),
                          ("SageMaker.DescribeEndpoint", {"EndpointName": ENDPOINT})),
    "endpoint missing": ({"endpoint": {"exists": False}}, DESCRIBE_ENDPOINT, sagemaker_json({
        "__type": "ValidationException",
        "message": f'Could not find endpoint "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/{ENDPOINT}".'}, 400),
        ("SageMaker.DescribeEndpoint", {"EndpointName": ENDPOINT})),
    "endpoint config": ({}, DESCRIBE_CONFIG, sagemaker_json({
        "EndpointConfigName": ENDPOINT_CONFIG, "EndpointConfigArn": "arn:c", "CreationTime": 1764064800.0,
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.m5.large",
                                "InitialInstanceCount": 1}]}),
        ("SageMaker.DescribeEndpointConfig", {"EndpointConfigName": ENDPOINT_CONFIG})),
    "scalable targets": ({}, scaling_call(VARIANT_RESOURCE), sagemaker_json({"ScalableTargets": [{
        "ServiceNamespace": "sagemaker", "ResourceId": VARIANT_RESOURCE, "ScalableDimension": SCALING_DIMENSION,
        "MinCapacity": 1, "MaxCapacity": 4, "RoleARN": "arn:r", "CreationTime": 1764064800.0}]}),
        ("AnyScaleFrontendService.DescribeScalableTargets", SCALING_REQUEST)),
    "run objects": ({"objects": RUN_OBJECTS}, list_objects_call(), objects_xml(RUN_OBJECTS), LIST_OBJECTS_REQUEST),
    "no run objects": ({}, list_objects_call(), objects_xml({}), LIST_OBJECTS_REQUEST),
    "deployed marker": ({"objects": {"deployed/version.json": MARKER}}, MARKER_CALL,
                        [(200, "application/json", MARKER), (200, "application/json", MARKER)],
                        [(f"HEAD /{MODEL_BUCKET}/deployed/version.json", {}),
                         (f"GET /{MODEL_BUCKET}/deployed/version.json", {})]),
    "no deployed marker": ({}, MARKER_CALL, (404, "application/xml", ""),
                           (f"HEAD /{MODEL_BUCKET}/deployed/version.json", {})),
    "api key": ({}, API_KEY_CALL, (200, "application/json", json.dumps(
        {"id": API_KEY_ID, "value": API_KEY, "name": "segment-api-key", "enabled": True})),
        (f"GET /apikeys/{API_KEY_ID}", {"includeValue": "true"})),
    "api key missing": ({"api_keys": {}}, API_KEY_CALL, (404, "application/json", json.dumps(
        {"message": "Invalid API Key identifier specified"}), {"x-amzn-ErrorType": "NotFoundException"}),
        (f"GET /apikeys/{API_KEY_ID}", {"includeValue": "true"})),
}


def apply_changes(aws: FakeAws, changes: Dict[str, Any]) -> None:
    """Puts the stand-in into the state a likeness case describes."""
    aws.state["stacks"].update(changes.get("stacks", {}))
    aws.state["errors"].update(changes.get("errors", {}))
    aws.state["endpoint"].update(changes.get("endpoint", {}))
    for key in ("scalable_targets", "api_keys"):
        if key in changes:
            aws.state[key] = changes[key]
    aws.save()
    aws.notebook(**changes.get("notebook", {}))
    for execution in changes.get("executions", []):
        aws.execution(**execution)
    aws.objects(changes.get("objects", {}))


def first_message(stderr: str) -> str:
    return next((line for line in stderr.splitlines() if line.strip()), "")


def real_clis() -> List[Optional[str]]:
    """Every AWS CLI on PATH (setup.sh installs Debian's v2; a machine may carry another one first on PATH)."""
    found: Dict[str, str] = {}
    for folder in os.environ["PATH"].split(os.pathsep):
        candidate = Path(folder) / "aws"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            found.setdefault(str(candidate.resolve()), str(candidate))
    return list(found.values()) or [None]


NO_CLI = "the AWS CLI is not installed: run scripts/setup.sh (it installs the Debian package awscli)"


@pytest.mark.parametrize("cli", real_clis())
@pytest.mark.parametrize("case", sorted(LIKENESS_CASES))
def test_fake_aws_same_call_as_real_cli_prints_what_the_real_cli_prints(
        aws: FakeAws, loopback: LoopbackAws, tmp_path: Path, case: str, cli: Optional[str]) -> None:
    assert cli, NO_CLI
    changes, argv, answer, request = LIKENESS_CASES[case]
    apply_changes(aws, changes)
    loopback.answers.extend(answer if isinstance(answer, list) else [answer])
    real_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "AKIDLOOPBACK",
                "AWS_SECRET_ACCESS_KEY": "loopback", "AWS_DEFAULT_REGION": "eu-west-1",
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_PAGER": ""}

    real = subprocess.run([cli, "--endpoint-url", loopback.url, *argv], env=real_env, capture_output=True,
                          text=True, timeout=60)
    fake = subprocess.run([str(aws.executable), *argv], env=aws.env(), capture_output=True, text=True)

    assert loopback.requests == (request if isinstance(request, list) else [request])
    assert (fake.returncode == 0) == (real.returncode == 0), real.stderr
    assert fake.stdout == real.stdout
    assert first_message(fake.stderr) == first_message(real.stderr)


@pytest.mark.parametrize("cli", real_clis())
def test_fake_aws_no_credentials_says_what_the_real_cli_says(
        aws: FakeAws, tmp_path: Path, cli: Optional[str]) -> None:
    assert cli, NO_CLI
    aws.state["credentials"] = False
    aws.save()
    bare_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_DEFAULT_REGION": "eu-west-1",
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true"}

    real = subprocess.run([cli, *IDENTITY], env=bare_env, capture_output=True, text=True, timeout=60)
    fake = subprocess.run([str(aws.executable), *IDENTITY], env=aws.env(), capture_output=True, text=True)

    assert real.returncode != 0 and fake.returncode != 0
    assert fake.stdout == real.stdout == ""
    assert first_message(fake.stderr) == first_message(real.stderr)


# --- notebook start ------------------------------------------------------------------------------------------


def test_notebook_start_from_stopped_starts_and_waits_until_in_service_printing_progress(aws: FakeAws) -> None:
    result = run_ops("notebook", "start", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert progress(result.stderr) == ["Pending", "Pending", "InService"]
    assert f"+ aws sagemaker start-notebook-instance --notebook-instance-name {NOTEBOOK}\n" in result.stderr
    assert aws.calls() == [*LOOKUP, STATUS, START, STATUS, STATUS, STATUS]


def test_notebook_start_already_in_service_makes_no_change(aws: FakeAws) -> None:
    aws.notebook(status="InService")

    result = run_ops("notebook", "start", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stderr == f"notebook instance {NOTEBOOK} is already InService; nothing to do\n"
    assert aws.calls() == [*LOOKUP, STATUS]


@pytest.mark.parametrize("busy", ["Stopping", "Updating"])
def test_notebook_start_while_busy_waits_for_stopped_then_starts(aws: FakeAws, busy: str) -> None:
    aws.notebook(status=busy, queue=[busy, busy, "Stopped"])

    result = run_ops("notebook", "start", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert f"notebook instance {NOTEBOOK} is {busy}; waiting until it is Stopped before starting it\n" in result.stderr
    assert progress(result.stderr) == [busy, "Stopped", "Pending", "Pending", "InService"]
    assert aws.calls() == [*LOOKUP, STATUS, STATUS, STATUS, START, STATUS, STATUS, STATUS]


def test_notebook_start_while_pending_only_waits(aws: FakeAws) -> None:
    aws.notebook(status="Pending", queue=["Pending", "InService"])

    result = run_ops("notebook", "start", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert f"notebook instance {NOTEBOOK} is already starting (Pending)\n" in result.stderr
    assert progress(result.stderr) == ["InService"]
    assert aws.calls() == [*LOOKUP, STATUS, STATUS]


def test_notebook_start_previously_failed_shows_reason_and_starts_again(aws: FakeAws) -> None:
    aws.notebook(status="Failed", failure_reason="Insufficient capacity")

    result = run_ops("notebook", "start", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert f"notebook instance {NOTEBOOK} failed before (Insufficient capacity); starting it again\n" in result.stderr
    assert aws.calls() == [*LOOKUP, STATUS, START, STATUS, STATUS, STATUS]


def test_notebook_start_ends_failed_exits_with_failure_reason(aws: FakeAws) -> None:
    reason = "Lifecycle configuration script on-start failed: exit code 1"
    aws.notebook(on_start=["Pending", "Failed"], failure_reason=reason)

    result = run_ops("notebook", "start", env=aws.env())

    assert result.returncode == 1
    assert progress(result.stderr) == ["Pending", "Failed"]
    assert result.stderr.endswith(f"ops: notebook instance {NOTEBOOK} is Failed: {reason}\n")
    assert "Traceback" not in result.stderr
    assert aws.calls() == [*LOOKUP, STATUS, START, STATUS, STATUS]


def test_notebook_start_never_in_service_times_out_naming_last_status(aws: FakeAws) -> None:
    aws.notebook(on_start=["Pending"])

    result = run_ops("notebook", "start", "--timeout", "1", env=aws.env(OPS_POLL_SECONDS="0.2"))

    assert result.returncode == 1
    assert result.stderr.endswith(
        f"ops: timed out after 1s waiting for notebook instance {NOTEBOOK} to be InService (last status: Pending)."
        " It may still get there; check again with the status subcommand.\n")
    calls = aws.calls()
    assert calls[:4] == [*LOOKUP, STATUS, START]
    assert len(calls) >= 5 and all(call == STATUS for call in calls[4:])


def test_notebook_start_no_wait_returns_after_request(aws: FakeAws) -> None:
    result = run_ops("notebook", "start", "--no-wait", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith(
        "not waiting for InService (--no-wait); follow it with: scripts/ops notebook status\n")
    assert aws.calls() == [*LOOKUP, STATUS, START]


def test_notebook_start_service_refuses_start_exits_with_service_message(aws: FakeAws) -> None:
    aws.state["errors"]["StartNotebookInstance"] = {
        "code": "ResourceLimitExceeded", "message": "The account-level service limit is 2 Instances"}
    aws.save()

    result = run_ops("notebook", "start", env=aws.env())

    assert result.returncode == 1
    assert result.stderr.endswith(
        "ops: aws sagemaker start-notebook-instance failed: An error occurred (ResourceLimitExceeded) when calling"
        " the StartNotebookInstance operation: The account-level service limit is 2 Instances\n")
    assert aws.calls() == [*LOOKUP, STATUS, START]


# --- notebook stop -------------------------------------------------------------------------------------------


def test_notebook_stop_from_in_service_stops_and_waits_until_stopped(aws: FakeAws) -> None:
    aws.notebook(status="InService")

    result = run_ops("notebook", "stop", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert progress(result.stderr) == ["Stopping", "Stopped"]
    assert f"+ aws sagemaker stop-notebook-instance --notebook-instance-name {NOTEBOOK}\n" in result.stderr
    assert aws.calls() == [*LOOKUP, STATUS, STOP, STATUS, STATUS]


def test_notebook_stop_already_stopped_makes_no_change(aws: FakeAws) -> None:
    result = run_ops("notebook", "stop", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stderr == f"notebook instance {NOTEBOOK} is already Stopped; nothing to do\n"
    assert aws.calls() == [*LOOKUP, STATUS]


def test_notebook_stop_while_stopping_only_waits(aws: FakeAws) -> None:
    aws.notebook(status="Stopping", queue=["Stopping", "Stopping", "Stopped"])

    result = run_ops("notebook", "stop", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert f"notebook instance {NOTEBOOK} is Stopping; waiting until it is Stopped\n" in result.stderr
    assert progress(result.stderr) == ["Stopping", "Stopped"]
    assert aws.calls() == [*LOOKUP, STATUS, STATUS, STATUS]


def test_notebook_stop_no_wait_returns_after_request(aws: FakeAws) -> None:
    aws.notebook(status="InService")

    result = run_ops("notebook", "stop", "--no-wait", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith("not waiting for Stopped (--no-wait); follow it with: scripts/ops notebook status\n")
    assert aws.calls() == [*LOOKUP, STATUS, STOP]


@pytest.mark.parametrize("subcommand, verb", [("start", "started"), ("stop", "stopped")])
def test_notebook_start_stop_deleting_exits_naming_status(aws: FakeAws, subcommand: str, verb: str) -> None:
    aws.notebook(status="Deleting")

    result = run_ops("notebook", subcommand, env=aws.env())

    assert result.returncode == 1
    assert result.stderr == f"ops: notebook instance {NOTEBOOK} is Deleting and cannot be {verb}\n"
    assert aws.calls() == [*LOOKUP, STATUS]


def test_notebook_stop_while_pending_waits_for_in_service_then_stops(aws: FakeAws) -> None:
    aws.notebook(status="Pending", queue=["Pending", "InService"])

    result = run_ops("notebook", "stop", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert progress(result.stderr) == ["InService", "Stopping", "Stopped"]
    assert aws.calls() == [*LOOKUP, STATUS, STATUS, STOP, STATUS, STATUS]


def test_notebook_stop_failed_instance_leaves_it_alone_naming_reason(aws: FakeAws) -> None:
    aws.notebook(status="Failed", failure_reason="Insufficient capacity")

    result = run_ops("notebook", "stop", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stderr == (f"notebook instance {NOTEBOOK} is Failed (Insufficient capacity), so it is not running;"
                             " nothing to stop\n")
    assert aws.calls() == [*LOOKUP, STATUS]


# --- notebook status and url ---------------------------------------------------------------------------------


def test_notebook_status_in_service_prints_name_status_type_and_url(aws: FakeAws) -> None:
    aws.notebook(status="InService")

    result = run_ops("notebook", "status", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"name:          {NOTEBOOK}\n"
        "status:        InService\n"
        "instance type: ml.t3.medium\n"
        "url:           https://customer-segmentation-notebook.notebook.eu-west-1.sagemaker.aws\n")
    assert aws.calls() == [*LOOKUP, DETAILS]


def test_notebook_status_failed_prints_failure_reason(aws: FakeAws) -> None:
    aws.notebook(status="Failed", failure_reason="Insufficient capacity")

    result = run_ops("notebook", "status", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "status:        Failed",
        "instance type: ml.t3.medium",
        "url:           https://customer-segmentation-notebook.notebook.eu-west-1.sagemaker.aws",
        "failure:       Insufficient capacity",
    ]


def test_notebook_status_stopped_without_url_says_none_yet(aws: FakeAws) -> None:
    result = run_ops("notebook", "status", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == ["status:        Stopped", "instance type: ml.t3.medium",
                                              "url:           (none yet)"]


def test_notebook_url_in_service_prints_presigned_url_only(aws: FakeAws) -> None:
    aws.notebook(status="InService")

    result = run_ops("notebook", "url", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == PRESIGNED_URL + "\n"
    assert aws.calls() == [*LOOKUP, STATUS, PRESIGN]


def test_notebook_url_stopped_fails_saying_how_to_start(aws: FakeAws) -> None:
    result = run_ops("notebook", "url", env=aws.env())

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (f"ops: notebook instance {NOTEBOOK} is Stopped; start it first with:"
                             " scripts/ops notebook start\n")
    assert aws.calls() == [*LOOKUP, STATUS]


def tools_without_aws(tmp_path: Path) -> Path:
    """A PATH folder holding only the tools scripts/ops uses, so no `aws` from the machine can be found."""
    folder = tmp_path / "tools"
    folder.mkdir()
    for tool in ("bash", "dirname", "sed", "head", "mktemp", "rm", "sort", "paste", "sleep", "cat"):
        found = shutil.which(tool)
        assert found, f"{tool} is needed to run scripts/ops"
        (folder / tool).symlink_to(found)
    return folder


# --- dry-run -------------------------------------------------------------------------------------------------


def printed(name: str) -> Dict[str, List[str]]:
    """The lines dry-run prints after the name lookups, per subcommand, for a notebook instance called name."""
    quoted = f"'{name}'" if name.startswith("<") else name
    status = (f"+ aws sagemaker describe-notebook-instance --notebook-instance-name {quoted}"
              f" --query '{STATUS_QUERY}' --output text")
    repeat = "# the call above repeats every 0.01s until notebook instance {} is {} (timeout 900s)"
    return {
        "start": [status, f"+ aws sagemaker start-notebook-instance --notebook-instance-name {quoted}",
                  status, repeat.format(name, "InService")],
        "stop": [status, f"+ aws sagemaker stop-notebook-instance --notebook-instance-name {quoted}",
                 status, repeat.format(name, "Stopped")],
        "status": [f"+ aws sagemaker describe-notebook-instance --notebook-instance-name {quoted}"
                   f" --query '{DETAILS_QUERY}' --output text"],
        "url": [status, f"+ aws sagemaker create-presigned-notebook-instance-url --notebook-instance-name {quoted}"
                        " --query AuthorizedUrl --output text"],
    }


LOOKUP_LINES = [
    "+ aws sts get-caller-identity --query Arn --output text",
    f"+ aws cloudformation describe-stacks --stack-name {STACK} --query '{OUTPUTS_QUERY}' --output text",
]


@pytest.mark.parametrize("subcommand", ["start", "stop", "status", "url"])
def test_dry_run_with_credentials_prints_calls_with_real_names_and_only_looks_up(aws: FakeAws, subcommand: str) -> None:
    result = run_ops("notebook", subcommand, "--dry-run", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [*LOOKUP_LINES, *printed(NOTEBOOK)[subcommand]]
    assert result.stderr == ""
    assert aws.calls() == LOOKUP


@pytest.mark.parametrize("subcommand", ["start", "stop", "status", "url"])
def test_dry_run_without_credentials_prints_calls_with_placeholder_name(aws: FakeAws, subcommand: str) -> None:
    aws.state["credentials"] = False
    aws.save()

    result = run_ops("notebook", subcommand, "--dry-run", env=aws.env())

    assert result.returncode == 0, result.stderr
    placeholder = f"<NotebookInstanceName from stack {STACK}>"
    assert result.stdout.splitlines() == [*LOOKUP_LINES, *printed(placeholder)[subcommand]]
    assert result.stderr == (
        'ops: no usable AWS credentials (aws sts get-caller-identity: Unable to locate credentials. You can configure'
        ' credentials by running "aws configure".); dry-run goes on with placeholders for names read from the stack\n')
    assert aws.calls() == [IDENTITY]


def test_dry_run_without_aws_cli_prints_calls_with_placeholder_name(aws: FakeAws, tmp_path: Path) -> None:
    env = aws.env(PATH=str(tools_without_aws(tmp_path)))

    result = run_ops("notebook", "start", "--dry-run", "--stack", "Staging", env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == (
        f"+ aws cloudformation describe-stacks --stack-name Staging --query '{OUTPUTS_QUERY}' --output text")
    assert result.stdout.splitlines()[3] == (
        "+ aws sagemaker start-notebook-instance --notebook-instance-name '<NotebookInstanceName from stack Staging>'")
    assert aws.calls() == []


def test_dry_run_missing_stack_fails_like_the_real_run(aws: FakeAws) -> None:
    result = run_ops("notebook", "start", "--dry-run", "--stack", "Staging", env=aws.env())

    assert result.returncode == 1
    assert "ops: stack 'Staging' does not exist" in result.stderr
    assert aws.calls() == [IDENTITY, outputs_call("Staging")]


# --- credentials, stack and outputs --------------------------------------------------------------------------


WHAT_TO_DO = (" Install the AWS CLI and configure credentials ('aws configure', or 'aws sso login' for SSO), or set"
              f" AWS_PROFILE to a configured profile and AWS_REGION to the region of stack '{STACK}'.\n")


@pytest.mark.parametrize("subcommand", ["start", "stop", "status", "url"])
def test_any_subcommand_no_credentials_exits_with_what_to_do(aws: FakeAws, subcommand: str) -> None:
    aws.state["credentials"] = False
    aws.save()

    result = run_ops("notebook", subcommand, env=aws.env())

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        'ops: no usable AWS credentials (aws sts get-caller-identity: Unable to locate credentials. You can configure'
        ' credentials by running "aws configure".).' + WHAT_TO_DO)
    assert aws.calls() == [IDENTITY]


def test_notebook_start_no_aws_cli_on_path_exits_with_what_to_do(aws: FakeAws, tmp_path: Path) -> None:
    result = run_ops("notebook", "start", env=aws.env(PATH=str(tools_without_aws(tmp_path))))

    assert result.returncode == 1
    assert result.stderr == "ops: the AWS CLI ('aws') is not on PATH." + WHAT_TO_DO


def test_notebook_start_stack_missing_names_stack_and_how_to_choose_it(aws: FakeAws) -> None:
    result = run_ops("notebook", "start", "--stack", "Staging", env=aws.env())

    assert result.returncode == 1
    assert result.stderr == (
        "ops: stack 'Staging' does not exist in this account and region. Deploy it with 'cdk deploy', or name the"
        " deployed stack with --stack NAME or SEGMENTATION_STACK (and check AWS_REGION).\n")
    assert aws.calls() == [IDENTITY, outputs_call("Staging")]


@pytest.mark.parametrize("outputs, listed", [
    ({"DataBucketName": "segmentation-data", "ModelBucketName": "segmentation-models"},
     "DataBucketName, ModelBucketName"),
    ({}, "none"),
])
def test_notebook_start_output_missing_names_stack_and_output(
        aws: FakeAws, outputs: Dict[str, str], listed: str) -> None:
    aws.state["stacks"][STACK] = outputs
    aws.save()

    result = run_ops("notebook", "start", env=aws.env())

    assert result.returncode == 1
    assert result.stderr == (
        f"ops: stack '{STACK}' has no output 'NotebookInstanceName' (its outputs: {listed}). Deploy the current"
        " version of the stack with 'cdk deploy'.\n")
    assert aws.calls() == LOOKUP


def copy_ops(tmp_path: Path, cdk_json: Optional[str]) -> Path:
    """scripts/ops in a repository of its own, to show where it reads the default stack name from."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts" / "ops.d", repo / "scripts" / "ops.d")
    shutil.copy2(OPS, repo / "scripts" / "ops")
    if cdk_json is not None:
        (repo / "cdk.json").write_text(cdk_json)
    return repo / "scripts" / "ops"


@pytest.mark.parametrize("args, env_stack, cdk_json, expected", [
    ([], None, None, "CustomerSegmentation"),
    ([], None, '{\n  "context": {\n    "stackName": "FromContext",\n    "x": 1\n  }\n}\n', "FromContext"),
    ([], "FromEnv", '{"context": {\n  "stackName": "FromContext"\n}}\n', "FromEnv"),
    (["--stack", "FromOption"], "FromEnv", '{"context": {\n  "stackName": "FromContext"\n}}\n', "FromOption"),
    (["--stack=FromOption"], None, None, "FromOption"),
])
def test_stack_name_precedence_option_then_env_then_cdk_context_then_default(
        aws: FakeAws, tmp_path: Path, args: List[str], env_stack: Optional[str], cdk_json: Optional[str],
        expected: str) -> None:
    ops = copy_ops(tmp_path, cdk_json)
    aws.state["stacks"][expected] = {"NotebookInstanceName": NOTEBOOK}
    aws.save()
    env = aws.env(**({"SEGMENTATION_STACK": env_stack} if env_stack else {}))

    result = run_ops("notebook", "status", "--dry-run", *args, env=env, ops=ops)

    assert result.returncode == 0, result.stderr
    assert aws.calls() == [IDENTITY, outputs_call(expected)]


def test_stack_name_repository_cdk_json_is_customer_segmentation(aws: FakeAws) -> None:
    result = run_ops("notebook", "status", "--dry-run", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert aws.calls() == LOOKUP


# --- usage ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["bogus"],
     "unknown command 'bogus' (commands: notebook pipeline endpoint artifacts api; see 'scripts/ops --help')"),
    (["notebook", "restart"], "unknown subcommand 'restart' for 'notebook' (see 'scripts/ops notebook --help')"),
    (["notebook", "start", "--force"], "unknown option '--force' (see 'scripts/ops notebook start --help')"),
    (["--force", "notebook"], "unknown option '--force' (see 'scripts/ops notebook --help')"),
    (["notebook", "start", "--stack"], "option --stack needs a value (see 'scripts/ops --help')"),
    (["notebook", "start", "--timeout", "soon"], "--timeout needs a whole number of seconds, got 'soon'"),
    (["notebook", "start", "--stack", "my stack"],
     "invalid stack name 'my stack': use letters, digits and hyphens, starting with a letter (at most 128)"),
    (["notebook", "start", "now"], "unexpected argument 'now' (see 'scripts/ops notebook start --help')"),
    ([], "no command given (see 'scripts/ops --help')"),
    (["notebook"], "no subcommand given for 'notebook' (see 'scripts/ops notebook --help')"),
])
def test_usage_bad_arguments_exit_two_naming_the_problem(aws: FakeAws, args: List[str], message: str) -> None:
    result = run_ops(*args, env=aws.env())

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"ops: {message}\n"
    assert aws.calls() == []


def test_usage_bad_poll_interval_exits_two(aws: FakeAws) -> None:
    result = run_ops("notebook", "start", env=aws.env(OPS_POLL_SECONDS="fast"))

    assert result.returncode == 2
    assert result.stderr == "ops: OPS_POLL_SECONDS must be a number of seconds, got 'fast'\n"
    assert aws.calls() == []


def test_help_top_level_lists_every_command_and_option(aws: FakeAws) -> None:
    result = run_ops("--help", env=aws.env())

    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Usage: scripts/ops <command> <subcommand> [options]"
    for subcommand in ("start", "stop", "status", "url"):
        assert any(line.startswith(f"  notebook {subcommand} ") for line in lines), subcommand
    for option in ("--stack NAME", "--dry-run", "--no-wait", "--timeout SECONDS", "-h, --help"):
        assert any(line.startswith(f"  {option} ") for line in lines), option
    assert aws.calls() == []


def test_help_group_lists_its_subcommands(aws: FakeAws) -> None:
    result = run_ops("notebook", "-h", env=aws.env())

    assert result.returncode == 0
    assert result.stdout.startswith("Usage: scripts/ops notebook <subcommand> [options]\n")
    assert "  notebook url " in result.stdout


@pytest.mark.parametrize("subcommand, summary", [
    ("start", "Start the notebook instance and wait until it is InService."),
    ("stop", "Stop the notebook instance and wait until it is Stopped."),
    ("status", "Print the notebook instance's name, status, instance type and URL."),
    ("url", "Print a presigned URL that opens Jupyter on the notebook instance."),
])
def test_help_subcommand_shows_usage_summary_details_and_options(aws: FakeAws, subcommand: str, summary: str) -> None:
    result = run_ops("notebook", subcommand, "--help", env=aws.env())

    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[:3] == [f"Usage: scripts/ops notebook {subcommand} [options]", "", summary]
    assert lines[4] != "" and "Options:" in lines
    assert aws.calls() == []


# --- pipeline run --------------------------------------------------------------------------------------------


def test_pipeline_run_without_params_starts_and_prints_execution_arn(aws: FakeAws) -> None:
    result = run_ops("pipeline", "run", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == EXECUTION_1 + "\n"
    assert result.stderr == (
        f"+ aws sagemaker start-pipeline-execution --pipeline-name {PIPELINE} --query PipelineExecutionArn"
        " --output text\n"
        f"follow it with: scripts/ops pipeline status --execution {EXECUTION_1}\n")
    assert aws.calls() == [*LOOKUP, start_call()]
    assert aws.load()["pipeline"]["executions"][0]["parameters"] == []


def test_pipeline_run_with_params_passes_them_as_json_keeping_commas(aws: FakeAws) -> None:
    result = run_ops("pipeline", "run", "--param", "NClusters=5", "--param=Features=Age,Income,SpendingPower",
                     env=aws.env())

    assert result.returncode == 0, result.stderr
    assert aws.calls() == [*LOOKUP, start_call(PARAMETERS_JSON)]
    assert aws.load()["pipeline"]["executions"][0]["parameters"] == [
        {"Name": "NClusters", "Value": "5"}, {"Name": "Features", "Value": "Age,Income,SpendingPower"}]


@pytest.mark.parametrize("value", ['s3://data/with "quotes" and \\backslash.csv', "tab\there", "", "a=b=c",
                                   "ünïcode"])
def test_pipeline_run_param_value_reaches_sagemaker_unchanged(aws: FakeAws, value: str) -> None:
    result = run_ops("pipeline", "run", "--param", f"DataFile={value}", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert aws.load()["pipeline"]["executions"][0]["parameters"] == [{"Name": "DataFile", "Value": value}]


def test_pipeline_run_wait_until_succeeded_prints_progress_then_steps(aws: FakeAws) -> None:
    aws.state["pipeline"]["on_start"]["queue"] = ["Executing", "Executing", "Succeeded"]
    aws.save()

    result = run_ops("pipeline", "run", "--wait", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"{EXECUTION_1}\nexecution: {EXECUTION_1}\nstatus:    Succeeded\n\n"
        "  step                 status       failure\n"
        + "".join(f"  {name:<20} Succeeded\n" for name in STEP_NAMES))
    assert [line.split(" (")[0] for line in result.stderr.splitlines()[1:]] == [
        "pipeline execution execution001: Executing", "pipeline execution execution001: Executing",
        "pipeline execution execution001: Succeeded"]
    assert aws.calls() == [*LOOKUP, start_call(), *[describe_execution_call()] * 4, steps_call()]


def test_pipeline_run_wait_execution_fails_exits_with_failed_steps_reasons(aws: FakeAws) -> None:
    aws.state["pipeline"]["on_start"] = {"queue": ["Executing", "Failed"], "steps": TRAIN_FAILED_STEPS,
                                         "failure_reason": STEP_FAILURE}
    aws.save()

    result = run_ops("pipeline", "run", "--wait", env=aws.env())

    assert result.returncode == 1
    assert result.stdout == EXECUTION_1 + "\n"
    assert result.stderr.endswith(
        "ops: pipeline execution execution001 is Failed: step Train: AlgorithmError: --n-clusters 12 exceeds the 10"
        " training rows\n")
    assert aws.calls() == [*LOOKUP, start_call(), describe_execution_call(), describe_execution_call(), steps_call()]


def test_pipeline_run_wait_execution_stopped_exits_naming_status(aws: FakeAws) -> None:
    aws.state["pipeline"]["on_start"]["queue"] = ["Stopping", "Stopped"]
    aws.save()

    result = run_ops("pipeline", "run", "--wait", env=aws.env())

    assert result.returncode == 1
    assert result.stderr.endswith("ops: pipeline execution execution001 is Stopped: the service gave no reason\n")


def test_pipeline_run_wait_never_ends_times_out_naming_last_status(aws: FakeAws) -> None:
    aws.state["pipeline"]["on_start"]["queue"] = ["Executing"]
    aws.save()

    result = run_ops("pipeline", "run", "--wait", "--timeout", "1", env=aws.env(OPS_POLL_SECONDS="0.2"))

    assert result.returncode == 1
    assert result.stderr.endswith(
        "ops: timed out after 1s waiting for pipeline execution execution001 to be Succeeded (last status:"
        " Executing). It may still get there; check again with the status subcommand.\n")


def test_pipeline_run_service_refuses_exits_with_service_message(aws: FakeAws) -> None:
    aws.state["errors"]["StartPipelineExecution"] = {
        "code": "ResourceLimitExceeded", "message": "Too many concurrent pipeline executions"}
    aws.save()

    result = run_ops("pipeline", "run", env=aws.env())

    assert result.returncode == 1
    assert result.stderr.endswith(
        "ops: aws sagemaker start-pipeline-execution failed: An error occurred (ResourceLimitExceeded) when calling"
        " the StartPipelineExecution operation: Too many concurrent pipeline executions\n")


# --- pipeline status -----------------------------------------------------------------------------------------


FAILED_STATUS_OUTPUT = (
    f"execution: {EXECUTION_1}\nstatus:    Failed\n"
    "failure:   step Train: AlgorithmError: --n-clusters 12 exceeds the 10 training rows\n\n"
    "  step                 status       failure\n"
    "  Preprocess           Succeeded\n"
    "  Train                Failed       AlgorithmError: --n-clusters 12 exceeds the 10 training rows\n")


def test_pipeline_status_latest_failed_execution_prints_status_reason_and_steps(aws: FakeAws) -> None:
    aws.execution("Failed", steps=TRAIN_FAILED_STEPS, failure_reason=STEP_FAILURE)

    result = run_ops("pipeline", "status", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == FAILED_STATUS_OUTPUT
    assert aws.calls() == [*LOOKUP, LATEST, describe_execution_call(), steps_call()]


def test_pipeline_status_execution_option_shows_that_execution_without_stack_lookup(aws: FakeAws) -> None:
    first = aws.execution("Failed", steps=TRAIN_FAILED_STEPS, failure_reason=STEP_FAILURE)
    aws.execution("Executing")

    result = run_ops("pipeline", "status", "--execution", first, env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == FAILED_STATUS_OUTPUT
    assert aws.calls() == [IDENTITY, describe_execution_call(first), steps_call(first)]


def test_pipeline_status_executing_without_steps_says_none_started(aws: FakeAws) -> None:
    aws.execution("Executing", steps=[])

    result = run_ops("pipeline", "status", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"execution: {EXECUTION_1}\nstatus:    Executing\n\nno step has started yet\n"


def test_pipeline_status_no_executions_says_how_to_start_one(aws: FakeAws) -> None:
    result = run_ops("pipeline", "status", env=aws.env())

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (f"ops: pipeline {PIPELINE} has no executions yet; start one with: scripts/ops pipeline"
                             " run\n")
    assert aws.calls() == [*LOOKUP, LATEST]


def test_pipeline_status_unknown_execution_exits_with_service_message(aws: FakeAws) -> None:
    result = run_ops("pipeline", "status", "--execution", EXECUTION_1, env=aws.env())

    assert result.returncode == 1
    assert result.stderr == (
        "ops: aws sagemaker describe-pipeline-execution failed: An error occurred (ResourceNotFound) when calling the"
        f" DescribePipelineExecution operation: Pipeline execution {EXECUTION_1} does not exist\n")


# --- endpoint list -------------------------------------------------------------------------------------------


ENDPOINT_HEADER = f"endpoint: {ENDPOINT}\nstatus:   InService\nconfig:   {ENDPOINT_CONFIG}\n\n"
VARIANT_HEADER = "  variant          instance type    instances  desired  autoscaling\n"


def test_endpoint_list_in_service_prints_config_instances_and_autoscaling(aws: FakeAws) -> None:
    result = run_ops("endpoint", "list", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == (ENDPOINT_HEADER + VARIANT_HEADER
                             + "  AllTraffic       ml.m5.large      1          1        1-4\n")
    assert aws.calls() == [*LOOKUP, DESCRIBE_ENDPOINT, DESCRIBE_CONFIG, scaling_call(VARIANT_RESOURCE)]


def test_endpoint_list_failed_variant_without_counts_or_scaling_shows_reason_and_gaps(aws: FakeAws) -> None:
    aws.state["endpoint"].update(status="Failed", failure_reason="Image not found",
                                 variants=[["AllTraffic", None, None]])
    aws.state["scalable_targets"] = {}
    aws.save()

    result = run_ops("endpoint", "list", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"endpoint: {ENDPOINT}\nstatus:   Failed\nconfig:   {ENDPOINT_CONFIG}\nfailure:  Image not found\n\n"
        + VARIANT_HEADER + "  AllTraffic       ml.m5.large      -          -        none\n")


def test_endpoint_list_two_variants_scaling_matched_per_variant(aws: FakeAws) -> None:
    aws.state["endpoint"]["variants"] = [["AllTraffic", 2, 3], ["Canary", 1, 1]]
    aws.state["endpoint_configs"][ENDPOINT_CONFIG] = [["AllTraffic", "ml.m5.large"], ["Canary", "ml.c5.xlarge"]]
    aws.state["scalable_targets"] = {VARIANT_RESOURCE: [2, 8]}
    aws.save()

    result = run_ops("endpoint", "list", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == ["  AllTraffic       ml.m5.large      2          3        2-8",
                                               "  Canary           ml.c5.xlarge     1          1        none"]
    assert aws.calls()[-1] == scaling_call(VARIANT_RESOURCE, f"endpoint/{ENDPOINT}/variant/Canary")


def test_endpoint_list_creating_without_variants_skips_autoscaling(aws: FakeAws) -> None:
    aws.state["endpoint"].update(status="Creating", variants=[])
    aws.save()

    result = run_ops("endpoint", "list", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == ENDPOINT_HEADER.replace("InService", "Creating") + "no production variant yet\n"
    assert aws.calls() == [*LOOKUP, DESCRIBE_ENDPOINT, DESCRIBE_CONFIG]


def test_endpoint_list_not_deployed_yet_says_so_without_failing(aws: FakeAws) -> None:
    aws.state["endpoint"]["exists"] = False
    aws.save()

    result = run_ops("endpoint", "list", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"endpoint: {ENDPOINT}\nstatus:   not deployed yet (the pipeline's Deploy step, or"
                             " approving a registered model, creates it)\n")
    assert aws.calls() == [*LOOKUP, DESCRIBE_ENDPOINT]


def test_endpoint_list_describe_denied_exits_with_service_message(aws: FakeAws) -> None:
    aws.state["errors"]["DescribeEndpoint"] = {"code": "AccessDeniedException", "message": "not authorized"}
    aws.save()

    result = run_ops("endpoint", "list", env=aws.env())

    assert result.returncode == 1
    assert result.stderr == ("ops: aws sagemaker describe-endpoint failed: An error occurred (AccessDeniedException)"
                             " when calling the DescribeEndpoint operation: not authorized\n")


# --- artifacts -----------------------------------------------------------------------------------------------


ARTIFACTS_OUTPUT = (
    f"execution: {EXECUTION_1} (Succeeded)\nprefix:    s3://{MODEL_BUCKET}/runs/execution001/\n\n"
    "  artifact  size       object\n"
    "  model     55.5 KiB   training/pipelines-execution001-Train-x1/output/model.tar.gz\n"
    "  spec      1.1 KiB    artifacts/preprocessing_spec.json\n"
    "  metrics   8 B        artifacts/metrics.json\n"
    "  profiles  2.0 KiB    artifacts/segment_profiles.json\n\n"
    "other objects of the run:\n"
    "  15 B       evaluation/evaluation.json\n"
    "  3.2 MiB    preprocess/train/train.csv\n\n"
    f"deployed (s3://{MODEL_BUCKET}/deployed/version.json):\n" + MARKER)


@pytest.mark.parametrize("args", [["artifacts"], ["artifacts", "show"]])
def test_artifacts_latest_run_lists_artifacts_by_kind_with_sizes_and_deployed_marker(
        aws: FakeAws, args: List[str]) -> None:
    aws.execution("Succeeded")
    # Another run's objects, one under a prefix that starts like this run's, must not appear.
    aws.objects({**RUN_OBJECTS, "deployed/version.json": MARKER, "runs/execution002/artifacts/metrics.json": "{}",
                 "runs/execution0010/artifacts/metrics.json": "{}"})

    result = run_ops(*args, env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == ARTIFACTS_OUTPUT
    assert aws.calls() == [*LOOKUP, LATEST, list_objects_call(), MARKER_CALL]


def test_artifacts_failed_run_nothing_deployed_marks_missing_kinds(aws: FakeAws) -> None:
    aws.execution("Failed", steps=TRAIN_FAILED_STEPS, failure_reason=STEP_FAILURE)
    aws.objects({"runs/execution001/preprocess/train/train.csv": 2048})

    result = run_ops("artifacts", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"execution: {EXECUTION_1} (Failed)\nprefix:    s3://{MODEL_BUCKET}/runs/execution001/\n\n"
        "  artifact  size       object\n"
        "  model     -          not written\n"
        "  spec      -          not written\n"
        "  metrics   -          not written\n"
        "  profiles  -          not written\n\n"
        "other objects of the run:\n"
        "  2.0 KiB    preprocess/train/train.csv\n\n"
        f"deployed (s3://{MODEL_BUCKET}/deployed/version.json):\nnothing deployed yet\n")


def test_artifacts_execution_option_shows_that_run(aws: FakeAws) -> None:
    first = aws.execution("Succeeded")
    aws.execution("Executing")
    aws.objects({"runs/execution001/artifacts/metrics.json": '{"k": 4}'})

    result = run_ops("artifacts", "--execution", first, env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"execution: {EXECUTION_1}"
    assert "  metrics   8 B        artifacts/metrics.json" in result.stdout.splitlines()
    assert aws.calls() == [*LOOKUP, list_objects_call("execution001"), MARKER_CALL]


def test_artifacts_no_executions_says_how_to_start_one(aws: FakeAws) -> None:
    result = run_ops("artifacts", env=aws.env())

    assert result.returncode == 1
    assert result.stderr == (f"ops: pipeline {PIPELINE} has no executions yet; start one with: scripts/ops pipeline"
                             " run\n")


def test_artifacts_missing_bucket_exits_with_service_message(aws: FakeAws) -> None:
    aws.execution("Succeeded")
    del aws.state["buckets"][MODEL_BUCKET]
    aws.save()

    result = run_ops("artifacts", env=aws.env())

    assert result.returncode == 1
    assert result.stderr == ("ops: aws s3api list-objects-v2 failed: An error occurred (NoSuchBucket) when calling the"
                             " ListObjectsV2 operation: The specified bucket does not exist\n")


# --- api url and api test ------------------------------------------------------------------------------------


def test_api_url_prints_url_only_on_stdout_and_how_to_read_the_key(aws: FakeAws) -> None:
    result = run_ops("api", "url", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == OUTPUTS["ApiUrl"] + "\n"
    assert result.stderr == (
        f"API key id: {API_KEY_ID}. Requests send its value as the x-api-key header; print the value with:\n"
        f"  aws apigateway get-api-key --api-key {API_KEY_ID} --include-value --query value --output text\n")
    assert aws.calls() == LOOKUP


@pytest.mark.parametrize("subcommand", ["url", "test"])
def test_api_stack_without_api_outputs_says_to_deploy_current_version(aws: FakeAws, subcommand: str) -> None:
    aws.state["stacks"][STACK] = {key: value for key, value in OUTPUTS.items() if not key.startswith("Api")}
    aws.save()

    result = run_ops("api", subcommand, env=aws.env())

    assert result.returncode == 1
    assert result.stderr.startswith(f"ops: stack '{STACK}' has no output 'ApiUrl' (its outputs: DataBucketName,")
    assert result.stderr.endswith("Deploy the current version of the stack with 'cdk deploy'.\n")


IAM_NOTE = (f"the API of stack '{STACK}' uses IAM authorization (api:authorization iam; the stack has no ApiKeyId"
            " output): requests carry a SigV4 signature for the service execute-api, such as curl --aws-sigv4"
            " aws:amz:REGION:execute-api makes, instead of an API key")


def without_api_key_output(aws: FakeAws) -> None:
    del aws.state["stacks"][STACK]["ApiKeyId"]
    aws.save()


def test_api_url_iam_authorization_says_requests_are_signed(aws: FakeAws) -> None:
    without_api_key_output(aws)

    result = run_ops("api", "url", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == OUTPUTS["ApiUrl"] + "\n"
    assert result.stderr == IAM_NOTE + ".\n"


def test_api_test_iam_authorization_exits_saying_it_sends_keys_only(aws: FakeAws) -> None:
    without_api_key_output(aws)

    result = run_ops("api", "test", env=aws.env())

    assert result.returncode == 1
    assert result.stderr == f"ops: {IAM_NOTE}; api test sends an API key, so it cannot call it.\n"
    assert aws.calls() == LOOKUP


@pytest.fixture
def segment_api(aws: FakeAws) -> Iterator[SegmentApi]:
    api = SegmentApi(API_KEY, ENDPOINT)
    aws.state["stacks"][STACK]["ApiUrl"] = api.url
    aws.save()
    yield api
    api.close()


SAMPLE_BODY = ('{"customers":[{"age":34,"income":72000,"purchases":12},{"age":23,"income":28000,"purchases":45},'
               '{"age":61,"income":125000,"purchases":6}]}')
TABLE_HEADER = "  #   age   income     purchases  segment  distance  label\n"


def test_api_test_sample_customers_sends_key_and_prints_segments_table(aws: FakeAws, segment_api: SegmentApi) -> None:
    result = run_ops("api", "test", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        TABLE_HEADER
        + "  1   34    72000      12         3        1.714     Mid-life high income\n"
        + "  2   23    28000      45         2        6.429     Young frequent\n"
        + "  3   61    125000     6          1        0.857     Senior affluent\n"
        + f"\n3 customers, model version 3 on endpoint {ENDPOINT}\n")
    assert result.stderr == f"POST {segment_api.url}segment\n"
    assert segment_api.requests == [{"path": "/prod/segment", "key": API_KEY, "content_type": "application/json",
                                     "body": SAMPLE_BODY}]
    assert aws.calls() == [*LOOKUP, API_KEY_CALL]


def test_api_test_customers_file_any_header_case_sent_as_is(
        aws: FakeAws, segment_api: SegmentApi, tmp_path: Path) -> None:
    body = '{"customers": [{"Age": 45, "INCOME": 51000.5, "purchases": 14}]}\n'
    (tmp_path / "customers.json").write_text(body)

    result = run_ops("api", "test", "--customers", str(tmp_path / "customers.json"), env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout == (TABLE_HEADER + "  1   45    51000.5    14         4        2         Mixed\n"
                             + f"\n1 customers, model version 3 on endpoint {ENDPOINT}\n")
    assert segment_api.requests[0]["body"] == body.rstrip("\n")


def test_api_test_legacy_features_file_prints_features_column(
        aws: FakeAws, segment_api: SegmentApi, tmp_path: Path) -> None:
    (tmp_path / "features.json").write_text('{"features": [[-1.14, -1.13, 0.68], [1.1, 0.45, -0.29]]}')

    result = run_ops("api", "test", "--customers", str(tmp_path / "features.json"), env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == [
        "  #   features                     segment  distance  label",
        "  1   -1.14,-1.13,0.68             0        1.59",
        "  2   1.1,0.45,-0.29               0        1.26"]


def test_api_test_bad_customer_exits_with_api_error_and_field(
        aws: FakeAws, segment_api: SegmentApi, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"customers": [{"age": 30, "income": 1, "purchases": 2},'
                                       ' {"age": 30, "income": -5, "purchases": 2}]}')

    result = run_ops("api", "test", "--customers", str(tmp_path / "bad.json"), env=aws.env())

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.endswith(f"ops: POST {segment_api.url}segment answered HTTP 400: income must be a number"
                                  " >= 0 (field customers[1].income)\n")


def test_api_test_wrong_key_exits_with_forbidden_and_hint(aws: FakeAws, segment_api: SegmentApi) -> None:
    aws.state["api_keys"][API_KEY_ID] = "an-old-key"
    aws.save()

    result = run_ops("api", "test", env=aws.env())

    assert result.returncode == 1
    assert result.stderr.endswith(f"ops: POST {segment_api.url}segment answered HTTP 403: Forbidden (is the API key"
                                  " right? 'scripts/ops api url' shows how to read it)\n")


def test_api_test_api_unreachable_exits_with_curl_error(aws: FakeAws, segment_api: SegmentApi) -> None:
    segment_api.close()

    result = run_ops("api", "test", env=aws.env())

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(f"ops: POST {segment_api.url}segment failed: curl: (7) ")


def test_api_test_key_id_unknown_exits_with_service_message(aws: FakeAws, segment_api: SegmentApi) -> None:
    aws.state["api_keys"] = {}
    aws.save()

    result = run_ops("api", "test", env=aws.env())

    assert result.returncode == 1
    assert result.stderr == ("ops: aws apigateway get-api-key failed: An error occurred (NotFoundException) when"
                             " calling the GetApiKey operation: Invalid API Key identifier specified\n")
    assert segment_api.requests == []


def test_api_test_key_never_in_curl_arguments(aws: FakeAws, segment_api: SegmentApi, tmp_path: Path) -> None:
    real_curl = shutil.which("curl")
    assert real_curl, "curl is not installed: run scripts/setup.sh (it installs the Debian package curl)"
    (tmp_path / "spy").mkdir()
    spy = tmp_path / "spy" / "curl"
    spy.write_text(f'#!/bin/bash\nprintf "%s\\n" "$@" >>"{tmp_path}/curl-args"\nexec {real_curl} "$@"\n')
    spy.chmod(0o755)
    env = aws.env()
    env["PATH"] = f"{spy.parent}{os.pathsep}{env['PATH']}"

    result = run_ops("api", "test", env=env)

    assert result.returncode == 0, result.stderr
    assert segment_api.requests[0]["key"] == API_KEY
    arguments = (tmp_path / "curl-args").read_text()
    assert "--header\n@-\n" in arguments and API_KEY not in arguments


@pytest.mark.parametrize("content", ["not json", "[1, 2]", ""])
def test_api_test_customers_file_not_a_json_object_exits_two(aws: FakeAws, tmp_path: Path, content: str) -> None:
    (tmp_path / "body.json").write_text(content)

    result = run_ops("api", "test", "--customers", str(tmp_path / "body.json"), env=aws.env())

    assert result.returncode == 2
    assert result.stderr == (f"ops: --customers: '{tmp_path}/body.json' does not hold a JSON object (POST /segment"
                             ' takes {"customers":[{"age":34,"income":72000,"purchases":12}, ...]})\n')
    assert aws.calls() == []


# --- dry-run of the pipeline, endpoint, artifacts and api commands ---------------------------------------------


def q(word: str) -> str:
    """A word as the dry-run prints it: bare when the shell reads it back unchanged, else single-quoted."""
    return word if re.fullmatch(r"[A-Za-z0-9_./:=@%+,-]+", word) else f"'{word}'"


def dry_run_lines(names: Dict[str, str]) -> Dict[str, List[str]]:
    """What dry-run prints after the name lookups, per command, for the names the stack gives (or placeholders)."""
    pipeline, endpoint, bucket, url, key_id = (names[k] for k in ("PipelineName", "EndpointName", "ModelBucketName",
                                                                  "ApiUrl", "ApiKeyId"))
    started = "<PipelineExecutionArn from start-pipeline-execution>"
    latest = "<PipelineExecutionArn from list-pipeline-executions>"
    describe = ("+ aws sagemaker describe-pipeline-execution --pipeline-execution-arn {} --query"
                f" '{EXECUTION_QUERY}' --output text")
    steps = ("+ aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn {} --sort-order Ascending"
             f" --query '{STEPS_QUERY}' --output text")
    list_latest = (f"+ aws sagemaker list-pipeline-executions --pipeline-name {q(pipeline)} --sort-by CreationTime"
                   f" --sort-order Descending --max-results 1 --no-paginate --query '{LATEST_QUERY}' --output text")
    start = f"+ aws sagemaker start-pipeline-execution --pipeline-name {q(pipeline)}"
    return {
        "pipeline run": [f"{start} --query PipelineExecutionArn --output text"],
        "pipeline run --param NClusters=5 --param Features=Age,Income,SpendingPower --wait": [
            f"{start} --pipeline-parameters '{PARAMETERS_JSON}' --query PipelineExecutionArn --output text",
            describe.format(q(started)),
            f"# the call above repeats every 0.01s until pipeline execution {started} is Succeeded (timeout 900s)",
            describe.format(q(started)), steps.format(q(started))],
        "pipeline status": [list_latest, describe.format(q(latest)), steps.format(q(latest))],
        "endpoint list": [
            f"+ aws sagemaker describe-endpoint --endpoint-name {q(endpoint)} --query '{ENDPOINT_QUERY}' --output text",
            "+ aws sagemaker describe-endpoint-config --endpoint-config-name '<EndpointConfigName from"
            f" describe-endpoint>' --query '{CONFIG_QUERY}' --output text",
            "+ aws application-autoscaling describe-scalable-targets --service-namespace sagemaker --resource-ids"
            f" 'endpoint/{endpoint}/variant/<VariantName from describe-endpoint>' --scalable-dimension"
            f" {SCALING_DIMENSION} --query '{SCALING_QUERY}' --output text"],
        "artifacts": [
            list_latest,
            f"+ aws s3api list-objects-v2 --bucket {q(bucket)} --prefix 'runs/<execution id from"
            f" list-pipeline-executions>/' --query '{OBJECTS_QUERY}' --output text",
            f"+ aws s3 cp {q(f's3://{bucket}/deployed/version.json')} -"],
        "api url": [url],
        "api test": [
            f"+ aws apigateway get-api-key --api-key {q(key_id)} --include-value --query value --output text",
            "+ curl --silent --show-error --max-time 30 --request POST --header 'Content-Type: application/json'"
            f" --header @- --data-binary '{SAMPLE_BODY}' {q(url.rstrip('/') + '/segment')}",
            f'# curl reads the header "x-api-key: <value of API key {key_id}>" from its standard input'],
    }


NEW_COMMANDS = sorted(dry_run_lines(OUTPUTS))


@pytest.mark.parametrize("command", NEW_COMMANDS)
def test_dry_run_new_commands_with_credentials_print_exact_calls_and_only_look_up(aws: FakeAws, command: str) -> None:
    result = run_ops(*command.split(), "--dry-run", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [*LOOKUP_LINES, *dry_run_lines(OUTPUTS)[command]]
    assert aws.calls() == LOOKUP
    assert aws.load()["pipeline"]["executions"] == []


@pytest.mark.parametrize("command", NEW_COMMANDS)
def test_dry_run_new_commands_without_credentials_print_placeholders(aws: FakeAws, command: str) -> None:
    aws.state["credentials"] = False
    aws.save()

    result = run_ops(*command.split(), "--dry-run", env=aws.env())

    assert result.returncode == 0, result.stderr
    placeholders = {key: f"<{key} from stack {STACK}>" for key in OUTPUTS}
    assert result.stdout.splitlines() == [*LOOKUP_LINES, *dry_run_lines(placeholders)[command]]
    assert aws.calls() == [IDENTITY]


def test_dry_run_pipeline_status_with_execution_makes_no_call_at_all(aws: FakeAws) -> None:
    result = run_ops("pipeline", "status", "--execution", EXECUTION_1, "--dry-run", env=aws.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"+ aws sagemaker describe-pipeline-execution --pipeline-execution-arn {EXECUTION_1} --query"
        f" '{EXECUTION_QUERY}' --output text",
        f"+ aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn {EXECUTION_1} --sort-order Ascending"
        f" --query '{STEPS_QUERY}' --output text"]
    assert aws.calls() == []


@pytest.mark.parametrize("command", NEW_COMMANDS)
def test_new_commands_no_credentials_exit_with_what_to_do(aws: FakeAws, command: str) -> None:
    aws.state["credentials"] = False
    aws.save()

    result = run_ops(*command.replace(" --wait", "").split(), env=aws.env())

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        'ops: no usable AWS credentials (aws sts get-caller-identity: Unable to locate credentials. You can configure'
        ' credentials by running "aws configure".).' + WHAT_TO_DO)
    assert aws.calls() == [IDENTITY]


@pytest.mark.parametrize("command", NEW_COMMANDS)
def test_new_commands_stack_missing_names_stack_and_how_to_choose_it(aws: FakeAws, command: str) -> None:
    result = run_ops(*command.split(), "--stack", "Staging", env=aws.env())

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "ops: stack 'Staging' does not exist in this account and region. Deploy it with 'cdk deploy', or name the"
        " deployed stack with --stack NAME or SEGMENTATION_STACK (and check AWS_REGION).\n")
    assert aws.calls() == [IDENTITY, outputs_call("Staging")]


# --- usage of the pipeline, endpoint, artifacts and api commands -----------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["pipeline", "run", "--param", "NClusters"], "--param needs Name=Value, got 'NClusters'"),
    (["pipeline", "run", "--param", "N_Clusters=3"], "--param 'N_Clusters=3': 'N_Clusters' is not a pipeline"
                                                    " parameter name (letters and digits, hyphens between them, at"
                                                    " most 256)"),
    (["pipeline", "run", "--param", "=3"], "--param '=3': '' is not a pipeline parameter name (letters and digits,"
                                           " hyphens between them, at most 256)"),
    (["pipeline", "run", "--param", "NClusters=3", "--param", "NClusters=4"], "--param NClusters given more than once"),
    (["pipeline", "run", "--param", "DataFile=" + "x" * 1025],
     "--param DataFile: the value has 1025 characters; SageMaker takes at most 1024"),
    ([*["pipeline", "run"], *[arg for i in range(51) for arg in ("--param", f"P{i}=1")]],
     "--param given 51 times; a pipeline execution takes at most 50"),
    (["pipeline", "run", "--param"], "option --param needs a value (see 'scripts/ops --help')"),
    (["pipeline", "run", "--wait", "--wait"],
     "option --wait given more than once (see 'scripts/ops pipeline run --help')"),
    (["pipeline", "run", "--execution", EXECUTION_1],
     "unknown option '--execution' (see 'scripts/ops pipeline run --help')"),
    (["pipeline", "status", "--param", "A=1"], "unknown option '--param' (see 'scripts/ops pipeline status --help')"),
    (["pipeline", "status", "--execution", "execution001"],
     "--execution needs a pipeline execution ARN (arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID), got"
     " 'execution001'"),
    (["pipeline", "status", "--execution", EXECUTION_1, "--execution", EXECUTION_1],
     "option --execution given more than once (see 'scripts/ops pipeline status --help')"),
    (["pipeline"], "no subcommand given for 'pipeline' (see 'scripts/ops pipeline --help')"),
    (["pipeline", "start"], "unknown subcommand 'start' for 'pipeline' (see 'scripts/ops pipeline --help')"),
    (["endpoint", "list", "--wait"], "unknown option '--wait' (see 'scripts/ops endpoint list --help')"),
    (["endpoint", "list", "now"], "unexpected argument 'now' (see 'scripts/ops endpoint list --help')"),
    (["artifacts", "--customers", "c.json"], "unknown option '--customers' (see 'scripts/ops artifacts show --help')"),
    (["artifacts", "--execution", "latest"],
     "--execution needs a pipeline execution ARN (arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID), got"
     " 'latest'"),
    (["api", "test", "--customers", "/no/such/customers.json"],
     "--customers: cannot read the file '/no/such/customers.json'"),
    (["api", "test", "--customers", ""], "--customers: cannot read the file ''"),
    (["pipeline", "status", "--execution="],
     "--execution needs a pipeline execution ARN (arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID), got"
     " ''"),
    (["api", "url", "--customers", "c.json"], "unknown option '--customers' (see 'scripts/ops api url --help')"),
    (["--param", "A=1"], "unknown option '--param' (see 'scripts/ops --help')"),
    (["api", "--wait"], "unknown option '--wait' (see 'scripts/ops api --help')"),
])
def test_usage_new_commands_bad_arguments_exit_two_naming_the_argument(
        aws: FakeAws, args: List[str], message: str) -> None:
    result = run_ops(*args, env=aws.env())

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"ops: {message}\n"
    assert aws.calls() == []


def test_help_top_level_lists_new_commands(aws: FakeAws) -> None:
    result = run_ops("--help", env=aws.env())

    assert result.returncode == 0
    lines = result.stdout.splitlines()
    for command in ("pipeline run", "pipeline status", "endpoint list", "artifacts [show]", "api url", "api test"):
        assert any(line.startswith(f"  {command} ") for line in lines), command


@pytest.mark.parametrize("args, options", [
    (["pipeline", "run"], ["  --param Name=Value  Set a pipeline parameter", "  --wait             Wait until"]),
    (["pipeline", "status"], ["  --execution ARN    The execution to show (default: the latest one)."]),
    (["artifacts"], ["  --execution ARN    The run to show (default: the latest execution of the pipeline)."]),
    (["api", "test"], ["  --customers FILE   JSON file with the request body to send"]),
])
def test_help_subcommand_lists_its_own_options(aws: FakeAws, args: List[str], options: List[str]) -> None:
    result = run_ops(*args, "--help", env=aws.env())

    assert result.returncode == 0
    lines = result.stdout.splitlines()
    start = lines.index("Options of this subcommand:")
    assert [line for line in lines[start + 1:start + 1 + len(options)]] == [
        line for line, expected in zip(lines[start + 1:], options) if line.startswith(expected)]
    assert "Options:" in lines[start:]


@pytest.mark.parametrize("args", [["endpoint", "list"], ["api", "url"]])
def test_help_subcommand_without_own_options_has_no_such_block(aws: FakeAws, args: List[str]) -> None:
    result = run_ops(*args, "--help", env=aws.env())

    assert result.returncode == 0
    assert "Options of this subcommand:" not in result.stdout


# --- static checks -------------------------------------------------------------------------------------------


def test_shellcheck_ops_and_its_group_files_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is not installed: run scripts/setup.sh (it installs the Debian package)"
    files = [OPS, *sorted((ROOT / "scripts" / "ops.d").glob("*.sh"))]

    result = subprocess.run([shellcheck, "-x", *map(str, files)], cwd=ROOT, capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr
    assert len(files) >= 3


def test_ops_is_executable() -> None:
    assert os.access(OPS, os.X_OK)
