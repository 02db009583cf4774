"""ONNX export: label states baked in, dynamic batch and length, logits equal to torch's within 1e-4 under ONNX
Runtime; the span-extraction pipeline and `lear-predict --onnx` run the exported graph (int8 too); the benchmark's
int8 variants (bench/onnx_speed.py) run, and its encoder-only one leaves the fusion and heads float."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from conftest import TOY_SENTENCES
from test_pipeline import _expected, _without_scores, build_keyword_model, build_model, save_checkpoint
from transformers import pipeline


onnxruntime = pytest.importorskip("onnxruntime", reason="ONNX Runtime is the onnx extra: pip install -e .[onnx]")
pytest.importorskip("onnxscript", reason="torch.onnx.export needs onnxscript (the onnx extra)")

from bench.onnx_speed import VARIANTS, node_scopes, quantize_variant  # noqa: E402
from lear import cli  # noqa: E402
from lear.onnx_export import (  # noqa: E402
    INT8_FILE,
    ONNX_FILE,
    QUANTIZATION_FILE,
    QUANTIZATION_SCHEME,
    LearOnnxForSpanExtraction,
    export_onnx,
    main,
    onnx_pipeline,
    parity,
)


TEXTS = [text for text, _ in TOY_SENTENCES]


@pytest.fixture(scope="module")
def flat_checkpoint(toy_tokenizer, tmp_path_factory):
    return save_checkpoint(
        build_model(toy_tokenizer, boundary_bias=2.0), toy_tokenizer, tmp_path_factory.mktemp("flat")
    )


@pytest.fixture(scope="module")
def exported(flat_checkpoint, tmp_path_factory):
    output = tmp_path_factory.mktemp("exported")
    written = export_onnx(flat_checkpoint, output, quantize=True)
    return output, written


def test_exported_logits_equal_torch_for_any_batch_and_length(flat_checkpoint, exported, toy_tokenizer):
    output, written = exported
    assert written["max_abs_diff"] < 1e-4
    torch_model = pipeline("span-extraction", model=str(flat_checkpoint)).model
    onnx_model = LearOnnxForSpanExtraction.from_exported(output)
    for texts in (TEXTS[:1], TEXTS, [" ".join(TEXTS)] * 2, TEXTS[::-1][:5]):  # batch 1/8/2/5, lengths 4..40 tokens
        assert parity(torch_model, onnx_model, toy_tokenizer, texts) < 1e-4


def test_pipeline_over_onnx_returns_the_torch_pipelines_entities(flat_checkpoint, exported):
    output, _ = exported
    torch_pipe = pipeline("span-extraction", model=str(flat_checkpoint))
    onnx_pipe = onnx_pipeline(output)
    expected, actual = torch_pipe(TEXTS), onnx_pipe(TEXTS)
    assert any(expected)
    assert [_without_scores(entities) for entities in actual] == [_without_scores(e) for e in expected]
    for got, want in zip(actual, expected):
        assert [e["score"] for e in got] == pytest.approx([e["score"] for e in want], abs=1e-4)
    long_text = " ".join(TEXTS * 12)  # longer than one window: windowing and merging as with torch
    assert _without_scores(onnx_pipe(long_text, max_length=32)) == _without_scores(torch_pipe(long_text, max_length=32))


def test_keyword_model_finds_exactly_the_planted_entities_in_int8(toy_tokenizer, tmp_path):
    """The int8 export records itself, loads and runs through the pipeline, and keeps the planted entities."""
    checkpoint = save_checkpoint(build_keyword_model(toy_tokenizer), toy_tokenizer, tmp_path / "keyword")
    written = export_onnx(checkpoint, tmp_path / "exported", quantize=True)
    assert written["quantization"] == QUANTIZATION_SCHEME and np.isfinite(written["int8_max_abs_diff"])
    record = json.loads((tmp_path / "exported" / QUANTIZATION_FILE).read_text())
    assert record["scheme"] == QUANTIZATION_SCHEME and record["file"] == INT8_FILE and record["per_channel"]
    planted = ["the", "alice", "bob", "met", "paris"]
    for quantized in (False, True):
        extractor = onnx_pipeline(tmp_path / "exported", quantized=quantized)
        assert _without_scores(extractor(planted, is_split_into_words=True)) == _expected(planted)
        assert len(extractor(TEXTS)) == len(TEXTS)
    assert extractor.model.quantization["scheme"] == QUANTIZATION_SCHEME


@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_benchmark_variant_quantizes_and_runs(exported, toy_tokenizer, tmp_path, name):
    output, _ = exported
    record = quantize_variant(output / ONNX_FILE, tmp_path / "int8.onnx", VARIANTS[name], TEXTS, toy_tokenizer)
    assert record["scheme"] == name
    session = onnxruntime.InferenceSession(str(tmp_path / "int8.onnx"), providers=["CPUExecutionProvider"])
    inputs = toy_tokenizer(TEXTS[:2], padding=True, return_tensors="np")
    feed = {value.name: inputs[value.name].astype(np.int64) for value in session.get_inputs()}
    assert all(np.isfinite(output).all() for output in session.run(None, feed))


def test_encoder_only_leaves_the_fusion_and_heads_float(exported, toy_tokenizer, tmp_path):
    """Every MatMul outside the encoder (fusion, boundary classifiers, span head) is still a float MatMul with float
    inputs in the benchmark's encoder-only graph; every encoder MatMul with a weight is quantised."""
    output, _ = exported
    record = quantize_variant(output / ONNX_FILE, tmp_path / "int8.onnx", VARIANTS["encoder-only"], [], toy_tokenizer)
    fp32 = onnx.load(str(output / ONNX_FILE), load_external_data=False)
    int8 = onnx.load(str(tmp_path / "int8.onnx"), load_external_data=False)
    scopes = node_scopes(fp32)
    weights = {tensor.name for tensor in fp32.graph.initializer}
    matmuls = [node for node in fp32.graph.node if node.op_type == "MatMul"]
    outside = {node.name for node in matmuls if "model.encoder" not in scopes[node.name]}
    encoder = {node.name for node in matmuls if "model.encoder" in scopes[node.name] and node.input[1] in weights}
    assert {"model.fusion", "model.span_head"} <= {scope for name in outside for scope in scopes[name]}
    assert encoder  # the encoder's linear layers
    float_types = {tensor.name: tensor.data_type for tensor in int8.graph.initializer}
    produced_by = {out: node.op_type for node in int8.graph.node for out in node.output}
    kept = {node.name: node for node in int8.graph.node if node.op_type == "MatMul"}
    for name in outside:
        node = kept[name]
        for value in node.input:
            assert produced_by.get(value) not in ("DequantizeLinear", "DynamicQuantizeLinear")
            assert float_types.get(value, onnx.TensorProto.FLOAT) == onnx.TensorProto.FLOAT
    assert not encoder & set(kept)  # quantised: replaced by MatMulInteger nodes
    assert sum(node.op_type == "MatMulInteger" for node in int8.graph.node) == len(encoder)
    assert set(record["float_nodes"]) == outside


def test_an_unknown_quantisation_argument_is_refused_before_anything_is_written(flat_checkpoint, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--model", str(flat_checkpoint), "--output", str(tmp_path / "x"), "--quantize", "static"])
    assert "unrecognized arguments: static" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_int8_file_runs_through_lear_predict(exported, tmp_path):
    output, written = exported
    assert (output / INT8_FILE).is_file() and written["onnx_int8"].endswith(INT8_FILE)
    source = tmp_path / "texts.txt"
    source.write_text("\n".join(TEXTS) + "\n")
    for variant in ("fp32", "int8"):
        target = tmp_path / f"{variant}.jsonl"
        assert cli.main(["--model", str(output), "--onnx", variant, "--input", str(source), "--output", str(target),
                         "--quiet"]) == 0  # fmt: skip
        records = [json.loads(line) for line in target.read_text().splitlines()]
        assert [record["text"] for record in records] == TEXTS
    fp32 = [json.loads(line) for line in (tmp_path / "fp32.jsonl").read_text().splitlines()]
    assert fp32 == [
        {"text": text, "predictions": entities} for text, entities in zip(TEXTS, onnx_pipeline(output)(TEXTS))
    ]


def test_nested_model_exports_with_its_span_logits(toy_tokenizer, tmp_path):
    """The candidate cells are chosen inside the graph: the same span logits on every scored cell, the same nested
    (and flat-decoded) entities through the pipeline."""
    nested = save_checkpoint(build_model(toy_tokenizer, seed=1, boundary_bias=2.0, nested=True), toy_tokenizer,
                             tmp_path / "nested")  # fmt: skip
    written = export_onnx(nested, tmp_path / "exported", quantize=True)
    assert written["max_abs_diff"] < 1e-4
    assert len(onnx_pipeline(tmp_path / "exported", quantized=True)(TEXTS)) == len(TEXTS)  # int8 nested runs too
    torch_pipe = pipeline("span-extraction", model=str(nested))
    onnx_pipe = onnx_pipeline(tmp_path / "exported")
    onnx_model = onnx_pipe.model
    assert parity(torch_pipe.model, onnx_model, toy_tokenizer, TEXTS) < 1e-4
    for options in ({}, {"flat_ner": True}):
        expected = torch_pipe(TEXTS, **options)
        assert any(expected)
        actual = onnx_pipe(TEXTS, **options)
        assert [_without_scores(e) for e in actual] == [_without_scores(e) for e in expected]


def test_new_labels_are_refused_clearly(exported):
    extractor = onnx_pipeline(exported[0])
    with pytest.raises(ValueError, match="export it again"):
        extractor("Alice", labels={"DRUG": "names of medicines"})


def test_cli_export_bare_quantize_writes_the_default_scheme(flat_checkpoint, tmp_path, capsys):
    assert main(["--model", str(flat_checkpoint), "--output", str(tmp_path / "cli"), "--quantize"]) == 0
    out = capsys.readouterr().out
    assert "max_abs_diff" in out and f"quantization: {QUANTIZATION_SCHEME}" in out
    assert (tmp_path / "cli" / "model.onnx").is_file() and (tmp_path / "cli" / "tokenizer.json").is_file()
    assert json.loads((tmp_path / "cli" / QUANTIZATION_FILE).read_text())["scheme"] == QUANTIZATION_SCHEME
    assert onnx_pipeline(tmp_path / "cli", quantized=True).model.quantization["scheme"] == QUANTIZATION_SCHEME
    with pytest.raises(SystemExit):
        main(["--model", str(tmp_path / "missing"), "--output", str(tmp_path / "x")])


@pytest.mark.parametrize("settings", [{"boundary_classifier": "description"}])
def test_boundary_variants_export_with_torchs_logits_and_entities(toy_tokenizer, tmp_path, settings):
    checkpoint = save_checkpoint(build_model(toy_tokenizer, seed=2, boundary_bias=2.0, **settings), toy_tokenizer,
                                 tmp_path / "model")  # fmt: skip
    written = export_onnx(checkpoint, tmp_path / "exported")
    assert written["max_abs_diff"] < 1e-4
    expected = pipeline("span-extraction", model=str(checkpoint), threshold=0.3)(TEXTS)
    actual = onnx_pipeline(tmp_path / "exported")(TEXTS, threshold=0.3)
    assert any(expected)
    assert [_without_scores(e) for e in actual] == [_without_scores(e) for e in expected]
