"""422 responses for invalid requests that JSON can always encode.

FastAPI's default handler echoes each error's input. A request body may
hold numbers that JSON cannot encode (Infinity, NaN), and echoing them made
the error response itself fail with a 500.
"""

import math
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _encodable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _encodable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(item) for item in value]
    return value


async def validation_error_response(
    request: Request, exc: RequestValidationError
) -> JSONResponse:
    """Return the 422 response with every error's input in encodable form."""
    errors = [
        {**error, "input": _encodable(error["input"])} if "input" in error else error
        for error in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})
