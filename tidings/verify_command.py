"""`tidings verify`: submit a verification job, follow its events, print the verdict."""

import json
import sys
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from tidings.client import ClientError, TidingsClient, error_message, shorten
from tidings.settings import get_settings

console = Console(soft_wrap=True, highlight=False)
errors = Console(stderr=True, soft_wrap=True)

# The option that sets each request field, so that a 422 names the option.
OPTION_FOR_FIELD = {
    "subject.name": "--name",
    "subject.kind": "--kind",
    "subject.website": "--website",
    "subject.registration_number": "--registration-number",
    "subject.country": "--country",
    "checks": "--check",
    "priority": "--priority",
}
POLL_SECONDS = 0.5
# Exit status when the job is still running at --timeout, as in `ingest`.
PENDING_EXIT = 2


def request_problems(detail: Any) -> list[str]:
    """Return one line per entry of a 422 `detail` list, naming the option.

    Returns an empty list when the detail is not a list of validation errors.
    """
    if not isinstance(detail, list):
        return []
    lines = []
    for error in detail:
        if not isinstance(error, dict):
            return []
        location = [str(part) for part in error.get("loc", [])]
        if location[:1] == ["body"]:
            location = location[1:]
        # A list item's index ("checks.1") is dropped to find the option.
        path = ".".join(part for part in location if not part.isdigit())
        name = OPTION_FOR_FIELD.get(path, path or "request")
        if error.get("type") == "missing" or "input" not in error:
            lines.append(f"invalid {name}: {error_message(error)}")
        else:
            value = shorten(error["input"])
            lines.append(f"invalid {name} {value}: {error_message(error)}")
    return lines


def _print_event(event: dict[str, Any]) -> None:
    console.print(f"{event['time'][11:23]}  {event['summary']}", markup=False)


def follow_job(
    client: TidingsClient, job_id: str, timeout: float
) -> dict[str, Any] | None:
    """Print each new trail event until the job completes; return the last state.

    Returns None when the job is not completed within `timeout` seconds.
    """
    printed: set[str] = set()
    deadline = time.monotonic() + timeout
    while True:
        job = client.verification(job_id)
        for event in job["events"]:
            if event["event_id"] not in printed:
                printed.add(event["event_id"])
                _print_event(event)
        if job["status"] == "completed":
            return job
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_SECONDS)


def print_verdict(job: dict[str, Any]) -> None:
    console.print(
        f"verdict: {job['verdict']} (score {job['score']:.2f})  [{job['job_id']}]",
        markup=False,
    )
    for reason in job["reasons"]:
        check = f"{reason['check']}: " if reason.get("check") else ""
        console.print(f"  - {check}{reason['code']}: {reason['detail']}", markup=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def verify(
        name: Annotated[str, typer.Option(help="Name of the subject to verify.")],
        kind: Annotated[
            str, typer.Option(help="Subject kind: company, person or merchant.")
        ] = "company",
        website: Annotated[
            str | None, typer.Option(help="The subject's website URL.")
        ] = None,
        registration_number: Annotated[
            str | None, typer.Option(help="Company registration number.")
        ] = None,
        country: Annotated[
            str | None, typer.Option(help="ISO 3166-1 alpha-2 country code.")
        ] = None,
        check: Annotated[
            list[str] | None,
            typer.Option(
                help="A check to run (repeat for several): web_search, registry, "
                "website or sanctions. All by default."
            ),
        ] = None,
        priority: Annotated[
            str, typer.Option(help="realtime (the default here) or batch.")
        ] = "realtime",
        idempotency_key: Annotated[
            str | None, typer.Option(help="Idempotency-Key sent with the request.")
        ] = None,
        timeout: Annotated[
            float, typer.Option(help="Seconds to wait for the verdict.")
        ] = 300,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the final job as JSON.")
        ] = False,
    ) -> None:
        """Verify a subject: submit a job, follow its events, print the verdict."""
        subject = {
            "kind": kind,
            "name": name,
            "website": website,
            "registration_number": registration_number,
            "country": country,
        }
        body: dict[str, Any] = {
            "subject": {key: value for key, value in subject.items() if value},
            "priority": priority,
        }
        if check:
            body["checks"] = check

        try:
            client = TidingsClient(get_settings())
            accepted = client.verify(body, idempotency_key)
            errors.print(f"job {accepted['job_id']} {accepted['status']}")
            job = follow_job(client, accepted["job_id"], timeout)
        except ClientError as exc:
            problems = request_problems(exc.detail) if exc.status == 422 else []
            for line in problems or [str(exc)]:
                errors.print(f"[red]error:[/red] {escape(line)}", highlight=False)
            raise typer.Exit(1) from exc

        if job is None:
            errors.print(
                f"job {accepted['job_id']} is still running after {timeout:g}s; "
                f"read it later with GET {accepted['status_url']}"
            )
            raise typer.Exit(PENDING_EXIT)
        if as_json:
            json.dump(job, sys.stdout, ensure_ascii=False, indent=2)
            print()
            return
        print_verdict(job)
