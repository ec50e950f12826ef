"""`tidings webhooks`: read and rotate the tenant's webhook signing secret."""

from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console

from tidings.client import ClientError, TidingsClient
from tidings.settings import get_settings

webhooks_app = typer.Typer(
    help="Manage the secret that signs webhook callbacks.", no_args_is_help=True
)
errors = Console(stderr=True)


def _print_secret(request: Callable[[TidingsClient], dict[str, Any]]) -> None:
    try:
        answer = request(TidingsClient(get_settings()))
    except ClientError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc

    # The secret alone on stdout, so `$(tidings webhooks secret)` captures it.
    print(answer["secret"])
    if answer.get("previous_secret_valid_until"):
        errors.print(
            "callbacks also carry a signature under the previous secret until "
            f"{answer['previous_secret_valid_until']}"
        )


@webhooks_app.command("secret")
def show_secret() -> None:
    """Print the secret (whsec_...) that signs your callbacks."""
    _print_secret(TidingsClient.webhook_secret)


@webhooks_app.command("rotate-secret")
def rotate_secret(
    yes: Annotated[
        bool, typer.Option("--yes", help="Rotate without asking to confirm.")
    ] = False,
) -> None:
    """Replace the signing secret and print the new one.

    The old secret keeps signing too for a grace period (one day by default).
    """
    if not yes:
        typer.confirm("Replace the webhook signing secret?", abort=True)
    _print_secret(TidingsClient.rotate_webhook_secret)
