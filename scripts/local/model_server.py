"""The SageMaker scikit-learn container's serving contract on loopback, for any script-mode inference module.

    python3 scripts/local/model_server.py --model-dir DIR --code-dir DIR [--program inference.py] \
                                          --host 127.0.0.1 --port N

Imports the module named by SAGEMAKER_PROGRAM (else --program) from --code-dir the way the container does (the code
directory on sys.path, so the module's sibling imports work), binds, prints exactly one line
`LISTENING http://<host>:<port>` to stdout (`--port 0` picks a free port), then runs model_fn(model_dir):
  GET  /ping         503 while model_fn runs, 200 once it returned; the process exits 1 if it raised
  POST /invocations  input_fn(body, content_type) -> predict_fn(data, model) -> output_fn(prediction, accept), or
                     transform_fn(model, body, content_type, accept) when the module defines it instead
Request handling follows the 1.2-1 container (sagemaker_containers' Worker and Transformer,
sagemaker_sklearn_container's serving module): Content-Type from the `ContentType` or `Content-Type` header, else
application/json; Accept missing or */* means SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, else application/json; the body
reaches input_fn as text for application/json and text/csv exactly, as bytes otherwise; an output_fn may return the
body or (body, content_type).
Missing input_fn/predict_fn/output_fn get the container's defaults (see default_input_fn and the two after it); a
content type or Accept the defaults cannot handle answers 415 or 406.

Errors: the container answers 500 for every exception a module raises. Locally a ValueError (the module's "bad input"
exceptions) answers 400 with its message, so a caller can tell its own mistake from a broken model; anything else
answers 500 with the exception's type and first message line, and the traceback goes to stderr, never to the caller.
Error bodies are the toolkit's JSON without the stack trace: {"error": <exception type>, "error-message": <message>}.
A module that cannot be served (file missing, no model_fn, transform_fn mixed with the others, an import error) makes
the process exit 2 with the reason on stderr, before it listens. SIGTERM or SIGINT stops the server; it then exits 0.

Standard library only (the container's numpy is imported by the default handlers when a module relies on them), and
unchanged under the container's Python 3.9 and Debian's 3.11.
"""
from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Callable, Dict, List, Mapping, Optional, Tuple, Union

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
ANY = "*/*"
UTF8_TYPES = (JSON, CSV)

Body = Union[str, bytes]


class UnsupportedFormatError(Exception):
    """A default handler cannot decode or encode this media type (the toolkit's error of the same name)."""

    def __init__(self, media_type: str) -> None:
        super().__init__("Content type %s is not supported by this framework." % media_type)


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes


# ---------------------------------------------------------------------------------------------------------------------
# The container's default handlers (sagemaker_sklearn_container.serving over sagemaker_containers' encoders)
# ---------------------------------------------------------------------------------------------------------------------

def default_input_fn(input_data: Body, content_type: str) -> object:
    """JSON -> np.array(json.loads(body)); CSV -> the csv module's rows as an array, squeezed; both as float32 like
    the sklearn container; NPY -> np.load. NPY refuses pickled objects (the toolkit allows them): a request body must
    never run code on this machine."""
    import numpy as np

    if content_type == JSON:
        return np.array(json.loads(input_data)).astype(np.float32)
    if content_type == CSV:
        rows = list(csv.reader(io.StringIO(str(input_data)), delimiter=",", quotechar='"', doublequote=True,
                               strict=True))
        return np.array(rows).squeeze().astype(np.float32)
    if content_type == NPY:
        return np.load(io.BytesIO(_as_bytes(input_data)), allow_pickle=False)
    raise UnsupportedFormatError(content_type)


def default_predict_fn(input_data: object, model: object) -> object:
    return model.predict(input_data)  # type: ignore[attr-defined]


def default_output_fn(prediction: object, accept: str) -> Tuple[Body, str]:
    """JSON (arrays through tolist), CSV (one row per line, a 1-D array as one column) or NPY, as Accept asks."""
    import numpy as np

    if accept == JSON:
        return json.dumps(prediction, default=lambda value: value.tolist()), accept
    if accept == CSV:
        array = np.array(prediction)
        if array.ndim == 1:
            array = array.reshape(array.shape[0], 1)
        stream = io.StringIO()
        csv.writer(stream, lineterminator="\n").writerows(array.tolist())
        return stream.getvalue(), accept
    if accept == NPY:
        buffer = io.BytesIO()
        np.save(buffer, prediction)
        return buffer.getvalue(), accept
    raise UnsupportedFormatError(accept)


# ---------------------------------------------------------------------------------------------------------------------
# The user module
# ---------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Handlers:
    model_fn: Callable[[str], object]
    input_fn: Callable[[Body, str], object]
    predict_fn: Callable[[object, object], object]
    output_fn: Callable[[object, str], object]
    transform_fn: Optional[Callable[[object, Body, str, str], object]] = None


class ModuleContractError(Exception):
    """The inference module cannot be served; the message says why."""


def module_name(program: str) -> str:
    """`inference.py` -> `inference`, the name the container imports SAGEMAKER_PROGRAM under."""
    name = program[:-3] if program.endswith(".py") else program
    if not name or "/" in name or os.sep in name:
        raise ModuleContractError("program %r must be a file name in the code directory, like inference.py" % program)
    return name


def handlers_of(module: ModuleType) -> Handlers:
    functions = {name: getattr(module, name, None)
                 for name in ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")}
    if functions["model_fn"] is None:
        raise ModuleContractError("%s defines no model_fn(model_dir); the scikit-learn container requires one"
                                  % module.__name__)
    if functions["transform_fn"] is not None and any(functions[name] for name in ("input_fn", "predict_fn",
                                                                                   "output_fn")):
        raise ModuleContractError("%s defines transform_fn together with input_fn, predict_fn and/or output_fn; the "
                                  "container accepts one or the other" % module.__name__)
    return Handlers(model_fn=functions["model_fn"],
                    input_fn=functions["input_fn"] or default_input_fn,
                    predict_fn=functions["predict_fn"] or default_predict_fn,
                    output_fn=functions["output_fn"] or default_output_fn,
                    transform_fn=functions["transform_fn"])


def load_handlers(code_dir: str, program: str) -> Handlers:
    if not os.path.isfile(os.path.join(code_dir, module_name(program) + ".py")):
        raise ModuleContractError("%s not found in the code directory %s" % (program, code_dir))
    sys.path.insert(0, code_dir)
    return handlers_of(importlib.import_module(module_name(program)))


# ---------------------------------------------------------------------------------------------------------------------
# One request, as pure functions
# ---------------------------------------------------------------------------------------------------------------------

def request_content_type(headers: Mapping[str, str]) -> str:
    """`headers` has lower-case names, as lower_case_names() gives them."""
    return headers.get("contenttype") or headers.get("content-type") or JSON


def response_accept(headers: Mapping[str, str], environ: Mapping[str, str]) -> str:
    accept = headers.get("accept")
    if not accept or accept == ANY:
        return environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or JSON
    return accept


def lower_case_names(headers: List[Tuple[str, str]]) -> Dict[str, str]:
    """HTTP header names are case-insensitive; the first of repeated headers wins, as in the container's Flask."""
    names: Dict[str, str] = {}
    for name, value in headers:
        names.setdefault(name.lower(), value)
    return names


def request_body(raw: bytes, content_type: str) -> Body:
    """Text for exactly application/json and text/csv, as the container's Request.content; bytes otherwise."""
    return raw.decode("utf-8") if content_type in UTF8_TYPES else raw


def error_reply(status: int, error: BaseException) -> Reply:
    lines = str(error).strip().splitlines()
    document = {"error": type(error).__name__, "error-message": lines[0] if lines else ""}
    return Reply(status, JSON, json.dumps(document).encode("utf-8"))


def success_reply(result: object, accept: str) -> Reply:
    body, content_type = result if isinstance(result, tuple) else (result, accept)
    return Reply(200, str(content_type), _as_bytes(body))


def invoke(handlers: Handlers, model: object, raw: bytes, content_type: str, accept: str,
           log: Callable[[str], None]) -> Reply:
    """The container's transform: decode, predict, encode, with this server's error statuses (module docstring)."""
    stage = "input_fn"
    try:
        body = request_body(raw, content_type)
        if handlers.transform_fn is not None:
            stage = "transform_fn"
            return success_reply(handlers.transform_fn(model, body, content_type, accept), accept)
        try:
            data = handlers.input_fn(body, content_type)
        except UnsupportedFormatError as error:
            return error_reply(415, error)
        stage = "predict_fn"
        prediction = handlers.predict_fn(data, model)
        stage = "output_fn"
        try:
            return success_reply(handlers.output_fn(prediction, accept), accept)
        except UnsupportedFormatError as error:
            return error_reply(406, error)
    except ValueError as error:
        return error_reply(400, error)
    except Exception as error:  # noqa: BLE001 - any other failure is the model's, reported as 500 without a traceback
        log("%s failed:\n%s" % (stage, traceback.format_exc()))
        return error_reply(500, error)


def _as_bytes(body: object) -> bytes:
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    raise TypeError("the response body must be str or bytes, got %s" % type(body).__name__)


# ---------------------------------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------------------------------

class ModelServer:
    """Binds at construction; load() runs model_fn; serve() answers until stop()."""

    def __init__(self, handlers: Handlers, model_dir: str, host: str, port: int,
                 environ: Optional[Mapping[str, str]] = None) -> None:
        self.handlers = handlers
        self.model_dir = model_dir
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.model: object = None
        self.loaded = threading.Event()
        self.http = ThreadingHTTPServer((host, port), _request_handler(self))
        self.http.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.http.server_address[:2]
        return "http://%s:%d" % (host, port)

    def load(self) -> None:
        self.model = self.handlers.model_fn(self.model_dir)
        self.loaded.set()

    def serve(self) -> None:
        self.http.serve_forever(poll_interval=0.2)
        self.http.server_close()

    def stop(self) -> None:
        """Safe from a signal handler: shutdown() waits for serve_forever, so it runs on its own thread."""
        threading.Thread(target=self.http.shutdown, daemon=True).start()


def _request_handler(server: ModelServer) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in separate writes: without TCP_NODELAY, Nagle's algorithm holds the body until the
        # client's delayed ACK, 40 ms later, on every request of a keep-alive connection.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class names it so
            """Silent per request: errors are logged where they happen."""

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path != "/ping":
                self.reply(_not_found(self.command, self.path))
            elif server.loaded.is_set():
                self.reply(Reply(200, JSON, b""))
            else:
                self.reply(error_reply(503, Exception("the model is loading: model_fn has not returned yet")))

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = self.headers.get("Content-Length") or "0"
            if not length.isdigit():
                self.close_connection = True
                self.reply(error_reply(400, ValueError("Content-Length %r is not a byte count" % length)))
                return
            raw = self.rfile.read(int(length))
            if self.path != "/invocations":
                self.reply(_not_found(self.command, self.path))
            elif not server.loaded.is_set():
                self.reply(error_reply(503, Exception("the model is loading: model_fn has not returned yet")))
            else:
                headers = lower_case_names(self.headers.items())
                content_type = request_content_type(headers)
                self.reply(invoke(server.handlers, server.model, raw, content_type,
                                  response_accept(headers, server.environ), _stderr))

        def reply(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

    return Handler


def _not_found(method: str, path: str) -> Reply:
    return error_reply(404, Exception("%s %s: this server answers GET /ping and POST /invocations" % (method, path)))


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------------------

def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", required=True, help="the unpacked model.tar.gz (the container's /opt/ml/model)")
    parser.add_argument("--code-dir", required=True, help="the unpacked SAGEMAKER_SUBMIT_DIRECTORY")
    parser.add_argument("--program", default="inference.py", help="module file; SAGEMAKER_PROGRAM wins when set")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 = a free port")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None, environ: Optional[Dict[str, str]] = None) -> int:
    args = parse_args(argv)
    environ = dict(os.environ) if environ is None else environ
    program = environ.get("SAGEMAKER_PROGRAM") or args.program
    try:
        handlers = load_handlers(args.code_dir, program)
    except ModuleContractError as error:
        _stderr("model_server: %s" % error)
        return 2
    except Exception:  # noqa: BLE001 - the module's own import failure: its traceback says why
        _stderr("model_server: importing %s failed:\n%s" % (program, traceback.format_exc()))
        return 2
    server = ModelServer(handlers, args.model_dir, args.host, args.port, environ)
    failed = threading.Event()

    def load() -> None:
        try:
            server.load()
        except Exception:  # noqa: BLE001 - any model_fn failure ends the server; the traceback says why
            _stderr("model_server: model_fn(%r) failed:\n%s" % (args.model_dir, traceback.format_exc()))
            failed.set()
            server.stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: server.stop())
    print("LISTENING %s" % server.url, flush=True)
    threading.Thread(target=load, daemon=True).start()
    server.serve()
    return 1 if failed.is_set() else 0


if __name__ == "__main__":
    sys.exit(main())
