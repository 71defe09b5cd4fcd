"""Sentence embeddings for deflection's ``semantic`` ranking (``[deflection] ranking``).

The model ships inside the ``wordllama`` package (the optional extra
``helpthread[semantic]``): its 256-dimension weights and its tokenizer are files of the
wheel, loaded from the package's own directory with downloads disabled — nothing is
fetched at run time. A vector is stored as ``VECTOR_DIM`` little-endian float32 values
(``bytes``), scaled to length 1, so the dot product of two is their cosine similarity.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any, Protocol

from core.config import DeskConfig

MODEL = "wordllama-l2_supercat-256"  # the model a stored vector was made with
VECTOR_DIM = 256
DTYPE = "<f4"


class Embedder(Protocol):
    """Turns text into a unit vector (``bytes`` of float32); ``model`` names it."""

    model: str

    def embed(self, text: str) -> bytes: ...


class WordLlamaEmbedder:
    """``wordllama``'s shipped ``l2_supercat`` model at 256 dimensions. Raises
    ``ModuleNotFoundError`` when the package is not installed."""

    model = MODEL

    def __init__(self) -> None:
        wordllama: Any = importlib.import_module("wordllama")
        home = Path(wordllama.__file__).parent  # holds weights/ and tokenizers/
        self._model = wordllama.WordLlama.load(config="l2_supercat", dim=VECTOR_DIM,
                                               cache_dir=home, disable_download=True)

    def embed(self, text: str) -> bytes:
        import numpy as np  # only with the semantic ranking: numpy costs every start

        return unit(np.asarray(self._model.embed([text]), dtype=np.float32)[0])

    def embed_many(self, texts: list[str]) -> list[bytes]:
        """``embed`` for each of ``texts``, in one call to the model."""
        import numpy as np

        if not texts:
            return []
        matrix = np.asarray(self._model.embed(texts), dtype=np.float32)
        return [unit(row) for row in matrix]


def unit(vector: Any) -> bytes:
    """``vector`` scaled to length 1 (a zero vector stays zero), as stored bytes."""
    import numpy as np

    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return (array / norm if norm > 0 else array).astype(DTYPE).tobytes()


def rank(query: bytes, candidates: list[tuple[int, bytes]], limit: int) -> list[int]:
    """The keys of the ``limit`` candidates (key, vector) most alike ``query`` (cosine),
    best first; ties by the higher key (newer ticket). Vectors of another size are
    skipped."""
    import numpy as np

    q = np.frombuffer(query, dtype=DTYPE)
    kept = [(key, vec) for key, vec in candidates if len(vec) == len(query)]
    if not kept:
        return []
    matrix = np.frombuffer(b"".join(vec for _, vec in kept), dtype=DTYPE).reshape(
        len(kept), q.size)
    scores = matrix @ q
    keys = np.array([key for key, _ in kept])
    order = np.lexsort((-keys, -scores))[:limit]  # the last key sorts first
    return [int(keys[i]) for i in order]


@functools.cache
def _wordllama() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


def embedder_for(config: DeskConfig) -> Embedder | None:
    """The embedder ``[deflection] ranking`` asks for (loaded once per process), or None
    for full-text ranking. Raises ``ModuleNotFoundError`` for ``semantic`` without the
    ``wordllama`` package (the config check names it first)."""
    if config.deflection.ranking != "semantic":
        return None
    return _wordllama()
