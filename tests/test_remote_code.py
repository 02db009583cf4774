"""A saved checkpoint loads with `AutoModel.from_pretrained(dir, trust_remote_code=True)` in a process where the
`lear` package cannot be imported, and gives the logits the parent computed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import torch
from toy_batches import toy_batch


CHILD_SCRIPT = textwrap.dedent(
    """
    import sys

    sys.modules["lear"] = None  # before anything else: the package must not be importable here
    try:
        import lear  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("import lear succeeded in the child process")

    import torch
    from transformers import AutoModel

    for checkpoint in sys.argv[1:]:
        expected = torch.load(f"{checkpoint}/expected.pt")
        model = AutoModel.from_pretrained(checkpoint, trust_remote_code=True).eval()
        module = type(model).__module__
        assert not module.startswith("lear"), module
        with torch.no_grad():
            outputs = model(**expected["inputs"])
        for name in ("start_logits", "end_logits", "span_logits"):
            actual = getattr(outputs, name)
            if expected[name] is None:
                assert actual is None, name
            else:
                assert torch.equal(actual, expected[name]), name
        spans = model.decode(outputs)
        assert len(spans) == len(expected["inputs"]["input_ids"])
        print("identical logits from", module)
    """
)


def test_remote_code_load_without_the_package_gives_identical_logits(make_tiny_model, toy_tokenizer, tmp_path):
    inputs = toy_batch(toy_tokenizer).inputs
    checkpoints = []
    for nested in (False, True):
        model = make_tiny_model(nested=nested, initializer_range=0.2).eval()
        with torch.no_grad():
            outputs = model(**inputs)
        checkpoint = tmp_path / ("nested" if nested else "flat")
        model.save_pretrained(checkpoint)
        expected = {
            "inputs": inputs,
            **{name: getattr(outputs, name) for name in ("start_logits", "end_logits", "span_logits")},
        }
        torch.save(expected, checkpoint / "expected.pt")
        checkpoints.append(str(checkpoint))

    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    (workdir / "child.py").write_text(CHILD_SCRIPT)
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"), PYTHONPATH="")
    result = subprocess.run(
        [sys.executable, "child.py", *checkpoints], cwd=workdir, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.count("identical logits from") == 2, result.stdout
    assert "transformers_modules" in result.stdout


PIPELINE_CHILD_SCRIPT = textwrap.dedent(
    """
    import json
    import sys

    sys.modules["lear"] = None  # the package must not be importable here
    from transformers import pipeline

    extractor = pipeline("span-extraction", model=sys.argv[1], trust_remote_code=True)  # the name users type
    assert not type(extractor).__module__.startswith("lear"), type(extractor).__module__
    print(json.dumps(extractor("alice met bob in paris", threshold=0.05)))
    """
)


def test_span_extraction_task_name_works_with_remote_code_without_the_package(make_tiny_model, toy_tokenizer, tmp_path):
    checkpoint = tmp_path / "flat"
    make_tiny_model(initializer_range=0.2).save_pretrained(checkpoint)
    toy_tokenizer.save_pretrained(checkpoint)
    (tmp_path / "child.py").write_text(PIPELINE_CHILD_SCRIPT)
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"), PYTHONPATH="")
    result = subprocess.run(
        [sys.executable, "child.py", str(checkpoint)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    entities = json.loads(result.stdout.strip().splitlines()[-1])
    assert isinstance(entities, list) and all(
        set(e) == {"entity_group", "score", "word", "start", "end"} for e in entities
    )


def test_saved_config_holds_no_local_encoder_path(make_tiny_model, tmp_path):
    model = make_tiny_model()
    model.config.encoder_config._name_or_path = str(tmp_path / "encoders" / "minilm")  # as from_encoder(local dir)
    model.save_pretrained(tmp_path / "saved")
    saved = (tmp_path / "saved" / "config.json").read_text()
    assert str(tmp_path) not in saved and "_name_or_path" not in saved
