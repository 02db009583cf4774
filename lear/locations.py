# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""Where a model comes from: a local folder or a Hub repo id. Shared by the model card (which may name only Hub ids)
and the command lines (which answer a missing folder in words, not with the Hub client's repo-id format error)."""

from __future__ import annotations

import re
from pathlib import Path


# "name" or "owner/name": letters, digits, "-", "_", "." (not first); nothing else, one "/" at most.
HUB_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*$")


def hub_id(name_or_path: str | None) -> str | None:
    """`name_or_path` when it reads as a Hub repo id and is not a local folder, else None."""
    if not name_or_path or Path(name_or_path).exists() or not HUB_ID.match(name_or_path):
        return None
    return name_or_path


def reads_as_a_path(name_or_path: str) -> bool:
    """Whether a name that is no existing path was meant as one: it starts with ".", "/" or "~", holds a backslash,
    or its first part is a folder here ("outputs/conll" where outputs/ exists). Such a name is answered at once
    instead of being tried as a Hub id (which retries the network for ~20 s when the Hub is unreachable)."""
    if name_or_path.startswith((".", "/", "~")) or "\\" in name_or_path:
        return True
    owner = name_or_path.split("/", 1)[0]
    return "/" in name_or_path and Path(owner).is_dir()


def check_model_location(name_or_path: str, option: str) -> None:
    """Raise a `ValueError` naming `option` when `name_or_path` is no existing path and cannot be a Hub id, reads
    as a mistyped path (`reads_as_a_path`), or is a Hub id that cannot be loaded (`check_hub_model`)."""
    if Path(name_or_path).exists():
        return
    if reads_as_a_path(name_or_path):
        raise ValueError(f"{option} {name_or_path}: no such folder")
    if hub_id(name_or_path) is None:
        raise ValueError(f"{option} {name_or_path}: no such folder (and not a Hub model id such as 'owner/name')")
    check_hub_model(name_or_path, option)


def check_hub_model(repo_id: str, option: str, timeout: float = 10.0) -> None:
    """Raise a `ValueError` when the Hub id `repo_id` can be neither loaded from the local cache nor looked up on
    the Hub. One lookup with a timeout answers in seconds where loading the model would retry an unreachable Hub for
    half a minute before failing with a client traceback."""
    from huggingface_hub import constants, model_info, try_to_load_from_cache
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    if isinstance(try_to_load_from_cache(repo_id, "config.json"), str):
        return
    missing = f"{option} {repo_id}: no such folder here"
    if constants.HF_HUB_OFFLINE:
        raise ValueError(f"{missing}, and as a Hub id it is not in the local cache (HF_HUB_OFFLINE is set)")
    try:
        model_info(repo_id, timeout=timeout)
    except GatedRepoError:
        return  # it exists; loading asks for the access it needs
    except RepositoryNotFoundError:
        raise ValueError(f"{missing}, nor a model on the Hub (private ones need `hf auth login`)") from None
    except Exception as error:  # DNS, proxy, TLS and timeout errors come as different client classes
        raise ValueError(f"{missing}, and the Hub, where it would be a model id, cannot be reached: {error}") from None


__all__ = ["HUB_ID", "check_hub_model", "check_model_location", "hub_id", "reads_as_a_path"]
