"""FeedbackCalibration step (SageMaker Processing): applies account-manager feedback to the ranked recommendations,
removes weak ones, re-ranks, and summarises acceptance for tuning the next run.

    feedback_calibration.py --feedback-uri s3://<data-bucket>/recommendations/feedback/ \
        --feedback-table <feedback table> --weight-high 1.3 --weight-med-pos 1.0 --weight-med-neg 0.4 \
        --weight-low 0.1 --score-cutoff 0.08 --feedback-recency-days 365 --top-k 5 --min-confidence 0.05

Inputs: <processing>/input/recommendations/ (Ranking's recommendations.csv and ranking_report.json),
<processing>/input/reference/ (MarketBasket's customers.csv, products.csv and basket_report.json), and the feedback
CSVs (customer_id, product_id, rating, reason_code, sentiment, feedback_date) read at run time from --feedback-uri
(an s3:// prefix or object, or a local path): SageMaker checks every ProcessingInput when the job is created, so a
missing feedback file there would fail the run before it starts; here it is a logged warning. In addition, the
feedback the API stored in the DynamoDB table --feedback-table (read whole with Scan; endpoint from
AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL): each item's customer_id, product_id, rating, reason_code, sentiment
and feedback_date become a row like a CSV's (string or number attributes; anything else counts as empty), checked by
the same rules, and counted in the report under the source `dynamodb:<table>` with the item's idempotency_key in the
examples. An empty table, like an empty prefix, is a logged warning; a table that does not exist fails the step.
On equal feedback dates for one customer and product, a table row wins over a CSV row, and of two table rows the one
received later.
Outputs: <processing>/output/final/recommendations.csv (Ranking's columns plus feedback_weight) and
<processing>/output/feedback/feedback_summary.json.

Weight of a recommendation = the latest usable feedback on that customer and product within FeedbackRecencyDays of
the later of the reference date and the newest feedback date:

    High -> WeightHigh; Low -> WeightLow; none -> 1.0 (unchanged)
    Medium -> by the first signal found: 1. sentiment positive -> WeightMedPos, negative -> WeightMedNeg;
              2. reason_code known negative (not_relevant, wrong_category, price_too_high) -> WeightMedNeg,
                 known positive (good_fit, customer_interested) -> WeightMedPos; 3. otherwise 1.0 (unchanged)

score = min(score x weight, 1); rows with score < ScoreCutoff are removed (with or without feedback), each customer's
rows are re-ranked by score (earlier rank first on equal scores) and cut to TopK. Acceptance = share of High and
Medium-positive feedback; when it falls below 50%, the summary suggests MinConfidence + 0.05 for the next run.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import pandas as pd

import pipeline_io as io_
import pipeline_parameters as params

STEP = "FeedbackCalibration"
RULES = ("missing_field", "unparseable_date", "invalid_rating", "missing_reason_code", "unknown_customer",
         "unknown_product")
RATINGS = ("High", "Medium", "Low")
NEGATIVE_CODES = frozenset({"not_relevant", "wrong_category", "price_too_high"})
POSITIVE_CODES = frozenset({"good_fit", "customer_interested"})
CLASSES = ("high", "medium_positive", "medium_negative", "medium_no_signal", "low")
ACCEPTED = ("high", "medium_positive")
ACCEPTANCE_TARGET = 0.5
MIN_CONFIDENCE_STEP = 0.05
TABLE_FIELDS = ("customer_id", "product_id", "rating", "reason_code", "sentiment", "feedback_date")


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    root = io_.processing_root(Path(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    params.add_arguments(parser, STEP)
    parser.add_argument("--feedback-uri", default="", help="s3:// prefix or object, or local path; empty = none")
    parser.add_argument("--feedback-table", default="", help="DynamoDB table of the API's feedback; empty = none")
    parser.add_argument("--recommendations", type=Path, default=root / "input" / "recommendations")
    parser.add_argument("--reference", type=Path, default=root / "input" / "reference")
    parser.add_argument("--output-dir", type=Path, default=root / "output",
                        help="final/ and feedback/ are created under it")
    parser.add_argument("--failure-file", type=Path, action="append",
                        help="where the failure reason goes (repeatable); default <ml>/output/message and "
                             "<ml>/output/failure")
    args = parser.parse_args(argv)
    if args.failure_file is None:
        args.failure_file = io_.default_failure_files(root)
    return args


def normalise_code(texts: pd.Series) -> pd.Series:
    return texts.str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)


def classify(rating: pd.Series, sentiment: pd.Series, reason_code: pd.Series) -> np.ndarray:
    """The feedback class of each row (ratings already validated and capitalised, codes normalised), following the
    weight table and, for Medium, the priority: explicit sentiment, then the reason code, then no signal."""
    medium = rating == "Medium"
    explicit_positive, explicit_negative = sentiment == "positive", sentiment == "negative"
    explicit = explicit_positive | explicit_negative
    code_negative = ~explicit & reason_code.isin(NEGATIVE_CODES)
    code_positive = ~explicit & reason_code.isin(POSITIVE_CODES)
    return np.select(
        [rating == "High", rating == "Low", medium & (explicit_positive | code_positive),
         medium & (explicit_negative | code_negative)],
        ["high", "low", "medium_positive", "medium_negative"], default="medium_no_signal")


def class_weights(values: Dict[str, object]) -> Dict[str, float]:
    return {"high": values["WeightHigh"], "medium_positive": values["WeightMedPos"],
            "medium_negative": values["WeightMedNeg"], "medium_no_signal": 1.0, "low": values["WeightLow"]}


def fetch_feedback(uri: str, scratch: Path) -> Optional[Path]:
    """A local folder or file with the feedback CSVs, or None (with a warning when a location was given) when there
    are none."""
    uri = (uri or "").strip()
    if not uri:
        return None
    if uri.startswith("s3://"):
        return _download_s3(uri, scratch)
    path = Path(uri[len("file://"):] if uri.startswith("file://") else uri)
    if path.is_file() or (path.is_dir() and any(path.rglob("*.csv"))):
        return path
    io_.log("WARNING: no feedback CSV at %s" % uri)
    return None


def _download_s3(uri: str, scratch: Path) -> Optional[Path]:
    import boto3
    from botocore.config import Config

    bucket, _, prefix = uri[len("s3://"):].partition("/")
    # The boto3 of Debian and of the container predates the SDK's own AWS_ENDPOINT_URL support.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    client = boto3.client("s3", endpoint_url=endpoint or None,
                          config=Config(s3={"addressing_style": "path"}) if endpoint else None)
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", []) if item["Key"].lower().endswith(".csv")]
    if not keys:
        io_.log("WARNING: no feedback CSV under %s" % uri)
        return None
    for number, key in enumerate(sorted(keys)):
        # Numbered names keep two objects with the same base name apart and the files in key order.
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        (scratch / ("%05d_%s" % (number, key.rsplit("/", 1)[-1]))).write_bytes(body)
    io_.log("feedback: %d file(s) from %s" % (len(keys), uri))
    return scratch


def attribute_text(value: Optional[Dict[str, object]]) -> str:
    """The text of a string or number attribute; any other type, or none, is no value."""
    if not value:
        return ""
    if "S" in value:
        return str(value["S"])
    if "N" in value:
        return str(value["N"])
    return ""


def table_rows(items: List[Dict[str, Dict[str, object]]]) -> pd.DataFrame:
    """Feedback items as rows of the feedback CSV schema in the order they were received (then by key, so a later
    rating of a pair on the same feedback date wins), the idempotency_key in `_key`."""
    frame = pd.DataFrame({field: [attribute_text(item.get(field)) for item in items] for field in TABLE_FIELDS})
    frame["_key"] = [attribute_text(item.get("idempotency_key")) for item in items]
    frame["_received"] = [attribute_text(item.get("received_at")) for item in items]
    return frame.sort_values(["_received", "_key"], kind="mergesort").reset_index(drop=True)


def fetch_feedback_table(name: str) -> Optional[Tuple[str, pd.DataFrame]]:
    """The source name and rows of the feedback table, or None (with a warning when a table was given) when it has
    no item."""
    name = (name or "").strip()
    if not name:
        return None
    import boto3
    from botocore.exceptions import ClientError

    # The boto3 of Debian and of the container predates the SDK's own AWS_ENDPOINT_URL support.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    client = boto3.client("dynamodb", endpoint_url=endpoint or None)
    names = {"#a%d" % i: field for i, field in enumerate(("idempotency_key", "received_at") + TABLE_FIELDS)}
    items: List[Dict[str, Dict[str, object]]] = []
    try:
        for page in client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True,
                                                          ProjectionExpression=", ".join(names),
                                                          ExpressionAttributeNames=names):
            items += page.get("Items", [])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise io_.StepError("feedback table %s does not exist; --feedback-table must name the table the API "
                                "writes (or be empty)" % name) from error
        raise
    if not items:
        io_.log("WARNING: feedback table %s is empty" % name)
        return None
    io_.log("feedback: %d item(s) from table %s" % (len(items), name))
    return "dynamodb:%s" % name, table_rows(items)


def load_feedback(location: Optional[Path], records: List[Tuple[str, pd.DataFrame]], customers: pd.Series,
                  products: pd.Series) -> io_.Table:
    """The feedback CSVs at `location` and the table rows of `records` as one input, every row checked by RULES."""
    table = io_.read_table(location, "feedback", ["customer_id", "product_id", "rating", "feedback_date"], RULES,
                           optional=["reason_code", "sentiment"], records=records)
    frame = table.frame
    frame["date"] = io_.parse_dates(frame["feedback_date"])
    table.drop("unparseable_date", frame["date"].isna().to_numpy(), "feedback_date")
    rating = frame["rating"].str.capitalize()
    table.drop("invalid_rating", ~rating.isin(RATINGS).to_numpy(), "rating")
    frame["rating"] = rating
    frame["reason_code"] = normalise_code(frame["reason_code"])
    frame["sentiment"] = frame["sentiment"].str.strip().str.lower()
    no_code = io_.is_missing(frame["reason_code"])
    table.drop("missing_reason_code", (rating.isin(["Medium", "Low"]).to_numpy() & no_code), "reason_code")
    table.drop("unknown_customer", ~frame["customer_id"].isin(customers).to_numpy(), "customer_id")
    table.drop("unknown_product", ~frame["product_id"].isin(products).to_numpy(), "product_id")
    return table


def rates(classes: pd.Series) -> Dict[str, object]:
    counts = classes.value_counts()
    total = int(len(classes))
    result: Dict[str, object] = {"feedback": total,
                                 "acceptance_rate": float(counts.reindex(ACCEPTED).fillna(0).sum() / total)}
    for name in CLASSES:
        result["%s_rate" % name] = float(counts.get(name, 0) / total)
    return result


def summarise(feedback: pd.DataFrame, values: Dict[str, object]) -> Dict[str, object]:
    """Overall, per-segment and per-L2 acceptance, the reason-code distribution and threshold suggestions."""
    current = values["MinConfidence"]
    suggestion = {"MinConfidence": current, "ScoreCutoff": values["ScoreCutoff"]}
    if feedback.empty:
        suggestion["rationale"] = "No feedback. Holding thresholds."
        return {"overall": None, "by_segment": {}, "by_l2_category": {}, "reason_code_distribution": {},
                "threshold_suggestions": suggestion}
    overall = rates(feedback["class"])
    acceptance = overall["acceptance_rate"]
    if acceptance < ACCEPTANCE_TARGET:
        suggestion["MinConfidence"] = min(1.0, round(current + MIN_CONFIDENCE_STEP, 6))
        suggestion["rationale"] = "Acceptance rate=%.2f < %.2f. Tightening MinConfidence from %g to %g." % (
            acceptance, ACCEPTANCE_TARGET, current, suggestion["MinConfidence"])
    else:
        suggestion["rationale"] = "Acceptance rate=%.2f. Holding thresholds." % acceptance
    codes = feedback.loc[~io_.is_missing(feedback["reason_code"]), "reason_code"].value_counts()
    return {
        "overall": overall,
        "by_segment": {key: rates(group["class"]) for key, group in feedback.groupby("segment", sort=True)},
        "by_l2_category": {key: rates(group["class"]) for key, group in feedback.groupby("l2_category", sort=True)},
        "reason_code_distribution": {str(code): int(count) for code, count in sorted(codes.items())},
        "threshold_suggestions": suggestion,
    }


def calibrate(recommendations: pd.DataFrame, feedback: pd.DataFrame, values: Dict[str, object]
              ) -> Tuple[pd.DataFrame, Dict[str, int]]:
    """Weighted, cut, re-ranked recommendations and what each stage removed."""
    weights = feedback[["customer_id", "product_id", "weight"]].rename(columns={"product_id": "recommended_product",
                                                                                 "weight": "feedback_weight"})
    result = recommendations.merge(weights, on=["customer_id", "recommended_product"], how="left")
    result["feedback_weight"] = result["feedback_weight"].fillna(1.0)
    result["score"] = np.minimum(result["score"] * result["feedback_weight"], 1.0)
    above = result["score"] >= values["ScoreCutoff"]
    kept = result[above].sort_values(["customer_id", "score", "rank"], ascending=[True, False, True])
    kept["rank"] = kept.groupby("customer_id").cumcount() + 1
    final = kept[kept["rank"] <= values["TopK"]].reset_index(drop=True)
    return final, {"recommendations_in": int(len(recommendations)),
                   "with_feedback": int((result["feedback_weight"] != 1.0).sum()),
                   "removed_by_score_cutoff": int((~above).sum()),
                   "removed_by_top_k": int(len(kept) - len(final)),
                   "recommendations_out": int(len(final))}


def run(args: argparse.Namespace) -> Dict[str, object]:
    values = params.from_arguments(args, STEP)
    recommendations = io_.read_csv_output(args.recommendations / "recommendations.csv",
                                          {"customer_id": str, "recommended_product": str, "trigger_product": str,
                                           "cluster_id": str, "segment": str, "l2_category": str,
                                           "l3_category": str, "reason": str})
    ranking = json.loads((args.recommendations / "ranking_report.json").read_text(encoding="utf-8"))
    customers = io_.read_csv_output(args.reference / "customers.csv", {"customer_id": str, "segment": str})
    products = io_.read_csv_output(args.reference / "products.csv", {"product_id": str, "l2_category": str})
    basket_report = json.loads((args.reference / "basket_report.json").read_text(encoding="utf-8"))
    reference_date = pd.Timestamp(basket_report["reference_date"])

    validation: Dict[str, object] = {}
    usable = pd.DataFrame(columns=["customer_id", "product_id", "rating", "reason_code", "sentiment", "date"])
    if not args.feedback_uri.strip() and not args.feedback_table.strip():
        io_.log("WARNING: no feedback location given; recommendations are calibrated without feedback")
    with tempfile.TemporaryDirectory() as scratch:
        location = fetch_feedback(args.feedback_uri, Path(scratch))
        records = [found for found in [fetch_feedback_table(args.feedback_table)] if found is not None]
        if location is None and not records and (args.feedback_uri.strip() or args.feedback_table.strip()):
            io_.log("WARNING: no feedback found; recommendations are calibrated without feedback")
        if location is not None or records:
            table = load_feedback(location, records, customers["customer_id"], products["product_id"])
            io_.log("validation: %s" % table.report.summary())
            validation = table.report.as_dict()
            if table.good.any():
                usable = table.kept(["customer_id", "product_id", "rating", "reason_code", "sentiment", "date"])
            else:
                io_.log("WARNING: no usable feedback row (%s); calibrating without feedback"
                        % table.report.summary())
    newest = usable["date"].max() if len(usable) else reference_date
    as_of = max(reference_date, newest)
    recent = usable[(as_of - usable["date"]).dt.days <= values["FeedbackRecencyDays"]] if len(usable) else usable
    latest = recent.sort_values("date", kind="mergesort").drop_duplicates(["customer_id", "product_id"], keep="last")
    latest = latest.assign(**{"class": classify(latest["rating"], latest["sentiment"], latest["reason_code"])})
    latest["weight"] = latest["class"].map(class_weights(values)).astype(float)
    latest = latest.merge(customers[["customer_id", "segment"]], on="customer_id", how="left")
    latest = latest.merge(products[["product_id", "l2_category"]], on="product_id", how="left")
    if latest.empty:
        io_.log("WARNING: no feedback within FeedbackRecencyDays=%d of %s; recommendations keep their scores"
                % (values["FeedbackRecencyDays"], as_of.date()))

    final, calibration = calibrate(recommendations, latest, values)
    io_.write_csv(args.output_dir / "final" / "recommendations.csv", final)
    covered = int(final["customer_id"].nunique())
    calibration.update({"customers_out": covered,
                        "coverage": covered / ranking["customers"] if ranking["customers"] else 0.0})
    summary = dict(
        generated_at=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        reference_date=as_of.strftime("%Y-%m-%d"),
        feedback_source=args.feedback_uri or None,
        feedback_table=args.feedback_table or None,
        **summarise(latest, values),
        calibration=calibration,
        input_validation=dict(validation, older_than_recency=int(len(usable) - len(recent)),
                              superseded_by_later_feedback=int(len(recent) - len(latest)),
                              unrecognised_sentiment=int((~latest["sentiment"].isin(["", "positive", "negative"]))
                                                         .sum())),
        parameters=values,
    )
    io_.write_json(args.output_dir / "feedback" / "feedback_summary.json", summary)
    io_.log("feedback: %d rows used; %s" % (len(latest), summary["threshold_suggestions"]["rationale"]))
    io_.log("calibration: %d in, %d with feedback, %d below ScoreCutoff, %d beyond TopK, %d out for %d customers "
            "(coverage %.1f%%)" % (calibration["recommendations_in"], calibration["with_feedback"],
                                   calibration["removed_by_score_cutoff"], calibration["removed_by_top_k"],
                                   calibration["recommendations_out"], covered, 100 * calibration["coverage"]))
    io_.metric(STEP, "FinalCoverage", calibration["coverage"])
    io_.metric(STEP, "FinalRecommendations", calibration["recommendations_out"])
    if summary["overall"] is not None:
        io_.metric(STEP, "AcceptanceRate", summary["overall"]["acceptance_rate"])
    return summary


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return io_.run_step(STEP, lambda: run(args), args.failure_file)


if __name__ == "__main__":
    sys.exit(main())
