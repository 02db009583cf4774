# Copyright 2026 The lear authors. Licensed under the Apache License, Version 2.0.
"""What the command lines print: progress bars only where someone watches them."""

from __future__ import annotations

import sys


def no_progress_bars_unless_terminal() -> bool:
    """Turn off the progress bars of datasets (`map`, `save_to_disk`), transformers (weight loading) and the Hub
    client when stderr is not a terminal (a log file, a pipe, CI): redrawn bars fill redirected logs with carriage
    returns and escape codes. Returns whether they were turned off. For the command lines' `main`s only: a library
    call leaves the user's settings alone."""
    if sys.stderr.isatty():
        return False
    import datasets
    import huggingface_hub
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    huggingface_hub.utils.disable_progress_bars()
    return True


__all__ = ["no_progress_bars_unless_terminal"]
