"""The test summary is what CI reads: its counting must be right for every result format it sees."""
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("summarize_tests", ROOT / "scripts" / "summarize-tests.py")
summarize = importlib.util.module_from_spec(spec)
sys.modules["summarize_tests"] = summarize
spec.loader.exec_module(summarize)


def test_main_mixed_results_counts_each_format_and_fails(tmp_path, capsys):
    (tmp_path / "a.trx").write_text(
        '<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010"><ResultSummary>'
        '<Counters total="5" executed="4" passed="3" failed="1" error="0" timeout="0" aborted="0" notExecuted="1"/>'
        "</ResultSummary></TestRun>"
    )
    (tmp_path / "p.xml").write_text(
        '<testsuites><testsuite tests="4" failures="0" errors="1" skipped="1"/></testsuites>'
    )
    (tmp_path / "checks.tsv").write_text("build\tpassed\nformat\tfailed\n")

    code = summarize.main(str(tmp_path))

    assert code == 1
    assert capsys.readouterr().out.splitlines()[-1] == "6 passed, 3 failed, 2 skipped"


def test_main_no_results_fails_instead_of_passing_nothing(tmp_path, capsys):
    code = summarize.main(str(tmp_path))

    assert code == 1
    assert capsys.readouterr().out.splitlines()[-1] == "0 passed, 0 failed"


def test_main_all_passed_succeeds(tmp_path, capsys):
    (tmp_path / "checks.tsv").write_text("build\tpassed\n")

    assert summarize.main(str(tmp_path)) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 passed, 0 failed"
