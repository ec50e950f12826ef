"""docs/downstream.md shows the example consumer exactly as the test runs it."""

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_doc_embeds_example() -> None:
    page = (REPO_ROOT / "docs" / "downstream.md").read_text()
    example = (REPO_ROOT / "docs" / "examples" / "consumer.py").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)
    assert example in blocks, (
        "the Python block in docs/downstream.md differs from "
        "docs/examples/consumer.py; copy the file into the page"
    )
