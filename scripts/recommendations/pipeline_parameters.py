"""The recommendations pipeline's 32 parameters (the IPRE specification, section 5): names, defaults, types, which step
consumes each, and their validation. Every step script builds its command-line options from this table and validates
them here, so a bad value fails the step with the parameter's name, the value and what would be valid.

    python3 pipeline_parameters.py --json                     # the table as JSON, for generating the definition
    python3 pipeline_parameters.py --markdown                 # the table as Markdown (README.md holds it)
    python3 pipeline_parameters.py MinLift=1.5 TopK=10 ...    # validates values, exit 2 with every problem

The pipeline passes each value as a container argument (`--min-lift 1.5`, the kebab-case of the name) or, for the
training job, as a hyperparameter of that name. Values arrive as text, as SageMaker renders every parameter;
integers written as "8.0" are accepted because a typed parameter joined into a string may render that way.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

FEATURE_GROUPS = ("l2_qty", "brand", "functionality", "rfm")
APPROVAL_STATUSES = ("Approved", "PendingManualApproval", "Rejected")
SCORE_WEIGHTS = ("WConf", "WSupp", "WLift", "WRecency")
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$")


class ParameterError(ValueError):
    """One or more parameter values are invalid; the message names each parameter, its value and what is valid."""


@dataclass(frozen=True)
class Parameter:
    name: str
    default: str
    kind: str  # "integer" | "float" | "string": the SageMaker parameter type to declare
    group: str
    steps: Sequence[str]  # the steps (or definition elements) that consume it
    valid: str  # what is valid, in words, for messages and the README
    description: str
    check: Callable[[object], bool]

    @property
    def option(self) -> str:
        """The command-line option, the name in kebab case: MinLift -> --min-lift, WConf -> --w-conf,
        L3TiebreakMargin -> --l3-tiebreak-margin."""
        return "--" + re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", self.name).lower()

    @property
    def script_option(self) -> Optional[str]:
        """The option a step script takes, or None for group A, which the definition itself consumes."""
        return None if self.group == "A" else self.option

    @property
    def dest(self) -> str:
        return self.option[2:].replace("-", "_")


def _integer(minimum: int, maximum: Optional[int] = None) -> Callable[[object], bool]:
    return lambda v: v >= minimum and (maximum is None or v <= maximum)


def _number(low: float, high: float = math.inf, low_open: bool = False, high_open: bool = False
            ) -> Callable[[object], bool]:
    return lambda v: (v > low if low_open else v >= low) and (v < high if high_open else v <= high)


def _always(_: object) -> bool:
    return True


def _p(name: str, default: str, kind: str, group: str, steps: Sequence[str], valid: str, description: str,
       check: Callable[[object], bool] = _always) -> Parameter:
    return Parameter(name, default, kind, group, tuple(steps), valid, description, check)


MB, TC, AS, RK, FC = "MarketBasket", "TrainClustering", "Associations", "Ranking", "FeedbackCalibration"

PARAMETERS: List[Parameter] = [
    # Group A: data inputs. The definition turns these into ProcessingInputs and RegisterModel's approval status.
    _p("InputCustomers", "s3://<data-bucket>/recommendations/input/customers/", "string", "A",
       ["MarketBasket input 'customers'"], "an s3:// URI (s3://bucket/key)", "S3 URI of the customer master",
       lambda v: bool(_S3_URI.match(v))),
    _p("InputProducts", "s3://<data-bucket>/recommendations/input/products/", "string", "A",
       ["MarketBasket input 'products'"], "an s3:// URI (s3://bucket/key)", "S3 URI of the product master",
       lambda v: bool(_S3_URI.match(v))),
    _p("InputInvoices", "s3://<data-bucket>/recommendations/input/invoices/", "string", "A",
       ["MarketBasket input 'invoices'"], "an s3:// URI (s3://bucket/key)", "S3 URI of the invoice history",
       lambda v: bool(_S3_URI.match(v))),
    _p("ModelApprovalStatus", "Approved", "string", "A", ["RegisterModel"], "one of " + ", ".join(APPROVAL_STATUSES),
       "Set to PendingManualApproval to gate deployment", lambda v: v in APPROVAL_STATUSES),
    # Group B: market basket.
    _p("MinOrderCount", "1", "integer", "B", [MB], "an integer >= 1", "Exclude customers with fewer invoices",
       _integer(1)),
    _p("RecencyCutoffDays", "730", "integer", "B", [MB], "an integer >= 1",
       "Ignore invoices older than N days before the reference date", _integer(1)),
    # Group C: clustering.
    _p("MaxK", "8", "integer", "C", [TC], "an integer >= 2", "Maximum clusters per segment", _integer(2)),
    _p("MinClusterCustomers", "6", "integer", "C", [TC], "an integer >= 2",
       "Min customers to attempt clustering; smaller segments get one cluster", _integer(2)),
    _p("ElbowThreshold", "10.0", "float", "C", [TC], "a number > 0 and < 100 (percent)",
       "% inertia drop below which the elbow is detected", _number(0.0, 100.0, low_open=True, high_open=True)),
    _p("FeatureGroups", "l2_qty,brand,functionality,rfm", "string", "C", [TC],
       "a comma-separated, non-empty list without repeats of " + ", ".join(FEATURE_GROUPS),
       "Feature groups to include"),
    _p("RandomState", "42", "integer", "C", [TC], "an integer from 0 to 4294967295", "KMeans random seed",
       _integer(0, 2 ** 32 - 1)),
    _p("NInit", "15", "integer", "C", [TC], "an integer from 1 to 1000", "KMeans n_init", _integer(1, 1000)),
    # Group D: association mining.
    _p("WindowDays", "0", "integer", "D", [AS], "an integer >= 0 (0 = computed from the data)",
       "Basket window days (0 = median of per-customer median gaps, clamped to 7..90)", _integer(0)),
    _p("MinLift", "1.2", "float", "D", [AS, RK], "a number >= 0", "Minimum lift to keep a rule", _number(0.0)),
    _p("MinAbsFreq", "2", "integer", "D", [AS], "an integer >= 1", "Absolute minimum basket frequency floor",
       _integer(1)),
    _p("MinFreqRatio", "0.03", "float", "D", [AS], "a number from 0 to 1",
       "Proportional minimum (share of the cluster's baskets)", _number(0.0, 1.0)),
    _p("DecayLambda", "0.001", "float", "D", [AS], "a number >= 0",
       "Exponential decay rate of weighted support (0.001 = ~693 day half-life)", _number(0.0)),
    # Group E: ranking and scoring.
    _p("MinSupport", "0.01", "float", "E", [RK], "a number from 0 to 1", "Minimum support threshold",
       _number(0.0, 1.0)),
    _p("MinConfidence", "0.05", "float", "E", [RK, FC], "a number from 0 to 1", "Minimum confidence threshold",
       _number(0.0, 1.0)),
    _p("TopK", "5", "integer", "E", [RK, FC], "an integer from 1 to 100", "Max recommendations per customer",
       _integer(1, 100)),
    _p("WConf", "0.45", "float", "E", [RK], "a number from 0 to 1 (the four weights must not all be 0)",
       "Confidence weight in the score formula", _number(0.0, 1.0)),
    _p("WSupp", "0.20", "float", "E", [RK], "a number from 0 to 1 (the four weights must not all be 0)",
       "Support weight in the score formula", _number(0.0, 1.0)),
    _p("WLift", "0.20", "float", "E", [RK], "a number from 0 to 1 (the four weights must not all be 0)",
       "Lift weight in the score formula", _number(0.0, 1.0)),
    _p("WRecency", "0.15", "float", "E", [RK], "a number from 0 to 1 (the four weights must not all be 0)",
       "Recency weight in the score formula", _number(0.0, 1.0)),
    _p("MaxLiftNormalise", "5.0", "float", "E", [RK], "a number > 1", "Lift normalisation ceiling",
       _number(1.0, low_open=True)),
    _p("L3TiebreakMargin", "0.02", "float", "E", [RK], "a number from 0 to 1", "L3 affinity tie-break bonus",
       _number(0.0, 1.0)),
    # Group F: feedback calibration.
    _p("WeightHigh", "1.3", "float", "F", [FC], "a number from 0 to 10", "Score multiplier for High rating",
       _number(0.0, 10.0)),
    _p("WeightMedPos", "1.0", "float", "F", [FC], "a number from 0 to 10", "Multiplier for Medium + positive",
       _number(0.0, 10.0)),
    _p("WeightMedNeg", "0.4", "float", "F", [FC], "a number from 0 to 10", "Multiplier for Medium + negative",
       _number(0.0, 10.0)),
    _p("WeightLow", "0.1", "float", "F", [FC], "a number from 0 to 10", "Score multiplier for Low rating",
       _number(0.0, 10.0)),
    _p("ScoreCutoff", "0.08", "float", "F", [FC], "a number from 0 to 1", "Minimum score after calibration",
       _number(0.0, 1.0)),
    _p("FeedbackRecencyDays", "365", "integer", "F", [FC], "an integer >= 1",
       "Only use feedback from the last N days", _integer(1)),
]
BY_NAME: Dict[str, Parameter] = {p.name: p for p in PARAMETERS}


def _convert(parameter: Parameter, text: str) -> object:
    """The typed value of `text`, or raises ValueError when it is not of the parameter's kind."""
    text = str(text).strip()
    if parameter.kind == "string":
        return text
    number = float(text)  # ValueError for anything that is not a number
    if not math.isfinite(number):
        raise ValueError(text)
    if parameter.kind == "integer":
        if number != int(number):
            raise ValueError(text)
        return int(number)
    return number


def _feature_groups(text: str) -> List[str]:
    groups = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not groups or any(g not in FEATURE_GROUPS for g in groups) or len(set(groups)) != len(groups):
        raise ValueError(text)
    return groups


def parse_value(name: str, text: object) -> object:
    """The typed, validated value of one parameter; raises ParameterError naming the parameter, value and rule."""
    parameter = BY_NAME[name]
    try:
        value = _feature_groups(str(text)) if name == "FeatureGroups" else _convert(parameter, str(text))
        if name != "FeatureGroups" and not parameter.check(value):
            raise ValueError(text)
    except ValueError:
        label = "%s (%s)" % (name, parameter.script_option) if parameter.script_option else name
        raise ParameterError("%s = %r is invalid: expected %s" % (label, str(text), parameter.valid)) from None
    return value


def validate(values: Dict[str, object]) -> Dict[str, object]:
    """Typed values of the given parameters; every problem (including cross-parameter rules) in one ParameterError."""
    problems: List[str] = []
    typed: Dict[str, object] = {}
    for name, text in values.items():
        if name not in BY_NAME:
            problems.append("unknown parameter %r; valid parameters: %s" % (name, ", ".join(BY_NAME)))
            continue
        try:
            typed[name] = parse_value(name, text)
        except ParameterError as error:
            problems.append(str(error))
    if all(w in typed for w in SCORE_WEIGHTS) and sum(typed[w] for w in SCORE_WEIGHTS) <= 0:
        problems.append("%s are all 0: at least one score weight must be > 0"
                        % ", ".join("%s=%r" % (w, str(values[w])) for w in SCORE_WEIGHTS))
    if problems:
        raise ParameterError("; ".join(problems))
    return typed


def consumed_by(step: str) -> List[Parameter]:
    return [p for p in PARAMETERS if step in p.steps]


def add_arguments(parser: argparse.ArgumentParser, step: str) -> None:
    """Adds the options of the parameters `step` consumes, as text with the specification's defaults."""
    for parameter in consumed_by(step):
        parser.add_argument(parameter.option, dest=parameter.dest, default=parameter.default,
                            help="%s (pipeline parameter %s; default %s)"
                                 % (parameter.description, parameter.name, parameter.default))


def from_arguments(args: argparse.Namespace, step: str) -> Dict[str, object]:
    """The validated, typed values of `step`'s parameters by pipeline parameter name."""
    return validate({p.name: getattr(args, p.dest) for p in consumed_by(step)})


def describe() -> List[Dict[str, object]]:
    return [{"name": p.name, "default": p.default, "type": p.kind, "group": p.group, "option": p.script_option,
             "consumed_by": list(p.steps), "valid": p.valid, "description": p.description} for p in PARAMETERS]


def markdown() -> str:
    lines = ["| Parameter | Default | Type | Option | Consumed by | Valid |", "|---|---|---|---|---|---|"]
    for p in PARAMETERS:
        option = "`%s`" % p.script_option if p.script_option else "(definition)"
        lines.append("| `%s` | `%s` | %s | %s | %s | %s |" % (p.name, p.default, p.kind, option,
                                                           ", ".join(p.steps), p.valid))
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the parameter table as JSON")
    parser.add_argument("--markdown", action="store_true", help="print the parameter table as Markdown")
    parser.add_argument("values", nargs="*", metavar="Name=Value")
    args = parser.parse_args(argv)
    if args.json:
        print(json.dumps(describe(), indent=2))
    if args.markdown:
        print(markdown())
    pairs = {}
    for item in args.values:
        name, separator, value = item.partition("=")
        if not separator:
            print("ERROR: %r is not Name=Value" % item, file=sys.stderr)
            return 2
        pairs[name.strip()] = value
    try:
        typed = validate(pairs)
    except ParameterError as error:
        print("ERROR: %s" % error, file=sys.stderr)
        return 2
    if pairs:
        print("valid: %s" % ", ".join("%s=%r" % item for item in typed.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
