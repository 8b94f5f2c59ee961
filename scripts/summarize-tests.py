#!/usr/bin/env python3
"""Counts every test result under a results folder (xunit TRX files, pytest JUnit XML, checks.tsv) and prints
one line per suite, then the closing line "N passed, N failed[, N skipped]". Exits 1 unless all passed and at
least one test ran, so a suite that silently ran nothing cannot look green."""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

TRX_NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"


@dataclass
class Count:
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, other: "Count") -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped


def trx_suite_name(path: Path) -> str:
    """The test assembly's name, so the line says which project it counts."""
    method = ET.parse(path).getroot().find(f"{TRX_NS}TestDefinitions/{TRX_NS}UnitTest/{TRX_NS}TestMethod")
    return Path(method.get("codeBase", path.stem)).stem if method is not None else path.stem


def count_trx(path: Path) -> Count:
    counters = ET.parse(path).getroot().find(f"{TRX_NS}ResultSummary/{TRX_NS}Counters")
    if counters is None:
        return Count(failed=1)
    attr = counters.attrib
    failed = sum(int(attr.get(k, 0)) for k in ("failed", "error", "timeout", "aborted"))
    return Count(passed=int(attr.get("passed", 0)), failed=failed, skipped=int(attr.get("notExecuted", 0)))


def count_junit(path: Path) -> Count:
    root = ET.parse(path).getroot()
    total = Count()
    for suite in [root] if root.tag == "testsuite" else root.iter("testsuite"):
        tests = int(suite.get("tests", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        total.add(Count(passed=tests - failed - skipped, failed=failed, skipped=skipped))
    return total


def count_checks(path: Path) -> Count:
    total = Count()
    for line in path.read_text().splitlines():
        name, _, outcome = line.partition("\t")
        if outcome == "passed":
            total.passed += 1
        else:
            print(f"  check failed: {name}")
            total.failed += 1
    return total


def main(folder: str) -> int:
    root = Path(folder)
    total = Count()
    suites: list[tuple[str, Count]] = []
    for trx in sorted(root.rglob("*.trx")):
        suites.append((f"dotnet {trx_suite_name(trx)}", count_trx(trx)))
    for junit in sorted(root.rglob("*.xml")):
        suites.append((f"pytest {junit.stem}", count_junit(junit)))
    checks = root / "checks.tsv"
    if checks.exists():
        suites.append(("checks", count_checks(checks)))
    for name, count in suites:
        print(f"{name}: {count.passed} passed, {count.failed} failed, {count.skipped} skipped")
        total.add(count)
    summary = f"{total.passed} passed, {total.failed} failed"
    if total.skipped:
        summary += f", {total.skipped} skipped"
    print(summary)
    return 0 if total.failed == 0 and total.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
