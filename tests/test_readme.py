"""The README's quick-start snippet runs as written (on a tiny random encoder in place of "path/to/encoder"), in a
fresh process: what a new user pastes first must work."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT


def quick_start_snippet() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    (snippet,) = re.findall(r"```python\n(.*?)```", section.split("\n## ", 1)[0], flags=re.S)
    return snippet


def test_the_quick_start_snippet_runs_and_returns_entities_with_character_offsets(tiny_encoder_dir, tmp_path):
    snippet = quick_start_snippet()
    assert '"path/to/encoder"' in snippet and "pipeline(" in snippet
    lines = snippet.rstrip().splitlines()
    # the last line's value is what the README shows: print it so the test can read it
    program = "\n".join(lines[:-1] + [f"print(__import__('json').dumps({lines[-1].split('  #')[0]}))"])
    program = program.replace('"path/to/encoder"', json.dumps(str(tiny_encoder_dir)))
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
    completed = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, env=environment, capture_output=True,
                               text=True, timeout=300)  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    entities = json.loads(completed.stdout.strip().splitlines()[-1])
    assert isinstance(entities, list)
    text = "Alice lives in Paris"
    for entity in entities:  # an untrained model may find anything, but in the pipeline's format
        assert set(entity) >= {"entity_group", "score", "word", "start", "end"}
        assert text[entity["start"] : entity["end"]] == entity["word"]
    assert (Path(tmp_path) / "my-lear" / "config.json").is_file()
