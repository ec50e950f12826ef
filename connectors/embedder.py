"""Sentence embeddings with sentence-transformers, on the CPU."""

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from connectors.errors import ConnectorError

EMBEDDING_DIMENSIONS = 384


class EmbeddingError(ConnectorError):
    """The model could not be loaded or failed on an input."""


class Embedder:
    """Loads the model once; `encode` returns L2-normalised float32 vectors."""

    def __init__(self, model: str, batch_size: int = 64) -> None:
        # The model is local (a folder or a cached name): never ask a hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        from sentence_transformers import SentenceTransformer

        try:
            self.model = SentenceTransformer(model, device="cpu")
        except (OSError, ValueError) as exc:
            raise EmbeddingError(
                f"cannot load embedding model {model!r}: {exc}; set "
                "TIDINGS_EMBEDDING_MODEL to a sentence-transformers model folder"
            ) from exc

        dimensions = self.model.get_embedding_dimension()
        if dimensions != EMBEDDING_DIMENSIONS:
            raise EmbeddingError(
                f"model {model!r} makes {dimensions}-dimensional embeddings, but "
                f"the index stores {EMBEDDING_DIMENSIONS}; choose a "
                f"{EMBEDDING_DIMENSIONS}-dimensional model"
            )
        self.name = model
        # A folder is named by its last two parts, e.g. the wheel's package
        # name and "model", which is what a reader of the events needs.
        self.label = "/".join(Path(model).parts[-2:]) if Path(model).is_dir() else model
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBEDDING_DIMENSIONS), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32)


@lru_cache(maxsize=2)
def shared_embedder(model: str, batch_size: int) -> Embedder:
    return Embedder(model, batch_size)
