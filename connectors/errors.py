"""Root of the exceptions that connectors raise.

Each connector translates the errors of the library it wraps into a subclass of
`ConnectorError` at its boundary, so stream stages catch one family.
"""


class ConnectorError(Exception):
    """An outside system or file failed in a way the caller can report."""
