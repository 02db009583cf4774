# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""Gathering Python objects from every process of a `torch.distributed` job, safely on gloo.

`gather_objects` is `torch.distributed.all_gather_object` for CPU process groups, written again for one reason:
`all_gather_object` lets go of its tensors as soon as the gather has completed, while gloo's worker thread still
holds the collective's work (it releases it a moment later, at the end of its loop). The worker then drops the last
reference to tensors whose Python objects are gone, and must take the GIL to free them. When that moment falls in the
interpreter's shutdown (an evaluation or prediction run ends with a gather), the worker thread is ended inside C++
code and the process aborts after writing every result: "terminate called without an active exception", exit status
134, in about half of 2-process runs of a gather followed by exit on a loaded 2-core machine (the core dump shows the
worker in `~AsyncAllgatherWork` -> `decref_pyobject` -> `take_gil` -> `pthread_exit`). A final barrier does not help
(the barrier's work holds the gather's work and is released the same way), and destroying the process group can
deadlock (its destructor joins the worker while holding the GIL the worker waits for).

Here the gathered tensors are kept until the collective no longer holds them (their use count is back to 1), so this
thread frees them. Other backends (NCCL) use `all_gather_object` unchanged.
"""

from __future__ import annotations

import pickle
import time
from typing import Any

import torch


RELEASE_TIMEOUT_SECONDS = 60.0  # the worker releases a finished collective within microseconds unless starved


def gather_objects(local: Any, num_processes: int) -> list[Any]:
    """`local` of every process (all of them must call this), in process order."""
    if num_processes == 1:
        return [local]
    if torch.distributed.get_backend() != "gloo":
        gathered = [None] * num_processes
        torch.distributed.all_gather_object(gathered, local)
        return gathered
    payload = torch.frombuffer(bytearray(pickle.dumps(local)), dtype=torch.uint8)
    size = torch.tensor([payload.numel()])
    sizes = [torch.zeros_like(size) for _ in range(num_processes)]
    _all_gather_and_wait_for_release(sizes, size)
    lengths = [int(length) for length in sizes]
    padded = torch.zeros(max(lengths), dtype=torch.uint8)  # all_gather takes tensors of one shape
    padded[: payload.numel()] = payload
    shards = [torch.empty_like(padded) for _ in range(num_processes)]
    _all_gather_and_wait_for_release(shards, padded)
    return [pickle.loads(shard[:length].numpy().tobytes()) for shard, length in zip(shards, lengths)]


def _all_gather_and_wait_for_release(outputs: list[torch.Tensor], tensor: torch.Tensor) -> None:
    torch.distributed.all_gather(outputs, tensor)
    # `_use_count` counts the C++ references to a tensor; 1 is this thread's Python object. Sleeping releases the GIL,
    # which the worker may need for other tensors it frees.
    deadline = time.monotonic() + RELEASE_TIMEOUT_SECONDS
    while any(held._use_count() > 1 for held in (tensor, *outputs)):
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the gloo all_gather still holds its tensors {RELEASE_TIMEOUT_SECONDS:.0f} s after it ended"
            )
        time.sleep(0.0005)
