"""Preprocess step (SageMaker Processing): validates the customers CSV(s), writes a deterministic train/validation
split and data_profile.json.

    preprocess.py --features Age,Income,Purchases --validation-fraction 0.2 --random-seed 42

Inputs: every *.csv under <processing>/input/data. Outputs: <processing>/output/train/train.csv,
<processing>/output/validation/validation.csv, <processing>/output/profile/data_profile.json, where <processing> is
/opt/ml/processing in the container (see segments.processing_root for the local runner).

Validation (segments.RULES; each dropped row is counted under the first rule it breaks, with up to five examples by
file and line in the profile): a needed column empty or NA/N/A/NaN/null/None (missing_value) or not a finite number
(non_numeric); Age outside [0, 120] (age_out_of_range: the range of a living person, no business assumption);
Income < 0; Purchases < 0; Purchases == 0 when SpendingPower = Income / Purchases is a feature. Only the columns the
features need are checked; Gender and unknown columns are ignored. No usable rows fails the step (exit 2) with the
counts as the failure reason.

The split files hold the customer id (when the input had one) and the validated input columns the features need, in
raw units; train.py and evaluate.py derive the features from them with the same recipe. A row goes to validation when a
keyed hash of its customer id (or of its values, without an id) falls below the validation fraction: the split does not
depend on row order, and a customer stays on its side when new rows arrive.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

import segments


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    root = segments.processing_root(Path(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", default=segments.DEFAULT_FEATURES)
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--random-seed", type=int, default=42)
    parser.add_argument("--input-dir", type=Path, default=root / "input" / "data")
    parser.add_argument("--output-dir", type=Path, default=root / "output",
                        help="train/, validation/ and profile/ are created under it")
    parser.add_argument("--failure-file", type=Path, action="append",
                        help="where the failure reason goes (repeatable); default <ml>/output/message (Processing's "
                             "ExitMessage) and <ml>/output/failure (what the local runner reads)")
    args = parser.parse_args(argv)
    if args.failure_file is None:
        args.failure_file = [root.parent / "output" / "message", root.parent / "output" / "failure"]
    return args


def run(args: argparse.Namespace) -> dict:
    features = segments.parse_features(args.features)
    if not 0.0 < args.validation_fraction < 1.0:
        raise segments.DataError("--validation-fraction must be > 0 and < 1, got %r" % args.validation_fraction)
    if args.random_seed < 0:
        raise segments.DataError("--random-seed must be >= 0, got %d" % args.random_seed)
    data = segments.load_customers(args.input_dir, features)
    report = data.report
    print("validation: %s" % report.summary(), flush=True)
    for rule, examples in report.examples.items():
        for example in examples:
            print("dropped (%s): %s line %d column %s value %r"
                  % (rule, example["file"], example["line"], example["column"], example["value"]), flush=True)

    is_validation = segments.split_fraction_keys(data, args.random_seed) < args.validation_fraction
    train, validation = data.frame[~is_validation], data.frame[is_validation]
    if len(train) == 0 or len(validation) == 0:
        raise segments.DataError(
            "the split of %d usable rows with --validation-fraction %g left the %s set empty; provide more rows"
            % (len(data.frame), args.validation_fraction, "train" if len(train) == 0 else "validation"))
    for name, part in (("train", train), ("validation", validation)):
        folder = args.output_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        part.to_csv(folder / ("%s.csv" % name), index=False)

    matrix = segments.compute_features(data.frame, features)
    profile = {
        "features": features,
        "feature_recipe": segments.recipe_spec(features),
        "input_columns": segments.required_inputs(features),
        "has_customer_ids": data.has_ids,
        "files": report.files,
        "rows_read": report.rows_read,
        "rows_kept": report.rows_kept,
        "rows_dropped": report.rows_dropped,
        "dropped_by_rule": report.dropped_by_rule,
        "rules": segments.RULES,
        "dropped_examples": {rule: examples for rule, examples in report.examples.items() if examples},
        "split": {
            "method": "keyed blake2b hash of customer id (or of the row's values without an id) < validation_fraction",
            "validation_fraction": args.validation_fraction,
            "random_seed": args.random_seed,
            "train_rows": int(len(train)),
            "validation_rows": int(len(validation)),
        },
        "feature_stats": segments.feature_stats(matrix, features),
    }
    segments.write_json(args.output_dir / "profile" / "data_profile.json", profile)
    print("split: train %d rows, validation %d rows" % (len(train), len(validation)), flush=True)
    return profile


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return segments.run_step("preprocess", lambda: run(args), args.failure_file)


if __name__ == "__main__":
    sys.exit(main())
