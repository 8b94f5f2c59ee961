"""What every recommendations step shares: reading the input CSVs with every bad row counted under the first rule it
breaks, the SageMaker path contract, failure reasons, reports and metric lines.

Runs unchanged in the SageMaker scikit-learn 1.2-1 container (Python 3.9) and Debian's Python 3.11. The steps import
it from their own folder: the pipeline packs scripts/recommendations/*.py flat into one sourcedir.tar.gz.
"""
from __future__ import annotations

import io
import json
import resource
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from pipeline_parameters import ParameterError

# Cell texts that mean "no value".
MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none"})
TRUE_TEXTS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_TEXTS = frozenset({"false", "f", "no", "n", "0"})
MAX_EXAMPLES_PER_RULE = 5

# Every row rule of every input table. A row is counted once, under the first rule it breaks, in the order each table
# lists its rules, so the counts of a table add up to its dropped rows exactly.
RULES: Dict[str, str] = {
    "missing_field": "a required field is empty or one of NA, N/A, NaN, null, None",
    "duplicate_customer_id": "the customer_id already appeared on an earlier row (the first row is kept)",
    "duplicate_product_id": "the product_id already appeared on an earlier row (the first row is kept)",
    "invalid_in_stock": "in_stock is not one of true/false, yes/no, y/n, t/f, 1/0",
    "invalid_price": "the price is not a number >= 0",
    "unparseable_date": "the date cannot be parsed",
    "non_numeric_quantity": "quantity is not a finite number",
    "non_positive_quantity": "quantity must be > 0",
    "unknown_customer": "customer_id is not a usable row of the customers input",
    "unknown_product": "product_id is not a usable row of the products input",
    "invalid_rating": "rating is not one of High, Medium, Low",
    "missing_reason_code": "a Medium or Low rating needs a reason_code",
}


class StepError(ValueError):
    """The input data or a parameter cannot be used; the message says what and how to fix it."""


# ---------------------------------------------------------------------------------------------------------------------
# Input tables
# ---------------------------------------------------------------------------------------------------------------------


@dataclass
class TableReport:
    table: str
    rules: Sequence[str]
    files: List[Dict[str, object]] = field(default_factory=list)
    rows_read: int = 0
    dropped_by_rule: Dict[str, int] = field(default_factory=dict)
    examples: Dict[str, List[Dict[str, object]]] = field(default_factory=dict)
    columns: Dict[str, str] = field(default_factory=dict)  # canonical column -> header it was read from

    def __post_init__(self) -> None:
        self.dropped_by_rule = {rule: 0 for rule in self.rules}
        self.examples = {rule: [] for rule in self.rules}

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped_by_rule.values())

    @property
    def rows_kept(self) -> int:
        return self.rows_read - self.rows_dropped

    def summary(self) -> str:
        parts = ["%s=%d" % (rule, count) for rule, count in self.dropped_by_rule.items() if count]
        return "%s: rows read %d, kept %d, dropped %d%s" % (
            self.table, self.rows_read, self.rows_kept, self.rows_dropped, " (%s)" % ", ".join(parts) if parts else "")

    def as_dict(self) -> Dict[str, object]:
        return {"files": self.files, "columns": self.columns, "rows_read": self.rows_read,
                "rows_kept": self.rows_kept, "rows_dropped": self.rows_dropped,
                "dropped_by_rule": dict(self.dropped_by_rule),
                "dropped_examples": {rule: list(found) for rule, found in self.examples.items() if found}}


class Table:
    """The rows of one input (every CSV file and other source of it) as stripped text, with the source and line of
    each row, and which rows a rule has dropped so far."""

    def __init__(self, frame: pd.DataFrame, report: TableReport, location: str) -> None:
        self.frame = frame
        self.report = report
        self.location = location
        self.bad = np.zeros(len(frame), dtype=bool)

    def drop(self, rule: str, mask: np.ndarray, column: str) -> None:
        """Drops the rows of `mask` not dropped yet, counting them under `rule`."""
        new = np.asarray(mask, dtype=bool) & ~self.bad
        count = int(new.sum())
        if not count:
            return
        self.report.dropped_by_rule[rule] += count
        room = MAX_EXAMPLES_PER_RULE - len(self.report.examples[rule])
        for position in np.flatnonzero(new)[:max(room, 0)]:
            example: Dict[str, object] = {
                "file": str(self.frame["_file"].iat[position]), "line": int(self.frame["_line"].iat[position]),
                "column": column, "value": str(self.frame[column].iat[position])}
            key = self.frame["_key"].iat[position] if "_key" in self.frame.columns else None
            if isinstance(key, str):
                example["key"] = key
            self.report.examples[rule].append(example)
        self.bad |= new

    @property
    def good(self) -> np.ndarray:
        return ~self.bad

    def kept(self, columns: Optional[Sequence[str]] = None) -> pd.DataFrame:
        """The rows no rule dropped; fails the step, with the counts as the reason, when there are none."""
        if not self.good.any():
            raise StepError("no usable rows in the %s input (%s): %s. Rules: %s" % (
                self.report.table, self.location, self.report.summary(),
                "; ".join("%s: %s" % (rule, RULES[rule]) for rule in self.report.rules)))
        chosen = [c for c in (columns or self.frame.columns) if not c.startswith("_")]
        return self.frame.loc[self.good, chosen].reset_index(drop=True)


def list_csv_files(location: Path) -> List[Path]:
    location = Path(location)
    if location.is_file():
        return [location]
    files = sorted(p for p in location.rglob("*.csv") if p.is_file()) if location.is_dir() else []
    if not files:
        raise StepError("no *.csv file found in %s" % location)
    return files


def _header_key(name: object) -> str:
    return "_".join(str(name).strip().lower().replace("-", " ").split())


def read_table(location: Optional[Path], table: str, required: Sequence[str], rules: Sequence[str],
               optional: Sequence[str] = (), alternatives: Optional[Dict[str, Sequence[str]]] = None,
               records: Sequence[Tuple[str, pd.DataFrame]] = ()) -> Table:
    """Reads every CSV at `location` (a file or a folder; None = no file), then each of `records`: further sources
    already read, a name and a frame of texts (such as a DynamoDB table's items; a `_key` column, when there is one,
    names each row in the examples, and rows are numbered from 1 where a CSV has line numbers). Headers match
    case-insensitively with spaces and hyphens read as underscores. `alternatives` maps a canonical column to the
    header names it may have, in priority order (the first one a source has is used). A source lacking a required
    column fails the step; an empty or missing-marker required field drops the row under missing_field."""
    alternatives = alternatives or {}
    report = TableReport(table, rules)
    sources = [(path.name, _read_csv(path, table, required), 2)  # line 1 is the header; one record per line
               for path in (list_csv_files(location) if location is not None else [])]
    sources += [(name, frame, 1) for name, frame in records]
    if not sources:
        raise StepError("no %s source given" % table)
    frames = []
    for name, raw, first_line in sources:
        header = [str(c) for c in raw.columns if not str(c).startswith("_")]
        keys: Dict[str, str] = {}
        for column in header:
            keys.setdefault(_header_key(column), column)
        chosen: Dict[str, str] = {}
        for column in list(required) + list(optional) + list(alternatives):
            for candidate in alternatives.get(column, (column,)):
                if candidate in keys:
                    chosen[column] = keys[candidate]
                    break
        missing = [column for column in required if column not in chosen]
        if missing:
            raise StepError("%s (%s input): header %s lacks required column(s) %s (names are case-insensitive)"
                            % (name, table, header, ", ".join(missing)))
        for column, source in chosen.items():
            previous = report.columns.setdefault(column, source)
            if _header_key(previous) != _header_key(source):
                raise StepError("%s (%s input) has %s under %r but an earlier file had it under %r; use one name"
                                % (name, table, column, source, previous))
        frame = pd.DataFrame({column: raw[source].str.strip() for column, source in chosen.items()})
        for column in list(optional) + list(alternatives):
            if column not in frame.columns:
                frame[column] = ""
        frame["_file"] = name
        frame["_line"] = np.arange(first_line, len(frame) + first_line)
        if "_key" in raw.columns:
            frame["_key"] = raw["_key"].to_numpy()
        report.files.append({"file": name, "rows_read": int(len(frame))})
        report.rows_read += len(frame)
        frames.append(frame)
    where = " and ".join(([str(location)] if location is not None else []) + [name for name, _ in records])
    result = Table(pd.concat(frames, ignore_index=True), report, where)
    for column in required:
        result.drop("missing_field", is_missing(result.frame[column]), column)
    return result


def _read_csv(path: Path, table: str, required: Sequence[str]) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError as error:
        raise StepError("%s (%s input) is empty: expected a header with %s"
                        % (path.name, table, ", ".join(required))) from error
    except pd.errors.ParserError as error:
        raise StepError("%s (%s input) is not a well-formed CSV: %s" % (path.name, table, error)) from error


def is_missing(texts: pd.Series) -> np.ndarray:
    return texts.str.lower().isin(MISSING_MARKERS).to_numpy()


def parse_dates(texts: pd.Series) -> pd.Series:
    """Calendar dates (datetime64, midnight, timezone-naive) of date texts, NaT where unparseable. Texts with a zone
    are converted to UTC first; texts without one are read as UTC. Each distinct text is parsed once."""
    unique = pd.unique(texts.to_numpy())
    parsed = pd.to_datetime(pd.Series(unique), errors="coerce", utc=True)
    # Parse what the vectorised pass could not one by one: it may infer one format for the whole column.
    for position in np.flatnonzero(parsed.isna().to_numpy()):
        try:
            parsed.iat[position] = pd.to_datetime(unique[position], utc=True)
        except (ValueError, TypeError, OverflowError):
            pass
    days = parsed.dt.tz_convert(None).dt.normalize()
    return pd.Series(days.to_numpy()[pd.Index(unique).get_indexer(texts.to_numpy())], index=texts.index)


def parse_bool(texts: pd.Series) -> pd.Series:
    """True/False, or NaN for text that is neither."""
    lowered = texts.str.lower()
    return pd.Series(np.where(lowered.isin(TRUE_TEXTS), 1.0, np.where(lowered.isin(FALSE_TEXTS), 0.0, np.nan)),
                     index=texts.index)


def pairs_in(first: pd.Series, second: pd.Series, other_first: pd.Series, other_second: pd.Series) -> np.ndarray:
    """Whether each (first, second) pair occurs among the (other_first, other_second) pairs. Pairs are coded as one
    integer each: much faster than a MultiIndex lookup, which builds a tuple per row."""
    codes_first, _ = pd.factorize(pd.concat([first, other_first], ignore_index=True))
    codes_second, seconds = pd.factorize(pd.concat([second, other_second], ignore_index=True))
    keys = codes_first.astype(np.int64) * max(len(seconds), 1) + codes_second
    return np.isin(keys[:len(first)], keys[len(first):])


def read_csv_output(path: Path, dtypes: Optional[Dict[str, str]] = None) -> pd.DataFrame:
    """Reads a CSV one of the steps wrote (already validated); ids stay text."""
    path = Path(path)
    if not path.is_file():
        raise StepError("%s not found: the step that writes it must run first and its output be mapped here" % path)
    return pd.read_csv(path, dtype=dtypes or {}, keep_default_na=False, na_values=[""])


# ---------------------------------------------------------------------------------------------------------------------
# The clustering model archive
# ---------------------------------------------------------------------------------------------------------------------


def read_model_files(model_dir: Path, names: Iterable[str]) -> Dict[str, bytes]:
    """Files from the single model.tar.gz in `model_dir` (what TrainClustering produced). SageMaker does not unpack
    archives in Processing inputs, so the steps read the members they need straight from it."""
    archives = sorted(Path(model_dir).glob("*.tar.gz"))
    if len(archives) != 1:
        raise StepError("expected exactly one *.tar.gz in %s, found %s"
                        % (model_dir, [a.name for a in archives] or "none"))
    wanted = set(names)
    found: Dict[str, bytes] = {}
    with tarfile.open(archives[0], "r:gz") as archive:
        for member in archive.getmembers():
            name = member.name[2:] if member.name.startswith("./") else member.name
            if name in wanted and member.isfile():
                found[name] = archive.extractfile(member).read()
    missing = sorted(wanted - set(found))
    if missing:
        raise StepError("%s lacks %s" % (archives[0].name, ", ".join(missing)))
    return found


def read_customer_clusters(model_dir: Path) -> pd.DataFrame:
    data = read_model_files(model_dir, ["customer_clusters.csv"])["customer_clusters.csv"]
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


# ---------------------------------------------------------------------------------------------------------------------
# Paths, reports, metrics and failures
# ---------------------------------------------------------------------------------------------------------------------


def processing_root(script: Path) -> Path:
    """/opt/ml/processing in the container. The local runner maps /opt/ml to <work>/<step>/opt/ml and starts the
    script from <root>/processing/code/, so the root is derived from where the script was unpacked."""
    script = Path(script).resolve()
    if script.parent.name == "code" and script.parent.parent.name == "processing":
        return script.parent.parent
    return Path("/opt/ml/processing")


def default_failure_files(root: Path) -> List[Path]:
    """<ml>/output/message (Processing's ExitMessage) and <ml>/output/failure (what the local runner reads)."""
    return [root.parent / "output" / "message", root.parent / "output" / "failure"]


def write_json(path: Path, payload: object) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def log(message: str) -> None:
    print(message, flush=True)


def metric(step: str, name: str, value: float) -> None:
    """One JSON line per metric. CloudWatch metric filters on the job's log group turn `$.metric`/`$.value` into
    metrics (Processing jobs have no metric definitions); the training job's MetricDefinitions match the same line."""
    print(json.dumps({"metric": name, "value": float(value), "step": step}), flush=True)


def report_failure(message: str, failure_files: Sequence[Path]) -> None:
    """Prints the reason and writes it where SageMaker (and the local runner) pick it up as the failure reason, each
    file only when its folder exists, i.e. inside a job."""
    print("ERROR: %s" % message, file=sys.stderr, flush=True)
    for path in failure_files:
        if Path(path).parent.is_dir():
            Path(path).write_text(message[:1024], encoding="utf-8")


def run_step(step: str, action: Callable[[], object], failure_files: Sequence[Path]) -> int:
    """Runs a step: bad input or a bad parameter exits 2 with its message as the failure reason; anything else also
    records a reason and then propagates with its traceback (exit 1). Either way the step's peak resident memory is
    its last metric line, what a job's instance type is sized by (and what the pipeline benchmark reads)."""
    try:
        action()
    except (StepError, ParameterError) as error:
        report_failure("%s failed: %s" % (step, error), failure_files)
        return 2
    except Exception as error:
        report_failure("%s failed unexpectedly: %s: %s" % (step, type(error).__name__, error), failure_files)
        raise
    finally:
        metric(step, "PeakMemoryMB", peak_memory_mb())
    return 0


def peak_memory_mb() -> float:
    """This process's peak resident set size so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
