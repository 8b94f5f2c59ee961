"""A minimal Lambda Runtime API loop (2018-06-01) for a Python handler: what the managed Python runtime's bootstrap
does, written out so the baseline runs behind the same loopback Runtime API as the native SegmentProxy bootstrap.

    AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT python3 runtime_loop.py handler.handler

Imports the handler module (Lambda init; failures go to /runtime/init/error), then forever: GET the next event, call
the handler, POST its JSON answer (or the error). One keep-alive connection, like the managed runtime's client. Prints
one JSON line per invocation with the handler's own time, as the native bootstrap logs its totalMs.
"""
from __future__ import annotations

import http.client
import importlib
import json
import os
import sys
import time
import traceback

BASE = "/2018-06-01/runtime"


def post(connection: http.client.HTTPConnection, path: str, document: object, error_type: str = "") -> None:
    headers = {"Content-Type": "application/json"}
    if error_type:
        headers["Lambda-Runtime-Function-Error-Type"] = error_type
    connection.request("POST", BASE + path, body=json.dumps(document).encode("utf-8"), headers=headers)
    connection.getresponse().read()


def main(argv: list) -> int:
    connection = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
    module_name, _, function_name = argv[1].rpartition(".")
    try:
        sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT") or os.path.dirname(os.path.abspath(__file__)))
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as error:  # noqa: BLE001 - any init failure is reported to the Runtime API
        post(connection, "/init/error", {"errorMessage": str(error), "errorType": type(error).__name__}, "Runtime.Init")
        return 1
    while True:
        connection.request("GET", BASE + "/invocation/next")
        response = connection.getresponse()
        event = json.loads(response.read())
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        started = time.perf_counter()
        try:
            answer = handler(event, None)
        except Exception as error:  # noqa: BLE001 - any handler failure is reported to the Runtime API
            traceback.print_exc()
            post(connection, "/invocation/%s/error" % request_id,
                 {"errorMessage": str(error), "errorType": type(error).__name__}, "Runtime.Unhandled")
            continue
        handler_ms = (time.perf_counter() - started) * 1000
        post(connection, "/invocation/%s/response" % request_id, answer)
        print(json.dumps({"message": "Request served.", "totalMs": handler_ms}), flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
