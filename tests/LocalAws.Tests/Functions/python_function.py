#!/usr/bin/env python3
"""A custom-runtime Lambda function in plain Python for the local-service tests.

It speaks the Runtime API like any bootstrap and lets the event choose behaviours a real function may have:
{"action": "sleep", "seconds": s} answers late, {"action": "exit", "code": c} dies mid-invocation,
{"action": "fail", "message": m} reports a handler error, {"action": "raw", "answer": a} answers `a` as is.
An API Gateway proxy event is answered as a proxy response echoing the event, or as the query parameter
`behaviour` asks (error, malformed, sleep, base64). Any other event is echoed with the process's view
(environment, deadline, pid). TEST_FUNCTION_INIT=error reports an init error, =exit exits before the first event,
=slow takes 2 seconds to start.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"


def post(path: str, body: object, error_type: str | None = None) -> None:
    request = urllib.request.Request(API + path, data=json.dumps(body).encode(), method="POST")
    if error_type:
        request.add_header("Lambda-Runtime-Function-Error-Type", error_type)
    urllib.request.urlopen(request).read()


def answer_proxy(request_id: str, event: dict) -> None:
    behaviour = (event.get("queryStringParameters") or {}).get("behaviour")
    if behaviour == "error":
        post(f"/invocation/{request_id}/error", {"errorMessage": "proxy failed", "errorType": "RuntimeError"}, "RuntimeError")
        return
    if behaviour == "sleep":
        time.sleep(3)
    if behaviour == "malformed":
        post(f"/invocation/{request_id}/response", {"statusCode": 200, "body": {"not": "a string"}})
        return
    if behaviour == "base64":
        body = base64.b64encode(b"\x89PNG\r\n").decode()
        post(f"/invocation/{request_id}/response",
             {"statusCode": 201, "headers": {"Content-Type": "image/png"}, "body": body, "isBase64Encoded": True})
        return
    post(f"/invocation/{request_id}/response", {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Echo": "single"},
        "multiValueHeaders": {"X-Multi": ["a", "b"]},
        "body": json.dumps(event),
    })


def main() -> int:
    init = os.environ.get("TEST_FUNCTION_INIT")
    if init == "error":
        print("the configuration is missing", flush=True)
        post("/init/error", {"errorMessage": "the configuration is missing", "errorType": "Runtime.ConfigError"}, "Runtime.ConfigError")
        return 1
    if init == "exit":
        print("giving up before the first event", flush=True)
        return 3
    if init == "slow":
        time.sleep(2)

    while True:
        with urllib.request.urlopen(API + "/invocation/next") as response:
            request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
            deadline = int(response.headers["Lambda-Runtime-Deadline-Ms"])
            arn = response.headers["Lambda-Runtime-Invoked-Function-Arn"]
            event = json.loads(response.read())
        if isinstance(event, dict) and "httpMethod" in event:
            answer_proxy(request_id, event)
            continue
        action = event.get("action") if isinstance(event, dict) else None
        if action == "sleep":
            time.sleep(event["seconds"])
        elif action == "exit":
            print(f"exiting with {event.get('code', 1)} as asked", flush=True)
            return int(event.get("code", 1))
        elif action == "fail":
            post(f"/invocation/{request_id}/error", {"errorMessage": event["message"], "errorType": "ValueError"}, "ValueError")
            continue
        elif action == "raw":
            post(f"/invocation/{request_id}/response", event["answer"])
            continue
        post(f"/invocation/{request_id}/response", {
            "event": event,
            "requestId": request_id,
            "functionArn": arn,
            "deadlineMs": deadline,
            "pid": os.getpid(),
            "cwd": os.getcwd(),
            "environment": dict(os.environ),
        })


if __name__ == "__main__":
    sys.exit(main())
