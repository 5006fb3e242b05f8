"""robomimic config keys: ``train/data`` and ``train.data`` name the same value."""
import re
from typing import List

_KEY_SEPARATOR = re.compile(r"[/.]")


def split_key(key: str) -> List[str]:
    return _KEY_SEPARATOR.split(key)


def normalize_key(key: str) -> str:
    """One spelling per key, with dots."""
    return ".".join(split_key(key))
