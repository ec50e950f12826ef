"""The interest profile built from recent interactions."""

from datetime import UTC, datetime

import numpy as np

from api.recommendations import profile_embedding

NOW = datetime.now(UTC)


def test_profile_weights_purchase_over_view() -> None:
    embeddings = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0])}
    profile = profile_embedding(
        [("a", "view", NOW), ("b", "purchase", NOW)], embeddings
    )

    assert profile is not None
    assert profile[1] > profile[0]


def test_profile_is_unit_length() -> None:
    embeddings = {"a": np.array([3.0, 4.0])}
    profile = profile_embedding([("a", "click", NOW)], embeddings)

    assert profile is not None
    assert np.isclose(np.linalg.norm(profile), 1.0)


def test_profile_skips_deleted_products() -> None:
    assert profile_embedding([("gone", "view", NOW)], {}) is None
