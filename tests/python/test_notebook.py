"""notebooks/CustomerSegmentation.ipynb executed headless, top to bottom, in local mode: the local pipeline runner runs
the pipeline definition synthesized from the CDK app (without the Deploy step, which the runner cannot execute yet,
and without bundling the Lambdas, which the runner never runs), and the API cell calls a loopback stand-in of POST
/segment. Also: the notebook is stored without outputs, and notebooks/segmentation_platform.py, whose aws-mode
functions run against botocore's Stubber (it checks every request against the service's model).

Figures use the kernel's inline backend, which renders PNGs without a display; that is how the test sees them.
"""
from __future__ import annotations

import ast
import base64
import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from segment_api_standin import SegmentApi

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "CustomerSegmentation.ipynb"
sys.path.insert(0, str(ROOT / "notebooks"))

import segmentation_platform as platform_access  # noqa: E402

STACK = "CustomerSegmentation"
ENDPOINT = "customer-segmentation-endpoint"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A small sample keeps the run short; the pipeline trains on it after its own 80/20 split.
NOTEBOOK_ENV = {"SEGMENTATION_MODE": "local", "SEGMENTATION_SAMPLE_ROWS": "600", "SEGMENTATION_MAX_K": "6",
                # ipykernel's debugger warns on stderr about frozen modules on every start otherwise.
                "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
CELL_TIMEOUT_SECONDS = 300


def jupyter() -> Any:
    """nbformat and nbclient (Debian python3-nbclient, python3-nbformat, python3-ipykernel; scripts/setup.sh)."""
    try:
        import nbclient
        import nbformat
    except ImportError as error:
        pytest.fail(f"{error.name} is not installed: run scripts/setup.sh (it installs python3-nbclient,"
                    " python3-nbformat, python3-ipykernel and python3-matplotlib)")
    return nbformat, nbclient


def read_notebook() -> Any:
    nbformat, _ = jupyter()
    return nbformat.read(str(NOTEBOOK), as_version=4)


def code_cell(notebook: Any, tag: str) -> Any:
    cells = [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]
    assert len(cells) == 1, f"expected one cell tagged {tag!r}, found {len(cells)}"
    return cells[0]


def execute(notebook: Any, monkeypatch: pytest.MonkeyPatch, env: Dict[str, Optional[str]]) -> Any:
    """Runs the notebook in a fresh kernel started from notebooks/ with env (None unsets); the kernel inherits it."""
    _, nbclient = jupyter()
    for name, value in {**NOTEBOOK_ENV, **env}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_SECONDS, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"a notebook cell failed:\n{error}")
    return notebook


def text_of(cell: Any) -> str:
    return "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")


def html_of(cell: Any) -> str:
    return "".join(output.get("data", {}).get("text/html", "") for output in cell.outputs
                   if output.output_type in ("display_data", "execute_result"))


def images_of(cell: Any) -> List[bytes]:
    return [base64.b64decode(output["data"]["image/png"]) for output in cell.outputs
            if output.output_type == "display_data" and "image/png" in output.get("data", {})]


def seconds(cell: Any) -> float:
    timing = cell.metadata["execution"]
    started, ended = (datetime.datetime.fromisoformat(timing[key].replace("Z", "+00:00"))
                      for key in ("iopub.execute_input", "shell.execute_reply"))
    return (ended - started).total_seconds()


@pytest.fixture(scope="module")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CDK app synthesized as cdk.json configures it, without the Deploy step and without bundling (see above).
    Without the CLI: the app reads its context from CDK_CONTEXT_JSON, so cdk.json's context goes there."""
    dotnet = shutil.which("dotnet")
    assert dotnet, "dotnet is not on PATH: the .NET SDK is needed to synthesize the app (see README.md)"
    out = tmp_path_factory.mktemp("cdk.out")
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context.update({"pipeline:deployStep": False, "aws:cdk:bundling-stacks": []})
    env = {**os.environ, "CDK_OUTDIR": str(out), "CDK_CONTEXT_JSON": json.dumps(context),
           "DOTNET_CLI_TELEMETRY_OPTOUT": "1", "DOTNET_NOLOGO": "1"}
    result = subprocess.run([dotnet, "run", "--project", str(ROOT / "infra" / "Infra")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"synthesis failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return out


@pytest.fixture
def segment_api() -> Iterator[SegmentApi]:
    api = SegmentApi("local-key", ENDPOINT)
    yield api
    api.close()


# --- the notebook, executed ----------------------------------------------------------------------------------


def test_notebook_local_mode_runs_top_to_bottom_training_running_pipeline_and_calling_api(
        cdk_out: Path, segment_api: SegmentApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"

    notebook = execute(read_notebook(), monkeypatch, {
        "SEGMENTATION_WORK_DIR": str(work), "CDK_OUT": str(cdk_out), "SEGMENT_API_URL": segment_api.url,
        "SEGMENT_API_KEY": "local-key", "SEGMENTATION_DATA": None, "SEGMENTATION_FEATURES": None})

    assert text_of(code_cell(notebook, "setup")) == (
        f"mode: local; features: Age, Income, Purchases; work folder: {work}\n")
    assert text_of(code_cell(notebook, "data")).startswith(
        f"{work / 'customers.csv'}: rows read 600, kept 600, dropped 0\n")
    for tag, figures in (("eda-distributions", 1), ("eda-correlations", 2), ("features", 1), ("k-selection", 1),
                         ("segments", 1)):
        images = images_of(code_cell(notebook, tag))
        assert len(images) == figures and all(image.startswith(PNG_SIGNATURE) for image in images), tag
    # The sample has five segments; train.py must find them, and its model files must be where the Train step puts
    # them.
    assert "chosen k: 5 (silhouette " in text_of(code_cell(notebook, "k-selection"))
    assert sorted(p.name for p in (work / "model").iterdir()) == [
        "metrics.json", "model.joblib", "preprocessing_spec.json", "segment_profiles.json"]

    pipeline = code_cell(notebook, "pipeline")
    record_path = next((work / "pipeline").glob("*/execution.json"))
    record = json.loads(record_path.read_text())
    assert f"pipeline execution {record['PipelineExecutionId']}: Succeeded\n" in text_of(pipeline)
    assert record["PipelineExecutionStatus"] == "Succeeded"
    assert record["Parameters"]["DataFile"].endswith("/data/notebooks/customers.csv")
    assert record["Parameters"]["Features"] == "Age,Income,Purchases" and record["Parameters"]["MaxK"] == 6
    assert {step["StepName"]: step["StepStatus"] for step in record["Steps"]}["RegisterModel"] == "Succeeded"
    assert "RegisterModel" in html_of(pipeline) and "Train step metrics" in html_of(pipeline)

    api = code_cell(notebook, "api")
    assert text_of(api) == f"5 customers scored by model version 3 on endpoint {ENDPOINT}\n"
    assert len(segment_api.requests) == 1
    request = segment_api.requests[0]
    assert request["key"] == "local-key" and request["content_type"] == "application/json"
    sent = json.loads(request["body"])["customers"]
    assert len(sent) == 5 and all(sorted(customer) == ["age", "income", "purchases"] for customer in sent)
    for customer in sent:
        assert SegmentApi.LABELS[int(customer["age"] // 10) % 5] in html_of(api)

    durations = {cell.metadata["tags"][0]: seconds(cell) for cell in notebook.cells if cell.cell_type == "code"}
    print("cell seconds: " + ", ".join(f"{tag} {value:.1f}" for tag, value in durations.items()))


@pytest.mark.parametrize("features", ["Age,Income,SpendingPower", "Purchases"])
def test_notebook_other_features_train_and_plot_segments(
        features: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = read_notebook()
    notebook.cells = [code_cell(notebook, tag) for tag in ("setup", "data", "features", "train", "k-selection",
                                                           "segments")]

    execute(notebook, monkeypatch, {"SEGMENTATION_WORK_DIR": str(tmp_path), "SEGMENTATION_FEATURES": features,
                                    "SEGMENTATION_DATA": None})

    names = features.split(",")
    assert f"training matrix: 600 rows x {len(names)} features ({', '.join(names)})" in text_of(
        code_cell(notebook, "features"))
    spec = json.loads((tmp_path / "model" / "preprocessing_spec.json").read_text())
    assert spec["features"] == names
    assert "chosen k: " in text_of(code_cell(notebook, "k-selection"))
    assert len(images_of(code_cell(notebook, "segments"))) == 1


def test_notebook_api_cell_without_api_url_says_api_not_running_and_how_to_start_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = read_notebook()
    notebook.cells = [code_cell(notebook, tag) for tag in ("setup", "data", "api")]

    execute(notebook, monkeypatch, {"SEGMENTATION_WORK_DIR": str(tmp_path), "SEGMENT_API_URL": None,
                                    "SEGMENTATION_DATA": None})

    assert text_of(code_cell(notebook, "api")) == platform_access.API_NOT_RUNNING + "\n"


def test_notebook_unknown_mode_fails_in_setup_naming_valid_modes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, nbclient = jupyter()
    notebook = read_notebook()
    notebook.cells = [code_cell(notebook, "setup")]
    monkeypatch.setenv("SEGMENTATION_MODE", "cloud")
    monkeypatch.setenv("SEGMENTATION_WORK_DIR", str(tmp_path))
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_SECONDS, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})

    with pytest.raises(nbclient.exceptions.CellExecutionError, match="SEGMENTATION_MODE must be 'local' or 'aws',"
                                                                     " got 'cloud'"):
        client.execute()


# --- the notebook, as stored ---------------------------------------------------------------------------------


def test_notebook_stored_without_outputs_or_execution_counts() -> None:
    nbformat, _ = jupyter()
    notebook = read_notebook()

    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert all("execution" not in cell.metadata for cell in code)
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def test_notebook_code_cells_each_tagged_once() -> None:
    tags = [tag for cell in read_notebook().cells if cell.cell_type == "code" for tag in cell.metadata.get("tags", [])]

    assert tags == ["setup", "data", "eda-distributions", "eda-correlations", "features", "train", "k-selection",
                    "segments", "pipeline", "api"]


def test_notebook_imports_train_py_rather_than_copying_it() -> None:
    source = "\n".join(cell.source for cell in read_notebook().cells if cell.cell_type == "code")

    assert "import train" in source and "train.run(train.parse_args([" in source
    assert "KMeans" not in source and "StandardScaler" not in source and "silhouette_score" not in source


# --- segmentation_platform: mode and local pieces --------------------------------------------------------------


@pytest.mark.parametrize("value, mode", [(None, "local"), ("", "local"), ("local", "local"), (" AWS ", "aws")])
def test_choose_mode_valid_values(value: Optional[str], mode: str) -> None:
    assert platform_access.choose_mode(value) == mode


@pytest.mark.parametrize("value", ["cloud", "remote", "locally"])
def test_choose_mode_invalid_value_names_valid_modes(value: str) -> None:
    with pytest.raises(ValueError) as error:
        platform_access.choose_mode(value)

    assert str(error.value) == f"SEGMENTATION_MODE must be 'local' or 'aws', got {value!r}"


def test_local_stack_outputs_synthesized_app_buckets_by_local_name_literals_as_they_are(cdk_out: Path) -> None:
    template = json.loads((cdk_out / f"{STACK}.template.json").read_text())

    outputs = platform_access.local_stack_outputs(cdk_out)

    assert outputs["DataBucketName"] == template["Outputs"]["DataBucketName"]["Value"]["Ref"].lower()
    assert outputs["ModelBucketName"].startswith("storagemodelbucket")
    assert outputs["PipelineName"] == "customer-segmentation-training"
    assert "NotebookInstanceName" not in outputs  # a Fn::GetAtt only a deployment resolves


def test_local_stack_outputs_named_stack_same_as_only_stack(cdk_out: Path) -> None:
    assert platform_access.local_stack_outputs(cdk_out, STACK) == platform_access.local_stack_outputs(cdk_out)


def test_local_stack_outputs_unknown_stack_lists_stacks(cdk_out: Path) -> None:
    with pytest.raises(ValueError) as error:
        platform_access.local_stack_outputs(cdk_out, "Staging")

    assert str(error.value) == f"stack 'Staging' is not in {cdk_out}; its stacks: {STACK}"


def test_local_stack_outputs_not_synthesized_says_how_to_synthesize(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as error:
        platform_access.local_stack_outputs(tmp_path / "cdk.out")

    assert str(error.value) == (
        f"no synthesized app in {tmp_path / 'cdk.out'} (manifest.json is missing): synthesize it with scripts/run.sh,"
        " or set CDK_OUT to the cdk.out folder of a synthesized app")


def test_runner_command_uploads_data_then_passes_each_parameter() -> None:
    command = platform_access.runner_command(Path("/repo"), Path("/repo/cdk.out"), "customer-segmentation-training",
                                             Path("/w"), Path("/d/c.csv"), "s3://data/data/notebooks/c.csv",
                                             {"Features": "Age,SpendingPower", "NClusters": "0"}, "abc123")

    assert command == ["dotnet", "run", "--project", "/repo/infra/LocalPipelineRunner", "--", "--cdk-out",
                       "/repo/cdk.out", "--pipeline", "customer-segmentation-training", "--work-dir", "/w",
                       "--execution-id", "abc123", "--upload",
                       "/d/c.csv=s3://data/data/notebooks/c.csv", "--param", "Features=Age,SpendingPower",
                       "--param", "NClusters=0"]


def write_record(folder: Path, status: str, steps: List[Dict[str, Any]]) -> Path:
    """An execution.json shaped as the runner's ExecutionRecord writes it."""
    folder.mkdir(parents=True)
    path = folder / "execution.json"
    path.write_text(json.dumps({
        "PipelineName": "customer-segmentation-training",
        "PipelineExecutionArn": f"arn:aws:sagemaker:us-east-1:000000000000:pipeline/customer-segmentation-training/"
                                f"execution/{folder.name}",
        "PipelineExecutionId": folder.name, "PipelineExecutionStatus": status,
        **({"FailureReason": "Step Train failed"} if status == "Failed" else {}),
        "StartTime": "2026-11-25T13:00:00+00:00", "EndTime": "2026-11-25T13:00:09+00:00", "Parameters": {},
        "Steps": steps, "ExecutionDirectory": str(folder)}))
    return path


# Stands in for the runner process only: output on both streams, then the exit code it is given.
FAKE_RUNNER = ("import sys\nprint('step one', flush=True)\nprint('step two', file=sys.stderr, flush=True)\n"
               "sys.exit(int(sys.argv[1]))\n")


def test_run_local_pipeline_failed_execution_is_a_result_with_its_steps(tmp_path: Path) -> None:
    write_record(tmp_path / "run1", "Failed", [
        {"StepName": "Preprocess", "StepType": "Processing", "StepStatus": "Succeeded"},
        {"StepName": "Train", "StepType": "Training", "StepStatus": "Failed", "FailureReason": "AlgorithmError: x"}])
    echoed: List[str] = []

    execution = platform_access.run_local_pipeline([sys.executable, "-c", FAKE_RUNNER, "1"], tmp_path, tmp_path,
                                                   "run1", echoed.append)

    assert echoed == ["step one", "step two"]
    assert (execution.id, execution.status, execution.failure_reason) == ("run1", "Failed", "Step Train failed")
    assert [(s.name, s.status, s.failure_reason) for s in execution.steps] == [
        ("Preprocess", "Succeeded", None), ("Train", "Failed", "AlgorithmError: x")]
    assert platform_access.steps_table(execution).to_dict("records") == [
        {"step": "Preprocess", "status": "Succeeded", "failure reason": ""},
        {"step": "Train", "status": "Failed", "failure reason": "AlgorithmError: x"}]


def test_run_local_pipeline_runner_refuses_input_raises_with_its_last_lines(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError) as error:
        platform_access.run_local_pipeline([sys.executable, "-c", FAKE_RUNNER, "2"], tmp_path, tmp_path, "run1",
                                           lambda line: None)

    assert str(error.value).startswith("the local pipeline runner exited with code 2 without an execution record;"
                                       " its last lines: step ")


def test_train_metrics_from_train_step_metadata(tmp_path: Path) -> None:
    path = write_record(tmp_path / "run1", "Succeeded", [
        {"StepName": "Train", "StepType": "Training", "StepStatus": "Succeeded", "Metadata": {
            "FinalMetricDataList": [{"MetricName": "silhouette", "Value": 0.84}, {"MetricName": "k", "Value": 5}]}}])

    execution = platform_access.read_execution_record(path)

    assert platform_access.train_metrics(execution) == {"silhouette": 0.84, "k": 5}
    assert platform_access.train_metrics(platform_access.Execution("arn:x/execution/y", "Succeeded")) == {}


# --- segmentation_platform: aws mode against botocore's Stubber ------------------------------------------------


def stubbed(service: str) -> Any:
    try:
        import boto3
        from botocore.stub import Stubber
    except ImportError:
        pytest.fail("boto3 is not installed: run scripts/setup.sh (it installs python3-boto3)")
    client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="AKIDSTUB",
                          aws_secret_access_key="stub")
    return client, Stubber(client)


EXECUTION_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/customer-segmentation-training/execution/abc123"


def test_stack_outputs_maps_keys_to_values() -> None:
    client, stub = stubbed("cloudformation")
    stub.add_response("describe_stacks", {"Stacks": [{
        "StackName": STACK, "CreationTime": datetime.datetime(2026, 11, 25), "StackStatus": "CREATE_COMPLETE",
        "Outputs": [{"OutputKey": "PipelineName", "OutputValue": "customer-segmentation-training"},
                    {"OutputKey": "ApiKeyId", "OutputValue": "k7x2"}]}]}, {"StackName": STACK})

    with stub:
        assert platform_access.stack_outputs(client, STACK) == {"PipelineName": "customer-segmentation-training",
                                                                "ApiKeyId": "k7x2"}
    stub.assert_no_pending_responses()


def test_upload_training_data_puts_csv_under_data_notebooks(tmp_path: Path) -> None:
    data = tmp_path / "customers.csv"
    data.write_text("Age,Gender,Income,Purchases\n34,Female,72000,12\n")
    client, stub = stubbed("s3")
    stub.add_response("put_object", {}, {"Bucket": "segmentation-data", "Key": "data/notebooks/customers.csv",
                                         "Body": data.read_bytes(), "ContentType": "text/csv"})

    with stub:
        uri = platform_access.upload_training_data(client, "segmentation-data", data)

    assert uri == "s3://segmentation-data/data/notebooks/customers.csv"
    stub.assert_no_pending_responses()


def test_start_pipeline_sends_parameters_as_strings() -> None:
    client, stub = stubbed("sagemaker")
    # The Stubber sees the call before botocore fills the idempotency token ClientRequestToken in.
    stub.add_response("start_pipeline_execution", {"PipelineExecutionArn": EXECUTION_ARN}, {
        "PipelineName": "customer-segmentation-training",
        "PipelineParameters": [{"Name": "NClusters", "Value": "0"}, {"Name": "MaxK", "Value": "6"}]})

    with stub:
        arn = platform_access.start_pipeline(client, "customer-segmentation-training", {"NClusters": 0, "MaxK": "6"})

    assert arn == EXECUTION_ARN


def add_describe(stub: Any, status: str, steps_pages: List[List[Dict[str, Any]]], reason: Optional[str] = None) -> None:
    stub.add_response("describe_pipeline_execution", {
        "PipelineExecutionArn": EXECUTION_ARN, "PipelineExecutionStatus": status,
        **({"FailureReason": reason} if reason else {})}, {"PipelineExecutionArn": EXECUTION_ARN})
    for number, page in enumerate(steps_pages):
        last = number == len(steps_pages) - 1
        stub.add_response("list_pipeline_execution_steps", {
            "PipelineExecutionSteps": page, **({} if last else {"NextToken": f"page{number + 1}"})},
            {"PipelineExecutionArn": EXECUTION_ARN, "SortOrder": "Ascending",
             **({"NextToken": f"page{number}"} if number else {})})


def step(name: str, status: str, reason: Optional[str] = None) -> Dict[str, Any]:
    return {"StepName": name, "StepStatus": status, **({"FailureReason": reason} if reason else {})}


def test_describe_execution_reads_every_page_of_steps() -> None:
    client, stub = stubbed("sagemaker")
    add_describe(stub, "Failed", [[step("Preprocess", "Succeeded")], [step("Train", "Failed", "AlgorithmError: x")]],
                 reason="Step failure: One or multiple steps failed.")

    with stub:
        execution = platform_access.describe_execution(client, EXECUTION_ARN)

    assert (execution.id, execution.status, execution.failure_reason) == (
        "abc123", "Failed", "Step failure: One or multiple steps failed.")
    assert [(s.name, s.status, s.failure_reason) for s in execution.steps] == [
        ("Preprocess", "Succeeded", None), ("Train", "Failed", "AlgorithmError: x")]
    stub.assert_no_pending_responses()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: List[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_follow_execution_polls_until_finished_echoing_changes_only() -> None:
    client, stub = stubbed("sagemaker")
    add_describe(stub, "Executing", [[]])
    add_describe(stub, "Executing", [[step("Preprocess", "Executing")]])
    add_describe(stub, "Executing", [[step("Preprocess", "Executing")]])
    add_describe(stub, "Succeeded", [[step("Preprocess", "Succeeded"), step("Train", "Succeeded")]])
    clock, echoed = Clock(), []

    with stub:
        execution = platform_access.follow_execution(client, EXECUTION_ARN, poll_seconds=30, echo=echoed.append,
                                                     sleep=clock.sleep, clock=lambda: clock.now)

    assert execution.status == "Succeeded"
    assert echoed == ["[    0 s] abc123: Executing (no step started yet)",
                      "[   30 s] abc123: Executing (Preprocess Executing)",
                      "[   90 s] abc123: Succeeded (Preprocess Succeeded, Train Succeeded)"]
    assert clock.sleeps == [30, 30, 30]
    stub.assert_no_pending_responses()


def test_follow_execution_never_finishing_times_out_saying_how_to_follow_it() -> None:
    client, stub = stubbed("sagemaker")
    for _ in range(3):
        add_describe(stub, "Executing", [[step("Train", "Executing")]])
    clock = Clock()

    with stub, pytest.raises(TimeoutError) as error:
        platform_access.follow_execution(client, EXECUTION_ARN, poll_seconds=50, timeout_seconds=100,
                                         echo=lambda line: None, sleep=clock.sleep, clock=lambda: clock.now)

    assert str(error.value) == (f"pipeline execution abc123 is still Executing after 100 s; it carries on in SageMaker:"
                                f" follow it with scripts/ops pipeline status --execution {EXECUTION_ARN}")


def test_api_key_value_reads_value_with_include_value() -> None:
    client, stub = stubbed("apigateway")
    stub.add_response("get_api_key", {"id": "k7x2", "value": "secret"}, {"apiKey": "k7x2", "includeValue": True})

    with stub:
        assert platform_access.api_key_value(client, "k7x2") == "secret"


# --- segmentation_platform: the API --------------------------------------------------------------------------


CUSTOMERS = [{"age": 34.0, "income": 72000.0, "purchases": 14.0}, {"age": 61.0, "income": 125000.0, "purchases": 7.0}]


def test_post_segment_sends_customers_with_key_and_returns_answer(segment_api: SegmentApi) -> None:
    answer = platform_access.post_segment(segment_api.url, CUSTOMERS, "local-key")

    assert answer == {"predictions": [
        {"closest_cluster": 3, "distance_to_cluster": 2.0, "segment_label": "Mid-life high income"},
        {"closest_cluster": 1, "distance_to_cluster": 1.0, "segment_label": "Senior affluent"}],
        "endpoint": ENDPOINT, "model_version": "3", "features_processed": 2}
    assert json.loads(segment_api.requests[0]["body"]) == {"customers": CUSTOMERS}
    assert platform_access.segments_table(CUSTOMERS, answer).to_dict("records") == [
        {**CUSTOMERS[0], "segment": 3, "distance": 2.0, "label": "Mid-life high income"},
        {**CUSTOMERS[1], "segment": 1, "distance": 1.0, "label": "Senior affluent"}]


def test_post_segment_bad_customer_raises_with_api_error_and_field(segment_api: SegmentApi) -> None:
    with pytest.raises(platform_access.SegmentApiError) as error:
        platform_access.post_segment(segment_api.url, [CUSTOMERS[0], {"age": 30, "income": -1, "purchases": 2}],
                                     "local-key")

    assert str(error.value) == (f"POST {segment_api.url}segment answered HTTP 400: income must be a number >= 0"
                                " (field customers[1].income)")


def test_post_segment_without_key_raises_forbidden(segment_api: SegmentApi) -> None:
    with pytest.raises(platform_access.SegmentApiError) as error:
        platform_access.post_segment(segment_api.url, CUSTOMERS)

    assert str(error.value) == f"POST {segment_api.url}segment answered HTTP 403: Forbidden"


def test_post_segment_nothing_listening_raises_naming_url(segment_api: SegmentApi) -> None:
    segment_api.close()

    with pytest.raises(platform_access.SegmentApiError) as error:
        platform_access.post_segment(segment_api.url, CUSTOMERS, "local-key", timeout=5)

    assert str(error.value).startswith(f"POST {segment_api.url}segment failed: [Errno 111] Connection refused")


def test_notebook_helper_module_parses_as_python_3_9() -> None:
    source = (ROOT / "notebooks" / "segmentation_platform.py").read_text()

    ast.parse(source, feature_version=(3, 9))
    assert "from __future__ import annotations" in source
