"""scripts/local/model_server.py: the sklearn container's serving contract, its pure request functions in process and
the real command serving inference.py with a model that train.py trained."""
from __future__ import annotations

import ast
import io
import json
import os
import signal
import subprocess
import sys
import threading
import types
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import joblib
import numpy as np
import pytest

import segments
from local import model_server
from sample_data.customers import generate

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "scripts" / "local" / "model_server.py"
CODE = ROOT / "scripts" / "sagemaker"
PYTHON = sys.executable


# ---------------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------------

def module(name: str = "user_module", **functions: object) -> types.ModuleType:
    result = types.ModuleType(name)
    for key, value in functions.items():
        setattr(result, key, value)
    return result


class Doubling:
    """A model for the default predict_fn: anything with predict()."""

    def predict(self, data: np.ndarray) -> np.ndarray:
        return np.asarray(data) * 2


def request(url: str, method: str = "GET", body: bytes = b"",
            headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
    call = urllib.request.Request(url, data=body if method == "POST" else None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def invoke(handlers: model_server.Handlers, model: object, body: bytes, content_type: str = "application/json",
           accept: str = "application/json") -> Tuple[model_server.Reply, List[str]]:
    logged: List[str] = []
    return model_server.invoke(handlers, model, body, content_type, accept, logged.append), logged


def error_of(reply: model_server.Reply) -> Dict[str, str]:
    assert reply.content_type == "application/json"
    return json.loads(reply.body)


# ---------------------------------------------------------------------------------------------------------------------
# The user module and the container's defaults
# ---------------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("program,expected", [("inference.py", "inference"), ("serve", "serve")])
def test_module_name_programFile_isImportName(program, expected):
    assert model_server.module_name(program) == expected


@pytest.mark.parametrize("program", ["", ".py", "code/inference.py"])
def test_module_name_notAFileName_isRefused(program):
    with pytest.raises(model_server.ModuleContractError) as error:
        model_server.module_name(program)
    assert str(error.value) == "program %r must be a file name in the code directory, like inference.py" % program


def test_handlers_of_onlyModelFn_getsContainerDefaults():
    handlers = model_server.handlers_of(module(model_fn=lambda model_dir: None))
    assert handlers.input_fn is model_server.default_input_fn
    assert handlers.predict_fn is model_server.default_predict_fn
    assert handlers.output_fn is model_server.default_output_fn
    assert handlers.transform_fn is None


def test_handlers_of_noModelFn_isRefused():
    with pytest.raises(model_server.ModuleContractError) as error:
        model_server.handlers_of(module("serve", predict_fn=lambda data, model: data))
    assert str(error.value) == "serve defines no model_fn(model_dir); the scikit-learn container requires one"


def test_handlers_of_transformFnWithInputFn_isRefused():
    with pytest.raises(model_server.ModuleContractError) as error:
        model_server.handlers_of(module("serve", model_fn=len, transform_fn=len, input_fn=len))
    assert str(error.value) == ("serve defines transform_fn together with input_fn, predict_fn and/or output_fn; the "
                                "container accepts one or the other")


def test_load_handlers_missingProgram_namesFileAndDirectory(tmp_path):
    with pytest.raises(model_server.ModuleContractError) as error:
        model_server.load_handlers(str(tmp_path), "absent.py")
    assert str(error.value) == "absent.py not found in the code directory %s" % tmp_path


@pytest.mark.parametrize("headers,expected", [
    ({}, "application/json"),
    ({"content-type": "text/csv"}, "text/csv"),
    ({"contenttype": "application/x-npy", "content-type": "text/csv"}, "application/x-npy"),
])
def test_request_content_type_headersOrJson(headers, expected):
    assert model_server.request_content_type(headers) == expected


@pytest.mark.parametrize("headers,environ,expected", [
    ({}, {}, "application/json"),
    ({"accept": "*/*"}, {}, "application/json"),
    ({"accept": "*/*"}, {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}, "text/csv"),
    ({}, {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}, "text/csv"),
    ({"accept": "application/x-npy"}, {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}, "application/x-npy"),
])
def test_response_accept_missingOrAnyMeansDefault(headers, environ, expected):
    assert model_server.response_accept(headers, environ) == expected


def test_lower_case_names_firstRepeatedHeaderWins():
    assert model_server.lower_case_names([("Content-Type", "text/csv"), ("CONTENT-TYPE", "application/json"),
                                          ("Accept", "*/*")]) == {"content-type": "text/csv", "accept": "*/*"}


@pytest.mark.parametrize("content_type,expected", [
    ("application/json", "[1]"), ("text/csv", "[1]"), ("application/json; charset=utf-8", b"[1]"),
    ("application/x-npy", b"[1]"),
])
def test_request_body_textOnlyForExactUtf8Types(content_type, expected):
    assert model_server.request_body(b"[1]", content_type) == expected


def test_default_input_fn_json_isFloat32Array():
    data = model_server.default_input_fn("[[1, 2], [3, 4.5]]", "application/json")
    assert data.dtype == np.float32 and data.tolist() == [[1, 2], [3, 4.5]]


def test_default_input_fn_csv_rowsSqueezedToFloat32():
    assert model_server.default_input_fn("1,2\n3,4\n", "text/csv").tolist() == [[1, 2], [3, 4]]
    assert model_server.default_input_fn("1,2\n", "text/csv").tolist() == [1, 2]


def test_default_input_fn_npy_roundTrips():
    buffer = io.BytesIO()
    np.save(buffer, np.array([[1.5, 2.5]]))
    assert model_server.default_input_fn(buffer.getvalue(), "application/x-npy").tolist() == [[1.5, 2.5]]


def test_default_input_fn_pickledNpy_isRefused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError) as error:
        model_server.default_input_fn(buffer.getvalue(), "application/x-npy")
    assert "allow_pickle=False" in str(error.value)


@pytest.mark.parametrize("body,content_type", [("[[1, \"x\"]]", "application/json"), ("1,x\n", "text/csv"),
                                               ("{not json", "application/json")])
def test_default_input_fn_notNumbers_isValueError(body, content_type):
    with pytest.raises(ValueError):
        model_server.default_input_fn(body, content_type)


def test_default_input_fn_otherType_isUnsupported():
    with pytest.raises(model_server.UnsupportedFormatError) as error:
        model_server.default_input_fn("x", "text/plain")
    assert str(error.value) == "Content type text/plain is not supported by this framework."


def test_default_output_fn_encodesAsAccepted():
    prediction = np.array([1.5, 2.0])
    assert model_server.default_output_fn(prediction, "application/json") == ("[1.5, 2.0]", "application/json")
    assert model_server.default_output_fn(prediction, "text/csv") == ("1.5\n2.0\n", "text/csv")
    assert model_server.default_output_fn(np.array([[1, 2]]), "text/csv") == ("1,2\n", "text/csv")
    npy, content_type = model_server.default_output_fn(prediction, "application/x-npy")
    assert content_type == "application/x-npy" and np.load(io.BytesIO(npy)).tolist() == [1.5, 2.0]


def test_default_output_fn_otherAccept_isUnsupported():
    with pytest.raises(model_server.UnsupportedFormatError) as error:
        model_server.default_output_fn(np.array([1]), "application/xml")
    assert str(error.value) == "Content type application/xml is not supported by this framework."


# ---------------------------------------------------------------------------------------------------------------------
# invoke: statuses and bodies
# ---------------------------------------------------------------------------------------------------------------------

DEFAULTS = model_server.handlers_of(module(model_fn=lambda model_dir: Doubling()))


def test_invoke_defaults_predictWithModel():
    reply, logged = invoke(DEFAULTS, Doubling(), b"[[1, 2]]")
    assert reply == model_server.Reply(200, "application/json", b"[[2.0, 4.0]]")
    assert logged == []


def test_invoke_defaultsCsvInCsvOut_rowsPerLine():
    reply, _ = invoke(DEFAULTS, Doubling(), b"1,2\n3,4\n", "text/csv", "text/csv")
    assert reply == model_server.Reply(200, "text/csv", b"2.0,4.0\n6.0,8.0\n")


def test_invoke_defaultsUnsupportedContentType_is415():
    reply, _ = invoke(DEFAULTS, Doubling(), b"1 2", "text/plain")
    assert reply.status == 415
    assert error_of(reply) == {"error": "UnsupportedFormatError",
                               "error-message": "Content type text/plain is not supported by this framework."}


def test_invoke_defaultsUnsupportedAccept_is406():
    reply, _ = invoke(DEFAULTS, Doubling(), b"[1]", accept="application/xml")
    assert reply.status == 406
    assert error_of(reply)["error-message"] == "Content type application/xml is not supported by this framework."


def test_invoke_moduleValueError_is400WithMessage():
    def input_fn(body, content_type):
        raise ValueError("row 3: age must be a number\nsecond line is not sent")

    handlers = model_server.handlers_of(module(model_fn=len, input_fn=input_fn))
    reply, logged = invoke(handlers, None, b"[]")
    assert reply.status == 400
    assert error_of(reply) == {"error": "ValueError", "error-message": "row 3: age must be a number"}
    assert logged == []


def test_invoke_bodyNotUtf8_is400():
    reply, _ = invoke(DEFAULTS, Doubling(), b"\xff\xfe", "text/csv")
    assert reply.status == 400
    assert error_of(reply)["error"] == "UnicodeDecodeError"


@pytest.mark.parametrize("stage", ["input_fn", "predict_fn", "output_fn"])
def test_invoke_unexpectedError_is500WithoutTracebackAndLogsIt(stage):
    def broken(*args):
        raise KeyError("centroids")

    functions = {"input_fn": lambda body, content_type: body, "predict_fn": lambda data, model: data,
                 "output_fn": lambda prediction, accept: prediction}
    functions[stage] = broken
    handlers = model_server.handlers_of(module(model_fn=len, **functions))
    reply, logged = invoke(handlers, None, b"[1]")
    assert reply.status == 500
    assert error_of(reply) == {"error": "KeyError", "error-message": "'centroids'"}
    assert b"Traceback" not in reply.body
    assert len(logged) == 1 and logged[0].startswith("%s failed:\nTraceback" % stage)


def test_invoke_outputFnReturnsTuple_usesItsContentType():
    handlers = model_server.handlers_of(module(model_fn=len, input_fn=lambda body, ct: body,
                                               predict_fn=lambda data, model: data,
                                               output_fn=lambda prediction, accept: (prediction, "text/plain")))
    reply, _ = invoke(handlers, None, b"hello")
    assert reply == model_server.Reply(200, "text/plain", b"hello")


def test_invoke_outputFnReturnsNumber_is500():
    handlers = model_server.handlers_of(module(model_fn=len, input_fn=lambda body, ct: body,
                                               predict_fn=lambda data, model: data,
                                               output_fn=lambda prediction, accept: 42))
    reply, logged = invoke(handlers, None, b"[1]")
    assert reply.status == 500
    assert error_of(reply) == {"error": "TypeError", "error-message": "the response body must be str or bytes, got int"}
    assert logged and logged[0].startswith("output_fn failed:")


def test_invoke_transformFn_getsModelBodyTypes():
    seen = []

    def transform_fn(model, body, content_type, accept):
        seen.append((model, body, content_type, accept))
        return "done"

    handlers = model_server.handlers_of(module(model_fn=len, transform_fn=transform_fn))
    reply, _ = invoke(handlers, "model", b"1,2", "text/csv", "text/csv")
    assert reply == model_server.Reply(200, "text/csv", b"done")
    assert seen == [("model", "1,2", "text/csv", "text/csv")]


# ---------------------------------------------------------------------------------------------------------------------
# The HTTP server in process: ping before and after model_fn
# ---------------------------------------------------------------------------------------------------------------------

@pytest.fixture
def gated_server() -> Iterator[Tuple[model_server.ModelServer, threading.Event]]:
    release = threading.Event()

    def model_fn(model_dir):
        assert release.wait(30), "the test never released model_fn"
        return Doubling()

    server = model_server.ModelServer(model_server.handlers_of(module(model_fn=model_fn)), "/model", "127.0.0.1", 0,
                                      {})
    serving = threading.Thread(target=server.serve)
    serving.start()
    loading = threading.Thread(target=server.load)
    loading.start()
    yield server, release
    release.set()
    loading.join()
    server.stop()
    serving.join(10)
    assert not serving.is_alive()


def test_server_pingWhileModelLoads_is503ThenPingIs200(gated_server):
    server, release = gated_server
    status, _, body = request(server.url + "/ping")
    assert status == 503
    assert json.loads(body)["error-message"] == "the model is loading: model_fn has not returned yet"
    assert request(server.url + "/invocations", "POST", b"[1]")[0] == 503

    release.set()
    assert server.loaded.wait(10)
    assert request(server.url + "/ping")[0] == 200
    status, headers, body = request(server.url + "/invocations", "POST", b"[1, 2]",
                                    {"Content-Type": "application/json"})
    assert (status, headers["Content-Type"], body) == (200, "application/json", b"[2.0, 4.0]")


@pytest.mark.parametrize("method,path", [("GET", "/invocations"), ("POST", "/ping"), ("GET", "/"),
                                         ("POST", "/endpoints/x/invocations")])
def test_server_otherRoutes_are404(gated_server, method, path):
    server, release = gated_server
    release.set()
    status, _, body = request(server.url + path, method, b"[1]")
    assert status == 404
    assert json.loads(body)["error-message"] == \
        "%s %s: this server answers GET /ping and POST /invocations" % (method, path)


# ---------------------------------------------------------------------------------------------------------------------
# The command, serving the real inference.py with a model train.py trained
# ---------------------------------------------------------------------------------------------------------------------

class Running:
    def __init__(self, process: subprocess.Popen, url: str) -> None:
        self.process = process
        self.url = url

    def stop(self) -> Tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=30)
        return self.process.returncode, stderr


def start(model_dir: Path, code_dir: Path, *extra: str, env: Optional[Dict[str, str]] = None,
          python: str = PYTHON) -> Running:
    process = subprocess.Popen([python, str(SERVER), "--model-dir", str(model_dir), "--code-dir", str(code_dir),
                                "--host", "127.0.0.1", "--port", "0", *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, OMP_NUM_THREADS="1", **(env or {})))
    line = process.stdout.readline()
    if not line.startswith("LISTENING http://127.0.0.1:"):
        process.kill()
        raise AssertionError("no LISTENING line: %r\nstderr:\n%s" % (line, process.communicate()[1]))
    return Running(process, line.split(" ", 1)[1].strip())


def wait_until_pinged(running: Running) -> None:
    for _ in range(600):
        if request(running.url + "/ping")[0] == 200:
            return
        assert running.process.poll() is None, running.process.communicate()[1]
        threading.Event().wait(0.05)
    raise AssertionError("/ping never answered 200")


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("trained")
    (work / "train").mkdir()
    generate(rows=900, seed=5, segments=3).frame.to_csv(work / "train" / "customers.csv", index=False)
    result = subprocess.run([PYTHON, str(CODE / "train.py"), "--n-clusters", "3", "--model-dir", str(work / "model"),
                             "--train", str(work / "train")], capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert result.returncode == 0, result.stderr
    return work / "model"


@pytest.fixture(scope="module")
def served(trained_model) -> Iterator[Running]:
    running = start(trained_model, CODE)
    wait_until_pinged(running)
    yield running
    running.stop()


ROWS = [[0.0, 0.0, 0.0], [1.5, -0.7, 0.2], [-1.1, 2.0, -0.4]]


def expected(model_dir: Path) -> List[Dict[str, object]]:
    ids, distances = segments.assign_segments(joblib.load(model_dir / "model.joblib"), np.array(ROWS))
    return [{"closest_cluster": int(i), "distance_to_cluster": float(d)} for i, d in zip(ids, distances)]


def test_command_jsonInvocation_answersInferencePredictions(served, trained_model):
    status, headers, body = request(served.url + "/invocations", "POST", json.dumps({"instances": ROWS}).encode(),
                                    {"Content-Type": "application/json", "Accept": "application/json"})
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(body) == {"predictions": expected(trained_model)}


def test_command_csvInvocation_answersSamePredictions(served, trained_model):
    csv_body = "".join(",".join(repr(value) for value in row) + "\n" for row in ROWS).encode()
    status, _, body = request(served.url + "/invocations", "POST", csv_body, {"Content-Type": "text/csv"})
    assert status == 200
    assert json.loads(body) == {"predictions": expected(trained_model)}


@pytest.mark.parametrize("body,content_type,message", [
    (b"1 2 3", "text/plain", "unsupported content type 'text/plain': use application/json or text/csv"),
    (b"[[1, 2]]", "application/json", "row 0: expected 3 values (Age, Income, Purchases), got 2"),
    (b"0,0,0\n1,abc,3", "text/csv", "row 1, column 1 (Income): 'abc' is not a number"),
    (b"[]", "application/json", "the batch is empty: send at least one row of 3 features (Age, Income, Purchases)"),
])
def test_command_badInput_is400WithInferenceMessage(served, body, content_type, message):
    status, _, answer = request(served.url + "/invocations", "POST", body, {"Content-Type": content_type})
    assert status == 400
    assert json.loads(answer) == {"error": "InvalidInputError", "error-message": message}


def test_command_badAccept_is400WithInferenceMessage(served):
    status, _, answer = request(served.url + "/invocations", "POST", b"[[0, 0, 0]]",
                                {"Content-Type": "application/json", "Accept": "text/csv"})
    assert status == 400
    assert json.loads(answer)["error-message"] == \
        "unsupported Accept 'text/csv': this endpoint answers application/json"


def test_command_invalidContentLength_is400(served):
    import http.client

    host, port = served.url[len("http://"):].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/invocations")
    connection.putheader("Content-Length", "-1")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 400
    assert json.loads(response.read())["error-message"] == "Content-Length '-1' is not a byte count"
    connection.close()


def crashing_module(folder: Path, name: str = "crashing.py") -> Path:
    """A module whose predict_fn fails unexpectedly and whose model_fn fails for a model dir named 'broken'."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(
        "import os\n"
        "def model_fn(model_dir):\n"
        "    if os.path.basename(model_dir) == 'broken':\n"
        "        raise FileNotFoundError('model.joblib is missing in ' + model_dir)\n"
        "    return {'dir': model_dir}\n"
        "def input_fn(body, content_type):\n"
        "    return body\n"
        "def predict_fn(data, model):\n"
        "    return model['missing-key']\n"
        "def output_fn(prediction, accept):\n"
        "    return str(prediction)\n")
    return folder


def test_command_unexpectedModuleError_is500OneLineAndTracebackOnStderr(tmp_path):
    running = start(tmp_path / "model", crashing_module(tmp_path / "code"), "--program", "crashing.py")
    wait_until_pinged(running)
    status, _, body = request(running.url + "/invocations", "POST", b"[1]")
    returncode, stderr = running.stop()
    assert status == 500
    assert body == b'{"error": "KeyError", "error-message": "\'missing-key\'"}'
    assert "predict_fn failed:\nTraceback (most recent call last):" in stderr
    assert "KeyError: 'missing-key'" in stderr
    assert returncode == 0


def test_command_sagemakerProgramEnv_winsOverProgramOption(tmp_path):
    running = start(tmp_path / "model", crashing_module(tmp_path / "code"), "--program", "absent.py",
                    env={"SAGEMAKER_PROGRAM": "crashing.py"})
    wait_until_pinged(running)
    assert running.stop()[0] == 0


def test_command_sigterm_exitsZeroAndStopsListening(served_once):
    running = served_once
    returncode, stderr = running.stop()
    assert (returncode, stderr) == (0, "")
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(running.url + "/ping", timeout=5)


def test_command_sigint_exitsZero(tmp_path):
    running = start(tmp_path / "model", crashing_module(tmp_path / "code"), "--program", "crashing.py")
    running.process.send_signal(signal.SIGINT)
    _, stderr = running.process.communicate(timeout=30)
    assert (running.process.returncode, stderr) == (0, "")


@pytest.fixture
def served_once(trained_model) -> Iterator[Running]:
    running = start(trained_model, CODE)
    wait_until_pinged(running)
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.communicate()


def test_command_modelFnFails_exits1WithTracebackAndNoPing(tmp_path):
    running = start(tmp_path / "broken", crashing_module(tmp_path / "code"), "--program", "crashing.py")
    _, stderr = running.process.communicate(timeout=30)
    assert running.process.returncode == 1
    assert "model_server: model_fn(%r) failed:" % str(tmp_path / "broken") in stderr
    assert "FileNotFoundError: model.joblib is missing in" in stderr


@pytest.mark.parametrize("files,program,message", [
    ({}, "inference.py", "model_server: inference.py not found in the code directory {code}"),
    ({"serve.py": "def predict_fn(data, model):\n    return data\n"}, "serve.py",
     "model_server: serve defines no model_fn(model_dir); the scikit-learn container requires one"),
])
def test_command_unservableModule_exits2BeforeListening(tmp_path, files, program, message):
    code = tmp_path / "code"
    code.mkdir()
    for name, text in files.items():
        (code / name).write_text(text)
    result = subprocess.run([PYTHON, str(SERVER), "--model-dir", str(tmp_path), "--code-dir", str(code),
                             "--program", program, "--port", "0"], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.strip() == message.format(code=code)


def test_command_moduleImportFails_exits2WithTraceback(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "inference.py").write_text("import not_installed_anywhere\n")
    result = subprocess.run([PYTHON, str(SERVER), "--model-dir", str(tmp_path), "--code-dir", str(code),
                             "--port", "0"], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("model_server: importing inference.py failed:\nTraceback")
    assert "ModuleNotFoundError: No module named 'not_installed_anywhere'" in result.stderr


def test_source_parsesAsPython39():
    # The container runs Python 3.9; the parser rejects any syntax newer than the version it is asked for.
    ast.parse(SERVER.read_text(), feature_version=(3, 9))
