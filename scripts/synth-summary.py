#!/usr/bin/env python3
"""Prints what `cdk deploy` would create from a cdk.out folder: each stack, its resources counted by type, its
parameters-free outputs and the warnings raised at synthesis. Reads only the cloud assembly; calls nothing."""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def describe_template(template: dict) -> tuple[Counter, list[tuple[str, str]]]:
    """Resource counts by type, and (output name, description) pairs, of one CloudFormation template."""
    types = Counter(resource["Type"] for resource in template.get("Resources", {}).values())
    outputs = [(name, output.get("Description", "")) for name, output in sorted(template.get("Outputs", {}).items())]
    return types, outputs


def synthesis_warnings(manifest: dict) -> list[str]:
    """Every warning annotation the app attached during synthesis, as 'path: message'."""
    found = []
    for artifact in manifest.get("artifacts", {}).values():
        for path, entries in sorted(artifact.get("metadata", {}).items()):
            for entry in entries:
                if entry.get("type") == "aws:cdk:warning":
                    found.append(f"{path}: {entry.get('data')}")
    return found


def render(outdir: Path) -> str:
    manifest = json.loads((outdir / "manifest.json").read_text())
    lines: list[str] = []
    stacks = sorted(
        (name, artifact) for name, artifact in manifest.get("artifacts", {}).items()
        if artifact.get("type") == "aws:cloudformation:stack"
    )
    for name, artifact in stacks:
        template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
        types, outputs = describe_template(template)
        lines.append(f"Stack {name} ({sum(types.values())} resources)")
        width = max((len(t) for t in types), default=0)
        for resource_type, count in sorted(types.items()):
            lines.append(f"  {resource_type.ljust(width)}  {count}")
        if outputs:
            lines.append("  Outputs:")
            for output_name, description in outputs:
                lines.append(f"    {output_name}: {description}")
    warnings = synthesis_warnings(manifest)
    if warnings:
        lines.append("Warnings:")
        lines.extend(f"  {warning}" for warning in warnings)
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")))
