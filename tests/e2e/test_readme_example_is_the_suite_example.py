"""The README's adapter example is exactly the test that runs in the suite."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python_block_after(text: str, heading: str) -> str:
    section = text.split(heading, 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_example_matches_the_test_file() -> None:
    example = (ROOT / "tests" / "e2e" / "test_adapter_example.py").read_text()
    for document in ("README.md", "docs/testing-your-adapter.md"):
        block = _python_block_after(
            (ROOT / document).read_text(), "Testing your adapter against Crossforce"
        )
        assert block.strip() in example, document
