"""Exceptions of the history tools, under one root."""


class HistoryError(Exception):
    """A history command failed in a way the caller can report and fix."""


class CatalogError(HistoryError):
    """Topic metadata, offsets or consumer groups could not be read."""


class ReplayError(HistoryError):
    """A replay could not plan, read or write its events."""


class RebuildError(HistoryError):
    """A table could not be rebuilt, compared or swapped in."""
