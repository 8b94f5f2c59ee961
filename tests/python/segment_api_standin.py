"""A loopback stand-in for POST /segment (architecture contract 6), for the tests of the API's callers: `scripts/ops
api test` (test_ops.py) and the notebook (test_notebook.py). The real API is exercised by its own tests; this one
checks what a caller sends and gives it the contract's answers to render.

Like API Gateway it answers 403 {"message": "Forbidden"} without the right x-api-key (no key expected when key is
None); like the proxy it requires application/json, checks every customer (400 {"error", "field"}) and answers
{"predictions": [{"closest_cluster", "distance_to_cluster", "segment_label"}], "endpoint", "model_version",
"features_processed"}. The segment is (age // 10) % 5 and the distance purchases / 7, so a test can tell each row's
answer from its input.
"""
from __future__ import annotations

import http.server
import json
import threading
from typing import Any, Dict, List, Optional, Tuple


class SegmentApi:
    LABELS = ["Young budget", "Senior affluent", "Young frequent", "Mid-life high income", "Mixed"]

    def __init__(self, key: Optional[str], endpoint: str, stage: str = "prod") -> None:
        self.requests: List[Dict[str, Any]] = []
        self.endpoint = endpoint
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                outer.requests.append({"path": self.path, "key": self.headers.get("x-api-key"),
                                       "content_type": self.headers.get("Content-Type"), "body": body})
                if self.path != f"/{stage}/segment":
                    self.reply(404, {"message": "Missing Authentication Token"})
                elif self.headers.get("x-api-key") != key:
                    self.reply(403, {"message": "Forbidden"})
                elif self.headers.get("Content-Type") != "application/json":
                    self.reply(415, {"error": "Content-Type must be application/json", "field": None})
                else:
                    self.reply(*outer.answer(json.loads(body)))

            def reply(self, status: int, payload: Dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/{stage}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, body: Any) -> Tuple[int, Dict[str, Any]]:
        if "features" in body:
            predictions = [{"closest_cluster": 0, "distance_to_cluster": abs(sum(row))} for row in body["features"]]
        else:
            customers = body["customers"] if "customers" in body else [body]
            predictions = []
            for index, customer in enumerate(customers):
                values = {key.lower(): value for key, value in customer.items()}
                for name in ("age", "income", "purchases"):
                    if not isinstance(values.get(name), (int, float)) or values[name] < 0:
                        return 400, {"error": f"{name} must be a number >= 0", "field": f"customers[{index}].{name}"}
                cluster = int(values["age"] // 10) % 5
                predictions.append({"closest_cluster": cluster, "distance_to_cluster": values["purchases"] / 7,
                                    "segment_label": self.LABELS[cluster]})
        return 200, {"predictions": predictions, "endpoint": self.endpoint, "model_version": "3",
                     "features_processed": len(predictions)}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
