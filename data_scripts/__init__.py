"""Converters from raw NER corpora to the one ``lear`` dataset schema (see ``schema``).

Command line: ``python -m data_scripts.convert CORPUS RAW_DIR OUT_DIR``; docs/data.md.
"""

from data_scripts.errors import CorpusFormatError
from data_scripts.schema import FEATURES, SPLITS, load_converted, token_char_offsets


__all__ = ["FEATURES", "SPLITS", "CorpusFormatError", "load_converted", "token_char_offsets"]
