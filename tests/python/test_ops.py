"""scripts/ops driven as a subprocess against a strict stand-in `aws` executable.

The stand-in is a small SageMaker/CloudFormation/STS state machine: it answers exactly the AWS CLI calls the
command is meant to make (same arguments, same `--output text` shape as the real CLI), moves the notebook
instance through its states the way SageMaker does (a start is refused unless the instance is Stopped or
Failed, a stop unless it is InService), logs every call, and exits 2 on anything else, so a wrong or
unexpected call fails the test instead of being answered. The stand-in's likeness to the real CLI is itself
tested: the same calls go to the real AWS CLI pointed at a loopback server, and both must print the same.
"""
from __future__ import annotations

import http.server
import json
import os
import shutil
import stat
import subprocess
import threading
import urllib.parse
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "scripts" / "ops"
NOTEBOOK = "customer-segmentation-notebook"
STACK = "CustomerSegmentation"
OUTPUTS_QUERY = "Stacks[0].Outputs[].[OutputKey,OutputValue]"
STATUS_QUERY = "[NotebookInstanceStatus,FailureReason]"
DETAILS_QUERY = "[NotebookInstanceName,NotebookInstanceStatus,InstanceType,Url,FailureReason]"
PRESIGNED_URL = "https://customer-segmentation-notebook.notebook.eu-west-1.sagemaker.aws?authToken=token-123"

FAKE_AWS = r'''#!/usr/bin/python3
"""Stand-in for the AWS CLI: answers the expected calls from the state file, logs every call, exits 2 otherwise."""
import json
import os
import sys

STATE = os.environ["FAKE_AWS_STATE"]
LOG = os.environ["FAKE_AWS_LOG"]
OUTPUTS_QUERY, STATUS_QUERY, DETAILS_QUERY = @QUERIES@
args = sys.argv[1:]
with open(LOG, "a") as log:
    log.write(json.dumps(args) + "\n")
with open(STATE) as f:
    state = json.load(f)
nb = state["notebook"]


def save():
    with open(STATE, "w") as f:
        json.dump(state, f)


def service_error(code, operation, message):
    sys.stderr.write("\nAn error occurred (%s) when calling the %s operation: %s\n" % (code, operation, message))
    sys.exit(254)


def text(value):
    return "None" if value is None else value


def transition(operation, allowed, status, queue):
    if nb["status"] not in allowed:
        service_error("ValidationException", operation, "Status (%s) not in ([%s]). Unable to transition to (%s) "
                      "for Notebook Instance (%s)." % (nb["status"], ", ".join(allowed), status, nb["name"]))
    injected = state["errors"].get(operation)
    if injected:
        service_error(injected["code"], operation, injected["message"])
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
else:
    with open(LOG, "a") as log:
        log.write("UNEXPECTED\n")
    sys.stderr.write("fake aws: unexpected call: %s\n" % " ".join(args))
    sys.exit(2)
'''


class FakeAws:
    """The stand-in's files: a bin folder to put first on PATH, its state and its call log."""

    def __init__(self, folder: Path) -> None:
        self.bin = folder / "bin"
        self.bin.mkdir()
        self.executable = self.bin / "aws"
        queries = repr((OUTPUTS_QUERY, STATUS_QUERY, DETAILS_QUERY))
        self.executable.write_text(FAKE_AWS.replace("@QUERIES@", queries))
        self.executable.chmod(self.executable.stat().st_mode | stat.S_IXUSR)
        self.state_path = folder / "aws-state.json"
        self.log_path = folder / "aws-calls.log"
        self.log_path.write_text("")
        self.state: Dict[str, Any] = {
            "credentials": True,
            "stacks": {STACK: {"DataBucketName": "segmentation-data", "NotebookInstanceName": NOTEBOOK}},
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
        }
        self.save()

    def save(self) -> None:
        self.state_path.write_text(json.dumps(self.state))

    def notebook(self, **changes: Any) -> None:
        self.state["notebook"].update(changes)
        self.save()

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
    """Answers each request with the next canned (status, content type, body) and records what was asked."""

    def __init__(self) -> None:
        self.answers: List[Tuple[int, str, str]] = []
        self.requests: List[Tuple[str, Dict[str, Any]]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                target = self.headers.get("X-Amz-Target")
                if target:
                    outer.requests.append((target, json.loads(body)))
                else:
                    form = dict(urllib.parse.parse_qsl(body))
                    outer.requests.append((form.pop("Action"), form))
                status, content_type, answer = outer.answers.pop(0)
                data = answer.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
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
    "stack outputs": ({}, outputs_call(), stack_xml({"DataBucketName": "segmentation-data",
                                                      "NotebookInstanceName": NOTEBOOK}),
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
}


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
    aws.state["stacks"].update(changes.get("stacks", {}))
    aws.notebook(**changes.get("notebook", {}))
    loopback.answers.append(answer)
    real_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "AKIDLOOPBACK",
                "AWS_SECRET_ACCESS_KEY": "loopback", "AWS_DEFAULT_REGION": "eu-west-1",
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_PAGER": ""}

    real = subprocess.run([cli, "--endpoint-url", loopback.url, *argv], env=real_env, capture_output=True,
                          text=True, timeout=60)
    fake = subprocess.run([str(aws.executable), *argv], env=aws.env(), capture_output=True, text=True)

    assert loopback.requests == [request]
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
    (["bogus"], "unknown command 'bogus' (commands: notebook; see 'scripts/ops --help')"),
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
