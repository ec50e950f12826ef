"""A route dependency that rejects query parameters the route does not declare.

FastAPI ignores unknown query parameters, so a misspelt filter such as
`categry=` would return unfiltered results instead of an error.
"""

from fastapi import HTTPException, Request
from fastapi.routing import APIRoute


def _accepted_names(route: APIRoute) -> tuple[str, ...]:
    """Return the query parameters of the route and of all its dependencies."""
    # NOTE: a query parameter model (a pydantic model behind Query()) shows
    # up as one field here; no route that uses this dependency declares one.
    names: dict[str, None] = {}
    pending = [route.dependant]
    while pending:
        dependant = pending.pop(0)
        names.update((param.alias, None) for param in dependant.query_params)
        pending.extend(dependant.dependencies)
    return tuple(names)


async def reject_unknown_query_params(request: Request) -> None:
    """Raise 422 naming each query parameter the route does not accept."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    accepted = _accepted_names(route)
    unknown = [name for name in request.query_params if name not in accepted]
    if not unknown:
        return

    names = ", ".join(repr(name) for name in unknown)
    plural = "s" if len(unknown) > 1 else ""
    raise HTTPException(
        422,
        detail=f"Unknown query parameter{plural} {names}; {request.url.path} "
        f"accepts {', '.join(accepted)}. Check the spelling",
    )
