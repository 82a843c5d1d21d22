"""OpenAI's BPE encodings (o200k_base, cl100k_base), loaded without the network.

tiktoken downloads an encoding's ``.tiktoken`` file the first time it is used, which fails
(or hangs) offline. ``pip install 'ftbridge[tokens]'`` installs tiktoken and ``bpe-openai``,
a package whose wheel ships both files; they are read from there, checked against the
digests tiktoken itself expects, and given to ``tiktoken.Encoding`` with tiktoken's own
split pattern and special tokens, so counts are tiktoken's exactly. A file tiktoken already
has in its cache (``TIKTOKEN_CACHE_DIR``) is used as well. Nothing is ever downloaded.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

#: Where a package ships the encoding files: (importable package, folder inside it).
DATA_PACKAGES: tuple[tuple[str, str], ...] = (("bpe_openai", "data"),)

_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"

# tiktoken_ext/openai_public.py: the digest of each file and the encoding's split pattern
_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
_PATTERNS = {
    "o200k_base": "|".join(
        [
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]
    ),
    "cl100k_base": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
}
_SPECIAL = {
    "o200k_base": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    "cl100k_base": {
        "<|endoftext|>": 100257,
        "<|fim_prefix|>": 100258,
        "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260,
        "<|endofprompt|>": 100276,
    },
}

#: The encodings ftbridge can load.
NAMES = tuple(_SHA256)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _shipped(name: str) -> Path | None:
    """The encoding's file as a package ships it, found without importing the package."""
    for package, folder in DATA_PACKAGES:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        for base in spec.submodule_search_locations:
            for suffix in (".tiktoken.gz", ".tiktoken"):
                path = Path(base) / folder / f"{name}{suffix}"
                if path.is_file():
                    return path
    return None


def _tiktoken_cache(name: str) -> Path | None:
    """The file in tiktoken's own cache, if it has one (it is keyed by the URL's sha1)."""
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    if cache_dir == "":
        return None
    if cache_dir is None:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    path = Path(cache_dir) / hashlib.sha1(_URL.format(name).encode()).hexdigest()
    return path if path.is_file() else None


def source(name: str) -> Path | None:
    """Where encoding ``name`` would be read from, or None when it cannot be had offline."""
    if name not in _SHA256 or not _installed("tiktoken"):
        return None
    return _shipped(name) or _tiktoken_cache(name)


def available(name: str) -> bool:
    """Whether :func:`load` can give encoding ``name`` without the network."""
    return source(name) is not None


@cache
def load(name: str) -> Any:
    """The ``tiktoken.Encoding`` for ``name``, read from local files only.

    Raises ``LookupError`` when it is not available offline (see :func:`available`) and
    ``ValueError`` when the file found is not the one tiktoken expects.
    """
    path = source(name)
    if path is None:
        raise LookupError(name)
    import tiktoken

    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    if hashlib.sha256(data).hexdigest() != _SHA256[name]:
        raise ValueError(f"{path} is not OpenAI's {name} file (its sha256 differs)")
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(
        name=name,
        pat_str=_PATTERNS[name],
        mergeable_ranks=ranks,
        special_tokens=_SPECIAL[name],
    )
