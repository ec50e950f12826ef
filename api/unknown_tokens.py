"""The share of a query's tokens that the embedding model does not know.

all-MiniLM-L6-v2, the default model, turns most Chinese characters into
[UNK]. The embedding of a query made mostly of [UNK] tokens carries little
meaning, so its nearest neighbours are arbitrary chunks or products. Product
and document search then skip the vector part and search by full text only.
"""

from connectors.embedder import Embedder
from tidings.fulltext import contains_cjk

# Above this share of unknown tokens a query is searched by full text only.
MAX_UNKNOWN_TOKEN_SHARE = 0.5
# A query with Chinese or Japanese characters needs every token known. With
# all-MiniLM-L6-v2 over 17 corpus PDFs (bench/document_similarity.py), the
# Chinese queries with unknown-token shares of 0.25, 0.33 and 0.4 found
# unrelated CJK chunks at cosine similarities of 0.41, 0.51 and 0.34, above
# `search_vector_min_similarity`. A multilingual model with tokens for the
# characters keeps its vector part.
MAX_CJK_UNKNOWN_TOKEN_SHARE = 0.0


def unknown_token_share(embedder: Embedder, text: str) -> float:
    """Return the share of the text's tokens that the model's vocabulary lacks."""
    tokenizer = embedder.model.tokenizer
    tokens = tokenizer.tokenize(text)
    if not tokens:
        return 1.0
    return sum(token == tokenizer.unk_token for token in tokens) / len(tokens)


def mostly_unknown(embedder: Embedder, text: str) -> bool:
    """Return whether too few of the text's tokens are known for its embedding
    to be worth a vector search."""
    limit = MAX_UNKNOWN_TOKEN_SHARE
    if contains_cjk(text):
        limit = MAX_CJK_UNKNOWN_TOKEN_SHARE
    return unknown_token_share(embedder, text) > limit
