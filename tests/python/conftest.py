"""Makes scripts/ importable from the tests the way SageMaker runs them: each script from its own folder."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for folder in ("scripts/sagemaker", "scripts/recommendations", "scripts/local", "scripts"):
    sys.path.insert(0, str(ROOT / folder))
