"""The run command's summary of a synthesized cloud assembly."""
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("synth_summary", ROOT / "scripts" / "synth-summary.py")
synth_summary = importlib.util.module_from_spec(spec)
sys.modules["synth_summary"] = synth_summary
spec.loader.exec_module(synth_summary)


def write_assembly(folder: Path, template: dict, metadata: dict) -> None:
    (folder / "Demo.template.json").write_text(json.dumps(template))
    (folder / "manifest.json").write_text(json.dumps({"artifacts": {
        "Demo": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "Demo.template.json"}, "metadata": metadata},
        "Tree": {"type": "cdk:tree"},
    }}))


def test_render_stack_counts_resources_by_type_and_lists_outputs_and_warnings(tmp_path):
    write_assembly(
        tmp_path,
        {
            "Resources": {
                "A": {"Type": "AWS::S3::Bucket"},
                "B": {"Type": "AWS::S3::Bucket"},
                "R": {"Type": "AWS::IAM::Role"},
            },
            "Outputs": {"Url": {"Description": "The API URL.", "Value": "x"}},
        },
        {"/Demo/Storage": [{"type": "aws:cdk:warning", "data": "retention is destroy"}, {"type": "aws:cdk:logicalId", "data": "A"}]},
    )

    text = synth_summary.render(tmp_path)

    assert text.splitlines() == [
        "Stack Demo (3 resources)",
        "  AWS::IAM::Role   1",
        "  AWS::S3::Bucket  2",
        "  Outputs:",
        "    Url: The API URL.",
        "Warnings:",
        "  /Demo/Storage: retention is destroy",
    ]


def test_render_empty_stack_prints_zero_resources(tmp_path):
    write_assembly(tmp_path, {}, {})

    assert synth_summary.render(tmp_path) == "Stack Demo (0 resources)"
