"""The share of a query's tokens that the embedding model does not know.

all-MiniLM-L6-v2, the default model, turns most Chinese characters into
[UNK]. The embedding of a query made mostly of [UNK] tokens carries little
meaning, so its nearest neighbours are arbitrary chunks or products. Product
and document search then skip the vector part and search by full text only.
"""

from connectors.embedder import Embedder

# Above this share of unknown tokens a query is searched by full text only.
MAX_UNKNOWN_TOKEN_SHARE = 0.5


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
    return unknown_token_share(embedder, text) > MAX_UNKNOWN_TOKEN_SHARE
