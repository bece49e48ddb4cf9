"""The CLI's page, docs/cicd.md, read by the tests that keep it true.

`section` returns one `## ` section; `documented_json` the JSON example under
"### `cicd <command> --json`" in the "JSON output" section; `assert_documented_shape` checks a
command's real `--json` output has exactly the documented keys, at every level.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "cicd.md"
# Maps whose keys are data, not shape: which reads were denied; deployment counts by status.
FREE_FORM = {"unknown", "overview"}


def text() -> str:
    return PAGE.read_text()


def section(title: str) -> str:
    page = text()
    start = page.index(f"\n## {title}\n")
    end = page.find("\n## ", start + 1)
    return page[start : end if end != -1 else len(page)]


def documented_json(command: str) -> Any:
    json_section = section("JSON output")
    heading = f"### `cicd {command} --json`"
    start = json_section.index(heading)
    block = re.search(r"```json\n(.*?)```", json_section[start:], re.DOTALL)
    assert block is not None, f"no JSON example under {heading}"
    return json.loads(block.group(1))


def _compare(documented: Any, actual: Any, path: str) -> None:
    if actual is None or documented is None:
        return  # every value may be null (not read, not applicable); the docs say which
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{path}: documented an object, got {actual!r}"
        if path.rsplit(".", 1)[-1] in FREE_FORM:
            return
        assert set(actual) == set(documented), (
            f"{path}: keys differ: undocumented {sorted(set(actual) - set(documented))}, "
            f"missing {sorted(set(documented) - set(actual))}"
        )
        for key, value in documented.items():
            _compare(value, actual[key], f"{path}.{key}")
    elif isinstance(documented, list):
        assert isinstance(actual, list), f"{path}: documented a list, got {actual!r}"
        if documented and actual:
            for item in actual:
                _compare(documented[0], item, f"{path}[]")
    else:
        assert not isinstance(actual, dict | list), f"{path}: documented a value, got {actual!r}"


def assert_documented_shape(command: str, actual: Any) -> None:
    """`actual` (a command's --json output) has the keys docs/cicd.md shows for it."""
    _compare(documented_json(command), actual, command)
