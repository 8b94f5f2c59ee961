"""FeedbackCalibration: the weight table and the Medium priority order, recency, the score cutoff, re-ranking and
TopK, the summary and its threshold suggestions, no feedback at all, feedback read from S3, and feedback read from
the API's DynamoDB table (dynalite on loopback) together with the CSVs."""
from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pandas as pd
import pytest

import feedback_calibration as fc
import pipeline_parameters as params
import ranking

DEFAULTS = params.validate({p.name: p.default for p in params.consumed_by("FeedbackCalibration")})
FEEDBACK_HEADER = "customer_id,product_id,rating,reason_code,sentiment,feedback_date\n"


@pytest.mark.parametrize("rating,sentiment,code,weight", [
    ("High", "", "", 1.3),
    ("High", "negative", "not_relevant", 1.3),  # High: any
    ("Medium", "positive", "", 1.0),
    ("Medium", "negative", "", 0.4),
    ("Medium", "", "", 1.0),  # no signal: unchanged
    ("Low", "positive", "good_fit", 0.1),  # Low: any
])
def test_classify_weightTable(rating, sentiment, code, weight):
    classes = fc.classify(pd.Series([rating]), pd.Series([sentiment]), pd.Series([code]))
    assert fc.class_weights(DEFAULTS)[classes[0]] == weight


@pytest.mark.parametrize("sentiment,code,expected", [
    ("positive", "not_relevant", "medium_positive"),  # 1. explicit sentiment wins over the code
    ("negative", "good_fit", "medium_negative"),
    ("", "wrong_category", "medium_negative"),  # 2. then a known code
    ("", "price_too_high", "medium_negative"),
    ("", "not_relevant", "medium_negative"),
    ("", "customer_interested", "medium_positive"),
    ("", "good_fit", "medium_positive"),
    ("neutral", "price_too_high", "medium_negative"),  # an unknown sentiment is no explicit signal
    ("", "other", "medium_no_signal"),  # 3. default
])
def test_classify_mediumPriority(sentiment, code, expected):
    assert fc.classify(pd.Series(["Medium"]), pd.Series([sentiment]), pd.Series([code]))[0] == expected


def test_class_weights_mediumNoSignalStaysOneWhateverTheParameters():
    weights = fc.class_weights(dict(DEFAULTS, WeightMedPos=0.9, WeightMedNeg=0.3))
    assert weights == {"high": 1.3, "medium_positive": 0.9, "medium_negative": 0.3, "medium_no_signal": 1.0,
                       "low": 0.1}


def test_normalise_code_caseSpacesHyphens():
    assert fc.normalise_code(pd.Series([" Price Too-High ", "GOOD_FIT"])).tolist() == ["price_too_high", "good_fit"]


def recommendation(customer: str, product: str, score: float, rank: int, segment: str = "W_P",
                   l2: str = "Valves") -> Dict[str, object]:
    return {"customer_id": customer, "recommended_product": product, "cluster_id": segment + "_0",
            "segment": segment, "l2_category": l2, "l3_category": "x", "trigger_product": "T", "support": 0.1,
            "confidence": 0.5, "lift": 2.0, "weighted_support": 0.1, "score": score, "recommended_qty": 1,
            "reason": "T \u2192 %s" % product, "rank": rank}


def write_step_inputs(tmp_path: Path, recommendations: List[Dict[str, object]], feedback: Optional[str],
                      reference_date: str = "2021-06-30") -> Path:
    recs = tmp_path / "recommendations"
    recs.mkdir()
    pd.DataFrame(recommendations, columns=ranking.OUTPUT_COLUMNS).to_csv(recs / "recommendations.csv", index=False)
    customers = sorted({r["customer_id"] for r in recommendations} | {"c9"})
    (recs / "ranking_report.json").write_text(json.dumps({"customers": len(customers)}))
    reference = tmp_path / "reference"
    reference.mkdir()
    pd.DataFrame({"customer_id": customers, "region": "W", "end_use": "P",
                  "segment": ["E_H" if c == "c9" else "W_P" for c in customers]}).to_csv(reference / "customers.csv",
                                                                                       index=False)
    products = ["P%d" % i for i in range(1, 10)]
    pd.DataFrame({"product_id": products, "l2_category": ["Pipes" if p == "P9" else "Valves" for p in products]}) \
        .to_csv(reference / "products.csv", index=False)
    (reference / "basket_report.json").write_text(json.dumps({"reference_date": reference_date}))
    if feedback is not None:
        (tmp_path / "feedback").mkdir()
        (tmp_path / "feedback" / "feedback.csv").write_text(FEEDBACK_HEADER + feedback)
    return tmp_path


def run_step(tmp_path: Path, *extra: str, feedback_uri: Optional[str] = None) -> Tuple[pd.DataFrame, Dict]:
    uri = str(tmp_path / "feedback") if feedback_uri is None else feedback_uri
    args = fc.parse_args(["--recommendations", str(tmp_path / "recommendations"), "--reference",
                          str(tmp_path / "reference"), "--output-dir", str(tmp_path / "out"), "--feedback-uri", uri,
                          *extra])
    summary = fc.run(args)
    final = pd.read_csv(tmp_path / "out" / "final" / "recommendations.csv", dtype={"customer_id": str})
    assert summary == json.loads((tmp_path / "out" / "feedback" / "feedback_summary.json").read_text())
    return final, summary


FOUR = [recommendation("c1", "P1", 0.5, 1), recommendation("c1", "P2", 0.4, 2), recommendation("c1", "P3", 0.3, 3),
        recommendation("c1", "P4", 0.1, 4)]


def test_run_weightsCutoffRerank(tmp_path):
    feedback = ("c1,P1,Low,not_relevant,,2021-06-01\n"   # 0.5 x 0.1 = 0.05 < 0.08: removed
                "c1,P3,High,,,2021-06-02\n"                # 0.3 x 1.3 = 0.39
                "c1,P4,High,,,2021-06-03\n")               # 0.1 x 1.3 = 0.13
    final, summary = run_step(write_step_inputs(tmp_path, FOUR, feedback))
    assert final["recommended_product"].tolist() == ["P2", "P3", "P4"]
    assert final["rank"].tolist() == [1, 2, 3]
    assert final["score"].tolist() == pytest.approx([0.4, 0.39, 0.13])
    assert final["feedback_weight"].tolist() == [1.0, 1.3, 1.3]
    assert summary["calibration"] == {"recommendations_in": 4, "with_feedback": 3, "removed_by_score_cutoff": 1,
                                      "removed_by_top_k": 0, "recommendations_out": 3, "customers_out": 1,
                                      "coverage": 0.5}


def test_run_topK_reappliedAfterRerank(tmp_path):
    final, summary = run_step(write_step_inputs(tmp_path, FOUR, "c1,P4,High,,,2021-06-03\n"), "--top-k", "2",
                              "--score-cutoff", "0")
    assert final["recommended_product"].tolist() == ["P1", "P2"]
    assert summary["calibration"]["removed_by_top_k"] == 2


def test_run_boostedScore_isCappedAtOne(tmp_path):
    final, _ = run_step(write_step_inputs(tmp_path, [recommendation("c1", "P1", 0.9, 1)], "c1,P1,High,,,2021-06-03\n"))
    assert final["score"].tolist() == [1.0]


def test_run_feedbackOlderThanRecencyDays_isIgnored(tmp_path):
    # As of 2021-07-10 (the newest feedback, later than the reference date): 2020-07-10 is 365 days old, kept;
    # 2020-07-09 is 366 days old, ignored.
    feedback = "c1,P1,Low,not_relevant,,2020-07-09\nc1,P2,Low,not_relevant,,2020-07-10\nc1,P3,High,,,2021-07-10\n"
    final, summary = run_step(write_step_inputs(tmp_path, FOUR, feedback))
    assert final["recommended_product"].tolist() == ["P1", "P3", "P4"]
    assert summary["reference_date"] == "2021-07-10"
    assert summary["input_validation"]["older_than_recency"] == 1


def test_run_laterFeedbackOnSamePair_wins(tmp_path):
    feedback = "c1,P1,High,,,2021-06-20\nc1,P1,Low,not_relevant,,2021-06-21\nc1,P2,Low,wrong_category,,2021-06-01\n" \
               "c1,P2,High,,,2021-05-01\n"
    final, summary = run_step(write_step_inputs(tmp_path, FOUR, feedback))
    assert dict(zip(final["recommended_product"], final["feedback_weight"])) == {"P3": 1.0, "P4": 1.0}
    assert summary["input_validation"]["superseded_by_later_feedback"] == 2


def test_run_noFeedbackLocation_warnsAndKeepsScoresAndOrder(tmp_path, capsys):
    final, summary = run_step(write_step_inputs(tmp_path, FOUR, None), feedback_uri="")
    out = capsys.readouterr().out
    assert "WARNING: no feedback location given; recommendations are calibrated without feedback" in out
    # Unchanged scores and order; only the cutoff applies (0.1 >= 0.08 keeps all four).
    assert final["recommended_product"].tolist() == ["P1", "P2", "P3", "P4"]
    assert final["score"].tolist() == [0.5, 0.4, 0.3, 0.1]
    assert summary["overall"] is None and summary["by_segment"] == {}
    assert summary["threshold_suggestions"] == {"MinConfidence": 0.05, "ScoreCutoff": 0.08,
                                                "rationale": "No feedback. Holding thresholds."}


def test_run_feedbackPathWithoutCsv_warns(tmp_path, capsys):
    final, summary = run_step(write_step_inputs(tmp_path, FOUR, None), feedback_uri=str(tmp_path / "nowhere"))
    assert "WARNING: no feedback CSV at %s" % (tmp_path / "nowhere") in capsys.readouterr().out
    assert len(final) == 4 and summary["overall"] is None


def test_run_scoreCutoff_appliesWithoutFeedbackToo(tmp_path):
    final, summary = run_step(write_step_inputs(tmp_path, FOUR, None), "--score-cutoff", "0.35", feedback_uri="")
    assert final["recommended_product"].tolist() == ["P1", "P2"]
    assert summary["calibration"]["removed_by_score_cutoff"] == 2


def test_run_lowAcceptance_suggestsTighterMinConfidence(tmp_path):
    feedback = ("c1,P1,High,,,2021-06-01\nc1,P2,Medium,other,,2021-06-01\nc1,P3,Low,price_too_high,,2021-06-01\n"
                "c1,P4,Medium,wrong_category,,2021-06-01\nc1,P5,Medium,x,positive,2021-06-01\n")
    _, summary = run_step(write_step_inputs(tmp_path, FOUR, feedback))
    # Accepted: High and Medium-positive, 2 of 5.
    assert summary["overall"]["acceptance_rate"] == 0.4
    assert summary["threshold_suggestions"] == {
        "MinConfidence": 0.1, "ScoreCutoff": 0.08,
        "rationale": "Acceptance rate=0.40 < 0.50. Tightening MinConfidence from 0.05 to 0.1."}


def test_run_halfAccepted_holdsThresholds(tmp_path):
    feedback = "c1,P1,High,,,2021-06-01\nc1,P2,Low,not_relevant,,2021-06-01\n"
    _, summary = run_step(write_step_inputs(tmp_path, FOUR, feedback), "--min-confidence", "0.2")
    assert summary["threshold_suggestions"] == {"MinConfidence": 0.2, "ScoreCutoff": 0.08,
                                                "rationale": "Acceptance rate=0.50. Holding thresholds."}


def test_run_summaryRatesBySegmentCategoryAndReasonCodes(tmp_path):
    feedback = ("c1,P1,High,good_fit,,2021-06-01\nc1,P2,Medium,Not Relevant,,2021-06-01\n"
                "c1,P9,Medium,x,positive,2021-06-01\nc9,P1,Low,not_relevant,,2021-06-01\n"
                "c9,P3,Medium,other,,2021-06-01\n")
    _, summary = run_step(write_step_inputs(tmp_path, FOUR, feedback))
    assert summary["overall"] == {"feedback": 5, "acceptance_rate": 0.4, "high_rate": 0.2,
                                  "medium_positive_rate": 0.2, "medium_negative_rate": 0.2,
                                  "medium_no_signal_rate": 0.2, "low_rate": 0.2}
    assert summary["by_segment"]["W_P"]["acceptance_rate"] == pytest.approx(2 / 3)
    assert summary["by_segment"]["E_H"]["acceptance_rate"] == 0.0
    assert summary["by_l2_category"]["Pipes"] == {"feedback": 1, "acceptance_rate": 1.0, "high_rate": 0.0,
                                                  "medium_positive_rate": 1.0, "medium_negative_rate": 0.0,
                                                  "medium_no_signal_rate": 0.0, "low_rate": 0.0}
    assert summary["reason_code_distribution"] == {"good_fit": 1, "not_relevant": 2, "other": 1, "x": 1}


@pytest.mark.parametrize("row,rule", [
    ("c1,P1,,x,,2021-06-01", "missing_field"),
    ("c1,P1,High,,,someday", "unparseable_date"),
    ("c1,P1,Great,,,2021-06-01", "invalid_rating"),
    ("c1,P1,Medium,,positive,2021-06-01", "missing_reason_code"),
    ("c1,P1,low,N/A,,2021-06-01", "missing_reason_code"),
    ("c7,P1,High,,,2021-06-01", "unknown_customer"),
    ("c1,P77,High,,,2021-06-01", "unknown_product"),
])
def test_run_badFeedbackRow_countedUnderItsRule(tmp_path, row, rule):
    _, summary = run_step(write_step_inputs(tmp_path, FOUR, "c1,P2,High,,,2021-06-01\n%s\n" % row))
    dropped = {r: n for r, n in summary["input_validation"]["dropped_by_rule"].items() if n}
    assert dropped == {rule: 1}
    assert summary["overall"]["feedback"] == 1


def test_chain_feedbackBadRowsCountedAndSummaryWritten(chain, small_data):
    summary = chain["summary"]
    dropped = {r: n for r, n in summary["input_validation"]["dropped_by_rule"].items() if n}
    assert dropped == small_data["truth"]["bad_rows"]["feedback"]
    assert set(summary) >= {"overall", "by_segment", "by_l2_category", "reason_code_distribution",
                            "threshold_suggestions", "calibration"}
    final = chain["final"]
    assert (final["score"] <= 1.0).all() and (final["score"] >= 0.08).all()
    assert list(final.columns) == ranking.OUTPUT_COLUMNS + ["feedback_weight"]
    assert '"metric": "AcceptanceRate"' in chain["results"]["feedback"].stdout


class FakeS3(http.server.BaseHTTPRequestHandler):
    """Loopback S3, path style: ListObjectsV2 on /bucket?list-type=2&prefix=..., GetObject on /bucket/key."""
    objects: Dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        parsed = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(parsed.query)
        bucket, _, key = parsed.path.lstrip("/").partition("/")
        if not key and query.get("list-type") == ["2"]:
            prefix = query.get("prefix", [""])[0]
            keys = sorted(k for k in FakeS3.objects if k.startswith("%s/%s" % (bucket, prefix)))
            contents = "".join("<Contents><Key>%s</Key><Size>%d</Size></Contents>"
                               % (k.split("/", 1)[1], len(FakeS3.objects[k])) for k in keys)
            body = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
                    'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>%s</Name><Prefix>%s</Prefix>'
                    '<KeyCount>%d</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>%s'
                    '</ListBucketResult>' % (bucket, prefix, len(keys), contents)).encode()
            self.reply(200, body)
        elif "%s/%s" % (bucket, urllib.parse.unquote(key)) in FakeS3.objects:
            self.reply(200, FakeS3.objects["%s/%s" % (bucket, urllib.parse.unquote(key))], "text/csv")
        else:
            self.reply(404, b"<Error><Code>NoSuchKey</Code><Message>missing</Message></Error>")

    def reply(self, status: int, body: bytes, content_type: str = "application/xml") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_s3(monkeypatch) -> Iterator[type]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeS3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:%d" % server.server_address[1])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    FakeS3.objects = {}
    yield FakeS3
    server.shutdown()
    server.server_close()


def test_run_feedbackFromS3Prefix_readsEveryCsvUnderIt(tmp_path, fake_s3):
    fake_s3.objects = {
        "data/recommendations/feedback/2021-06/a.csv": (FEEDBACK_HEADER + "c1,P1,Low,not_relevant,,2021-06-01\n")
        .encode(),
        "data/recommendations/feedback/2021-07/a.csv": (FEEDBACK_HEADER + "c1,P4,High,,,2021-06-03\n").encode(),
        "data/recommendations/feedback/readme.txt": b"not a csv",
        "data/other/feedback.csv": (FEEDBACK_HEADER + "c1,P2,Low,not_relevant,,2021-06-01\n").encode(),
    }
    final, summary = run_step(write_step_inputs(tmp_path, FOUR, None),
                              feedback_uri="s3://data/recommendations/feedback/")
    assert final["recommended_product"].tolist() == ["P2", "P3", "P4"]
    assert summary["overall"]["feedback"] == 2
    assert [f["file"] for f in summary["input_validation"]["files"]] == ["00000_a.csv", "00001_a.csv"]


def test_run_emptyS3Prefix_warns(tmp_path, fake_s3, capsys):
    final, summary = run_step(write_step_inputs(tmp_path, FOUR, None), feedback_uri="s3://data/none/")
    assert "WARNING: no feedback CSV under s3://data/none/" in capsys.readouterr().out
    assert len(final) == 4 and summary["overall"] is None


FEEDBACK_TABLE = "feedback-test"


@pytest.fixture
def feedback_table(make_table, dynamodb) -> Iterator[Callable[..., None]]:
    """The feedback table as the API writes it (contract section 2); returns a function that puts one item."""
    make_table(FEEDBACK_TABLE, "idempotency_key")

    def put(key: str, customer: str, product: str, rating: Optional[str], date: str, reason: Optional[str] = None,
            sentiment: Optional[str] = None, received: str = "2021-06-30T10:00:00Z", **other: object) -> None:
        item = {"idempotency_key": {"S": key}, "customer_id": {"S": customer}, "product_id": {"S": product},
                "feedback_date": {"S": date}, "received_at": {"S": received}, "run_id": {"S": "run-1"},
                "request_sha256": {"S": "0" * 64}}
        for name, value in (("rating", rating), ("reason_code", reason), ("sentiment", sentiment)):
            if value is not None:
                item[name] = {"S": value}
        item.update(other)
        dynamodb.put_item(TableName=FEEDBACK_TABLE, Item=item)

    yield put


def test_run_tableFeedback_mergedWithCsvFeedback(tmp_path, feedback_table):
    feedback_table("k1", "c1", "P1", "Low", "2021-06-01", reason="not_relevant")  # 0.5 x 0.1: removed
    feedback_table("k2", "c1", "P4", "Medium", "2021-06-02", reason="good_fit")     # 0.1 x 1.0
    final, summary = run_step(write_step_inputs(tmp_path, FOUR, "c1,P3,High,,,2021-06-02\n"),
                              "--feedback-table", FEEDBACK_TABLE)
    assert final["recommended_product"].tolist() == ["P2", "P3", "P4"]
    assert final["score"].tolist() == pytest.approx([0.4, 0.39, 0.1])
    assert dict(zip(final["recommended_product"], final["feedback_weight"])) == {"P2": 1.0, "P3": 1.3, "P4": 1.0}
    assert summary["feedback_source"] == str(tmp_path / "feedback") and summary["feedback_table"] == FEEDBACK_TABLE
    assert summary["input_validation"]["files"] == [{"file": "feedback.csv", "rows_read": 1},
                                                    {"file": "dynamodb:" + FEEDBACK_TABLE, "rows_read": 2}]
    assert summary["overall"]["feedback"] == 3 and summary["reason_code_distribution"] == {
        "good_fit": 1, "not_relevant": 1}


def test_run_tableFeedbackOnly_calibratesWithoutAnyWarning(tmp_path, feedback_table, capsys):
    feedback_table("k1", "c1", "P1", "low", "2021-06-01", reason=" Not Relevant ")
    final, summary = run_step(write_step_inputs(tmp_path, FOUR, None), "--feedback-table", FEEDBACK_TABLE,
                              feedback_uri="")
    assert final["recommended_product"].tolist() == ["P2", "P3", "P4"]
    assert summary["feedback_source"] is None and summary["reason_code_distribution"] == {"not_relevant": 1}
    out = capsys.readouterr().out
    assert "WARNING" not in out and "feedback: 1 item(s) from table %s" % FEEDBACK_TABLE in out


def test_run_tableRowOnTheSameDate_winsOverTheCsvRowAndTheLaterReceivedOverTheEarlier(tmp_path, feedback_table):
    feedback_table("a", "c1", "P1", "Low", "2021-06-01", reason="not_relevant")   # CSV says High the same day
    feedback_table("z", "c1", "P2", "Low", "2021-06-01", reason="not_relevant", received="2021-06-01T08:00:00Z")
    feedback_table("b", "c1", "P2", "High", "2021-06-01", received="2021-06-01T09:00:00Z")
    final, summary = run_step(write_step_inputs(tmp_path, FOUR, "c1,P1,High,,,2021-06-01\n"),
                              "--feedback-table", FEEDBACK_TABLE)
    assert dict(zip(final["recommended_product"], final["feedback_weight"])) == {"P2": 1.3, "P3": 1.0, "P4": 1.0}
    assert summary["input_validation"]["superseded_by_later_feedback"] == 2


@pytest.mark.parametrize("put,rule,column,value", [
    (dict(rating=None), "missing_field", "rating", ""),
    (dict(rating="High", rating_attribute={"BOOL": True}), "missing_field", "rating", ""),
    (dict(rating="High", date="someday"), "unparseable_date", "feedback_date", "someday"),
    (dict(rating="Great"), "invalid_rating", "rating", "Great"),
    (dict(rating="Medium", sentiment="positive"), "missing_reason_code", "reason_code", ""),
    (dict(rating="Low", reason="N/A"), "missing_reason_code", "reason_code", "n/a"),
    (dict(rating="High", customer="c7"), "unknown_customer", "customer_id", "c7"),
    (dict(rating="High", product="P77"), "unknown_product", "product_id", "P77"),
])
def test_run_badTableRow_countedUnderItsRuleWithItsKey(tmp_path, feedback_table, dynamodb, put, rule, column, value):
    put = dict(put)
    attribute = put.pop("rating_attribute", None)
    feedback_table("good", "c1", "P2", "High", "2021-06-01")
    feedback_table("bad", put.pop("customer", "c1"), put.pop("product", "P1"), put.pop("rating"),
                   put.pop("date", "2021-06-01"), received="2021-06-30T11:00:00Z", **put)
    if attribute is not None:
        dynamodb.update_item(TableName=FEEDBACK_TABLE, Key={"idempotency_key": {"S": "bad"}},
                              UpdateExpression="SET rating = :r", ExpressionAttributeValues={":r": attribute})
    _, summary = run_step(write_step_inputs(tmp_path, FOUR, None), "--feedback-table", FEEDBACK_TABLE,
                          feedback_uri="")
    validation = summary["input_validation"]
    assert {r: n for r, n in validation["dropped_by_rule"].items() if n} == {rule: 1}
    assert validation["dropped_examples"] == {rule: [{"file": "dynamodb:" + FEEDBACK_TABLE, "line": 2,
                                                      "column": column, "value": value, "key": "bad"}]}
    assert summary["overall"]["feedback"] == 1


def test_run_tableAndCsvBadRows_countedTogetherPerRule(tmp_path, feedback_table):
    feedback_table("t1", "c1", "P1", "Great", "2021-06-01")
    feedback_table("t2", "c7", "P1", "High", "2021-06-01")
    _, summary = run_step(write_step_inputs(tmp_path, FOUR, "c1,P2,Great,,,2021-06-01\nc1,P3,High,,,2021-06-01\n"),
                          "--feedback-table", FEEDBACK_TABLE)
    validation = summary["input_validation"]
    assert (validation["rows_read"], validation["rows_kept"], validation["rows_dropped"]) == (4, 1, 3)
    assert {r: n for r, n in validation["dropped_by_rule"].items() if n} == {"invalid_rating": 2,
                                                                           "unknown_customer": 1}
    assert [e.get("key") for e in validation["dropped_examples"]["invalid_rating"]] == [None, "t1"]


def test_run_emptyTable_warnsAndCalibratesWithoutFeedback(tmp_path, feedback_table, capsys):
    final, summary = run_step(write_step_inputs(tmp_path, FOUR, None), "--feedback-table", FEEDBACK_TABLE,
                              feedback_uri="")
    out = capsys.readouterr().out
    assert "WARNING: feedback table %s is empty" % FEEDBACK_TABLE in out
    assert "WARNING: no feedback found; recommendations are calibrated without feedback" in out
    assert len(final) == 4 and summary["overall"] is None and summary["input_validation"] == {
        "older_than_recency": 0, "superseded_by_later_feedback": 0, "unrecognised_sentiment": 0}


def test_run_tableThatDoesNotExist_failsNamingIt(tmp_path, dynamodb):
    write_step_inputs(tmp_path, FOUR, None)
    failure = tmp_path / "failure"
    assert fc.main(["--recommendations", str(tmp_path / "recommendations"), "--reference", str(tmp_path / "reference"),
                    "--output-dir", str(tmp_path / "out"), "--feedback-table", "nowhere",
                    "--failure-file", str(failure)]) == 2
    assert failure.read_text() == ("FeedbackCalibration failed: feedback table nowhere does not exist; "
                                   "--feedback-table must name the table the API writes (or be empty)")


def test_fetch_feedback_table_moreThanOneScanPage_readsEveryItem(feedback_table, dynamodb):
    # About 4 KB per item: 300 items are more than the 1 MB a Scan page holds.
    for number in range(300):
        feedback_table("k%03d" % number, "c1", "P2", "High", "2021-06-01", padding={"S": "x" * 4000})
    assert "LastEvaluatedKey" in dynamodb.scan(TableName=FEEDBACK_TABLE)
    source, rows = fc.fetch_feedback_table(FEEDBACK_TABLE)
    assert source == "dynamodb:" + FEEDBACK_TABLE and len(rows) == 300
    assert rows["_key"].tolist() == ["k%03d" % n for n in range(300)]
    assert list(rows.columns) == list(fc.TABLE_FIELDS) + ["_key", "_received"]


@pytest.mark.parametrize("value,text", [
    ({"S": "High"}, "High"), ({"N": "7"}, "7"), ({"NULL": True}, ""), ({"BOOL": False}, ""), ({"L": []}, ""),
    (None, ""),
])
def test_attribute_text_stringsAndNumbersOnly(value, text):
    assert fc.attribute_text(value) == text
