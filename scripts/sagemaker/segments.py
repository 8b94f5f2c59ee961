"""Logic shared by preprocess.py, train.py, evaluate.py and inference.py: one implementation of the feature recipe,
row validation, the model bundle, clustering metrics, stable segment ids and segment labels.

Runs unchanged in the SageMaker scikit-learn 1.2-1 container (Python 3.9) and Debian's Python 3.11; all four scripts
import it from their own folder (SageMaker unpacks sourcedir.tar.gz flat, so this file sits next to them).
"""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
import sklearn
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

# ---------------------------------------------------------------------------------------------------------------------
# Feature recipe
# ---------------------------------------------------------------------------------------------------------------------

INPUT_COLUMNS = ("Age", "Income", "Purchases")
ID_COLUMN = "CustomerID"
# Canonical feature name -> (input columns it needs, formula as the spec documents it for the API proxy).
FEATURE_RECIPE: Dict[str, Tuple[Tuple[str, ...], str]] = {
    "Age": (("Age",), "Age"),
    "Income": (("Income",), "Income"),
    "Purchases": (("Purchases",), "Purchases"),
    "SpendingPower": (("Income", "Purchases"), "Income / Purchases"),
}
DEFAULT_FEATURES = "Age,Income,Purchases"

# Header names are matched case-insensitively with spaces, underscores and hyphens ignored.
_HEADER_ALIASES = {
    "age": "Age",
    "gender": "Gender",
    "income": "Income",
    "purchases": "Purchases",
    "customerid": ID_COLUMN,
    "id": ID_COLUMN,
}
# Cell texts that mean "no value" rather than "a value that is not a number".
_MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none"})

AGE_RANGE = (0.0, 120.0)

# Row validation rules in the order they are checked; a bad row is counted under the first rule it breaks, so the
# counts add up to the number of dropped rows exactly.
RULES: Dict[str, str] = {
    "missing_value": "a column the features need is empty or one of NA, N/A, NaN, null, None",
    "non_numeric": "a column the features need is not a finite number",
    "age_out_of_range": "Age must be within [%g, %g]" % AGE_RANGE,
    "negative_income": "Income must be >= 0",
    "negative_purchases": "Purchases must be >= 0",
    "zero_purchases": "Purchases must be > 0 when SpendingPower (Income / Purchases) is a feature",
}
MAX_EXAMPLES_PER_RULE = 5


class DataError(ValueError):
    """The input data or a parameter cannot be used; the message says what and how to fix it."""


def parse_features(text: str) -> List[str]:
    """Parses `--features` ("Age,Income,SpendingPower"), case-insensitively, into canonical names in the given order."""
    canonical = {name.lower(): name for name in FEATURE_RECIPE}
    names = [part.strip() for part in str(text).split(",") if part.strip()]
    if not names:
        raise DataError("--features is empty; valid features: %s" % ", ".join(FEATURE_RECIPE))
    unknown = [name for name in names if name.lower() not in canonical]
    if unknown:
        raise DataError("unknown feature(s) %s in --features %r; valid features: %s"
                        % (", ".join(repr(u) for u in unknown), text, ", ".join(FEATURE_RECIPE)))
    result = [canonical[name.lower()] for name in names]
    duplicates = sorted({name for name in result if result.count(name) > 1})
    if duplicates:
        raise DataError("feature(s) %s listed more than once in --features %r" % (", ".join(duplicates), text))
    return result


def required_inputs(features: Sequence[str]) -> List[str]:
    needed = {column for feature in features for column in FEATURE_RECIPE[feature][0]}
    return [column for column in INPUT_COLUMNS if column in needed]


def compute_features(inputs: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    """Feature matrix (rows x features, float64) from validated numeric input columns."""
    columns = []
    for feature in features:
        if feature == "SpendingPower":
            columns.append(inputs["Income"].to_numpy(dtype=float) / inputs["Purchases"].to_numpy(dtype=float))
        else:
            columns.append(inputs[feature].to_numpy(dtype=float))
    return np.column_stack(columns)


def recipe_spec(features: Sequence[str]) -> Dict[str, Dict[str, object]]:
    return {f: {"inputs": list(FEATURE_RECIPE[f][0]), "formula": FEATURE_RECIPE[f][1]} for f in features}


# ---------------------------------------------------------------------------------------------------------------------
# Reading and validating customer CSVs
# ---------------------------------------------------------------------------------------------------------------------


@dataclass
class ValidationReport:
    rows_read: int = 0
    dropped_by_rule: Dict[str, int] = field(default_factory=lambda: {rule: 0 for rule in RULES})
    examples: Dict[str, List[Dict[str, object]]] = field(default_factory=lambda: {rule: [] for rule in RULES})
    files: List[Dict[str, object]] = field(default_factory=list)

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped_by_rule.values())

    @property
    def rows_kept(self) -> int:
        return self.rows_read - self.rows_dropped

    def summary(self) -> str:
        parts = ["%s=%d" % (rule, count) for rule, count in self.dropped_by_rule.items() if count]
        return "rows read %d, kept %d, dropped %d%s" % (
            self.rows_read, self.rows_kept, self.rows_dropped, " (%s)" % ", ".join(parts) if parts else "")


@dataclass
class CustomerData:
    """Validated rows: numeric input columns (canonical names) plus the customer id column when a file had one."""
    frame: pd.DataFrame
    report: ValidationReport
    has_ids: bool


def list_csv_files(location: Path) -> List[Path]:
    location = Path(location)
    if location.is_file():
        return [location]
    files = sorted(p for p in location.rglob("*.csv") if p.is_file()) if location.is_dir() else []
    if not files:
        raise DataError("no *.csv file found in %s" % location)
    return files


def _canonical_header(path: Path, header: Iterable[str]) -> Dict[str, str]:
    mapping: Dict[str, str] = {}
    for raw in header:
        key = "".join(ch for ch in str(raw).strip().lower() if ch not in " _-")
        canonical = _HEADER_ALIASES.get(key)
        if canonical is None:
            continue
        if canonical in mapping.values():
            raise DataError("%s: more than one column maps to %s (header %r)" % (path.name, canonical, list(header)))
        mapping[raw] = canonical
    return mapping


def _read_one(path: Path, needed: Sequence[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig")
    except pd.errors.EmptyDataError as error:
        raise DataError("%s is empty: expected a header like 'Age, Gender, Income, Purchases'" % path.name) from error
    except pd.errors.ParserError as error:
        raise DataError("%s is not a well-formed CSV: %s" % (path.name, error)) from error
    header = [str(name) for name in frame.columns]
    frame = frame.rename(columns=_canonical_header(path, frame.columns))
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise DataError("%s: header %s lacks column(s) %s needed by the features (names are case-insensitive)"
                        % (path.name, header, ", ".join(missing)))
    keep = [c for c in (ID_COLUMN, *needed) if c in frame.columns]
    return frame[keep]


def load_customers(location: Path, features: Sequence[str]) -> CustomerData:
    """Reads every CSV at `location` (a file or a folder), validates the columns the features need and returns the
    usable rows; every dropped row is counted under exactly one rule in the report."""
    needed = required_inputs(features)
    uses_spending_power = "SpendingPower" in features
    report = ValidationReport()
    kept_frames: List[pd.DataFrame] = []
    has_ids = False
    for path in list_csv_files(location):
        raw = _read_one(path, needed)
        has_ids = has_ids or ID_COLUMN in raw.columns
        report.rows_read += len(raw)
        report.files.append({"file": path.name, "rows_read": int(len(raw))})
        bad = np.zeros(len(raw), dtype=bool)
        numeric: Dict[str, np.ndarray] = {}
        texts = {column: raw[column].str.strip() for column in needed}

        def flag(rule: str, column: str, mask: np.ndarray) -> None:
            new = mask & ~bad
            count = int(new.sum())
            if not count:
                return
            report.dropped_by_rule[rule] += count
            room = MAX_EXAMPLES_PER_RULE - len(report.examples[rule])
            for position in np.flatnonzero(new)[:max(room, 0)]:
                # Line numbers count the header as line 1 and assume one record per line (pandas skips blank lines).
                report.examples[rule].append({"file": path.name, "line": int(position) + 2, "column": column,
                                              "value": str(raw[column].iat[position])})
            bad[new] = True

        for column in needed:
            flag("missing_value", column, texts[column].str.lower().isin(_MISSING_MARKERS).to_numpy())
        for column in needed:
            values = pd.to_numeric(texts[column], errors="coerce").to_numpy(dtype=float)
            numeric[column] = values
            flag("non_numeric", column, ~np.isfinite(values))
        if "Age" in numeric:
            age = numeric["Age"]
            flag("age_out_of_range", "Age", (age < AGE_RANGE[0]) | (age > AGE_RANGE[1]))
        if "Income" in numeric:
            flag("negative_income", "Income", numeric["Income"] < 0)
        if "Purchases" in numeric:
            flag("negative_purchases", "Purchases", numeric["Purchases"] < 0)
            if uses_spending_power:
                flag("zero_purchases", "Purchases", numeric["Purchases"] == 0)
        good = ~bad
        clean = pd.DataFrame({column: numeric[column][good] for column in needed})
        if ID_COLUMN in raw.columns:
            clean.insert(0, ID_COLUMN, raw[ID_COLUMN].str.strip().to_numpy()[good])
        kept_frames.append(clean)
    frame = pd.concat(kept_frames, ignore_index=True)
    if has_ids and ID_COLUMN in frame.columns:
        frame[ID_COLUMN] = frame[ID_COLUMN].fillna("")
    if len(frame) == 0:
        raise DataError("no usable rows in %s: %s. Rules: %s"
                        % (location, report.summary(),
                           "; ".join("%s: %s" % (rule, text) for rule, text in RULES.items())))
    return CustomerData(frame=frame, report=report, has_ids=has_ids)


def split_fraction_keys(data: CustomerData, seed: int) -> np.ndarray:
    """A number in [0, 1) per row from a keyed hash of the customer id (or, without an id, of the row's values), so the
    split of a row depends only on the row and the seed: stable under row order, and a customer keeps its side when
    new rows are added."""
    frame = data.frame
    value_columns = [c for c in frame.columns if c != ID_COLUMN]
    content = "row:" + frame[value_columns[0]].astype(str)
    for column in value_columns[1:]:
        content = content + "\x1f" + frame[column].astype(str)
    if ID_COLUMN in frame.columns:
        ids = frame[ID_COLUMN]
        keys = np.where(ids != "", "id:" + ids, content)
    else:
        keys = content.to_numpy()
    salt = str(int(seed)).encode()
    digests = [hashlib.blake2b(k.encode("utf-8"), digest_size=8, key=salt).digest() for k in keys]
    return np.frombuffer(b"".join(digests), dtype=">u8").astype(np.float64) / 2.0 ** 64


def feature_stats(matrix: np.ndarray, features: Sequence[str]) -> Dict[str, Dict[str, float]]:
    stats = {}
    for index, feature in enumerate(features):
        column = matrix[:, index]
        q25, q50, q75 = np.percentile(column, [25, 50, 75])
        stats[feature] = {"count": int(column.size), "mean": float(column.mean()), "std": float(column.std()),
                          "min": float(column.min()), "p25": float(q25), "p50": float(q50), "p75": float(q75),
                          "max": float(column.max())}
    return stats


# ---------------------------------------------------------------------------------------------------------------------
# Model bundle: plain scikit-learn objects in a dict, so loading it needs no code from this repository
# ---------------------------------------------------------------------------------------------------------------------

BUNDLE_FORMAT = 1


def bundle_model_space(bundle: Dict[str, object], scaled: np.ndarray) -> np.ndarray:
    """Scaled (pre-PCA) vectors -> the space KMeans was fitted in."""
    pca = bundle.get("pca")
    return pca.transform(scaled) if pca is not None else scaled


def assign_segments(bundle: Dict[str, object], scaled: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Stable segment id and Euclidean distance to its centroid (in the KMeans space) for scaled rows."""
    distances = bundle["kmeans"].transform(bundle_model_space(bundle, scaled))
    index = distances.argmin(axis=1)
    ids = np.asarray(bundle["segment_ids"], dtype=int)[index]
    return ids, distances[np.arange(len(index)), index]


# ---------------------------------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------------------------------

SILHOUETTE_SAMPLE_ROWS = 10_000
# Pairwise-distance chunk size for silhouette. scikit-learn's default (1 GB) materialises the whole 10k x 10k matrix,
# and the page faults of that allocation cost several times the arithmetic; 32 MB chunks are reused from cache.
_SILHOUETTE_WORKING_MEMORY_MB = 32


def silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Silhouette of the given rows, or -1 (its worst value) when it is undefined (fewer than two clusters present,
    or every row its own cluster), so that a quality gate fails rather than passes on a degenerate model."""
    if not 2 <= len(np.unique(labels)) <= len(x) - 1:
        return -1.0
    with sklearn.config_context(working_memory=_SILHOUETTE_WORKING_MEMORY_MB):
        return float(silhouette_score(x, labels))


def seeded_sample(rows: int, size: int, seed: int) -> np.ndarray:
    if rows <= size:
        return np.arange(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, size=size, replace=False))


def cluster_quality(x: np.ndarray, labels: np.ndarray, segment_ids: Sequence[int], seed: int,
                    sample_rows: int = SILHOUETTE_SAMPLE_ROWS) -> Dict[str, Optional[float]]:
    """Silhouette on a seeded sample of at most `sample_rows` (it is quadratic in rows), Calinski-Harabasz and
    Davies-Bouldin on all rows (linear), and the smallest and largest share of rows per segment (a segment with no
    rows counts as 0). With fewer than two clusters present Calinski-Harabasz and Davies-Bouldin are undefined and
    reported as null."""
    sample = seeded_sample(len(x), sample_rows, seed)
    fractions = [float(np.count_nonzero(labels == segment)) / len(labels) for segment in segment_ids]
    result: Dict[str, Optional[float]] = {
        "silhouette": silhouette(x[sample], labels[sample]), "calinski_harabasz": None, "davies_bouldin": None,
        "min_cluster_fraction": min(fractions), "max_cluster_fraction": max(fractions),
        "silhouette_sample_rows": int(len(sample)),
    }
    if 2 <= len(np.unique(labels)) <= len(x) - 1:
        result["calinski_harabasz"] = float(calinski_harabasz_score(x, labels))
        result["davies_bouldin"] = float(davies_bouldin_score(x, labels))
    return result


def print_metrics(metrics: Dict[str, object], names: Sequence[str]) -> None:
    """One `metric: name=value` line per metric, for the training job's MetricDefinitions regexes."""
    for name in names:
        value = metrics.get(name)
        if value is not None:
            print("metric: %s=%r" % (name, value if isinstance(value, int) else float(value)), flush=True)


# ---------------------------------------------------------------------------------------------------------------------
# Stable segment ids and labels
# ---------------------------------------------------------------------------------------------------------------------


def order_without_baseline(raw_centroids: np.ndarray) -> List[int]:
    """Documented rule when no baseline exists: ids 0..k-1 by ascending raw centroid of the first feature, ties
    broken by the next feature, and so on."""
    keys = tuple(raw_centroids[:, column] for column in reversed(range(raw_centroids.shape[1])))
    return [int(i) for i in np.lexsort(keys)]


def match_to_baseline(scaled_centroids: np.ndarray, baseline_scaled: np.ndarray, baseline_ids: Sequence[int],
                      raw_centroids: np.ndarray) -> List[int]:
    """Stable id per new cluster: optimal one-to-one assignment (minimum total squared distance in the new scaler's
    space) to the baseline centroids; clusters left over get new ids after the largest baseline id, in the
    no-baseline order."""
    from scipy.optimize import linear_sum_assignment

    cost = ((scaled_centroids[:, None, :] - baseline_scaled[None, :, :]) ** 2).sum(axis=2)
    rows, columns = linear_sum_assignment(cost)
    ids: List[Optional[int]] = [None] * len(scaled_centroids)
    for row, column in zip(rows, columns):
        ids[row] = int(baseline_ids[column])
    next_id = max(int(i) for i in baseline_ids) + 1
    for cluster in order_without_baseline(raw_centroids):
        if ids[cluster] is None:
            ids[cluster] = next_id
            next_id += 1
    return [int(i) for i in ids]


_LEVEL_THRESHOLD = 0.5  # standard deviations from the overall mean before a centroid counts as high or low
_WORDS = {
    "Age": {"low": "young", "mid": "middle-aged", "high": "senior"},
    "Income": {"low": "budget-conscious", "mid": "mid-income", "high": "premium"},
    "SpendingPower": {"low": "small-basket", "mid": "", "high": "big-ticket"},
    "Purchases": {"low": "occasional buyers", "mid": "regular buyers", "high": "frequent buyers"},
}


def level(z: float) -> str:
    return "high" if z > _LEVEL_THRESHOLD else "low" if z < -_LEVEL_THRESHOLD else "mid"


def segment_labels(ids: Sequence[int], z_centroids: np.ndarray, features: Sequence[str]) -> List[str]:
    """Human labels from each centroid's level (low/mid/high, in standard deviations of the training data) per
    feature, e.g. "Young premium frequent buyers". Segments whose words coincide are told apart by the feature where
    they differ most ("higher income" / "lower income", or a rank for more than two); labels are unique."""
    position = {feature: index for index, feature in enumerate(features)}

    def base(z: np.ndarray) -> str:
        words = [_WORDS[f][level(z[position[f]])] for f in ("Age", "Income", "SpendingPower") if f in position]
        noun = _WORDS["Purchases"][level(z[position["Purchases"]])] if "Purchases" in position else "customers"
        text = " ".join(word for word in words + [noun] if word)
        return text[0].upper() + text[1:]

    labels = [base(z) for z in z_centroids]
    for text in sorted(set(labels)):
        group = [i for i, label in enumerate(labels) if label == text]
        if len(group) < 2:
            continue
        spread = z_centroids[group].max(axis=0) - z_centroids[group].min(axis=0)
        feature = int(spread.argmax())
        name = features[feature].lower() if features[feature] != "SpendingPower" else "spending power"
        ranked = sorted(group, key=lambda i: (z_centroids[i, feature], ids[i]))
        for rank, member in enumerate(ranked):
            if len(group) == 2:
                labels[member] = "%s, %s %s" % (text, "lower" if rank == 0 else "higher", name)
            else:
                labels[member] = "%s, %s tier %d of %d" % (text, name, rank + 1, len(group))
    if len(set(labels)) < len(labels):
        labels = ["%s (segment %d)" % (label, ids[i]) for i, label in enumerate(labels)]
    return labels


# ---------------------------------------------------------------------------------------------------------------------
# Files and failures
# ---------------------------------------------------------------------------------------------------------------------


def write_json(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=False, allow_nan=False) + "\n", encoding="utf-8")


def processing_root(script: Path) -> Path:
    """/opt/ml/processing in the container. The local runner maps /opt/ml to <work>/<step>/opt/ml and starts the
    script from <root>/processing/code/, so the root is derived from where the script was unpacked."""
    script = Path(script).resolve()
    if script.parent.name == "code" and script.parent.parent.name == "processing":
        return script.parent.parent
    return Path("/opt/ml/processing")


def report_failure(message: str, failure_files: Sequence[Path]) -> None:
    """Prints the reason and writes it where SageMaker picks it up as the job's failure reason (each file only when
    its folder exists, i.e. inside a job)."""
    print("ERROR: %s" % message, file=sys.stderr, flush=True)
    for path in failure_files:
        if Path(path).parent.is_dir():
            Path(path).write_text(message[:1024], encoding="utf-8")


def run_step(step: str, action, failure_files: Sequence[Path]) -> int:
    """Runs a script's work: a DataError (bad input or parameter) exits 2 with its message as the failure reason;
    anything else also records a reason and then propagates with its traceback (exit 1)."""
    try:
        action()
    except DataError as error:
        report_failure("%s failed: %s" % (step, error), failure_files)
        return 2
    except Exception as error:
        report_failure("%s failed unexpectedly: %s: %s" % (step, type(error).__name__, error), failure_files)
        raise
    return 0


def versions() -> Dict[str, str]:
    return {"sklearn_version": sklearn.__version__, "numpy_version": np.__version__,
            "python_version": "%d.%d.%d" % sys.version_info[:3]}
