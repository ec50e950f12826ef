"""PDF text extraction with pypdf, run in a worker process with time and memory limits.

`extract_text` does the parsing and translates pypdf's exceptions into `PdfError`.
`PdfExtractor` runs it in a pebble process pool, so that a PDF which hangs the
parser or exhausts memory fails with a `PdfError` instead of stalling the caller.
"""

import asyncio
import io
import logging
import multiprocessing
import os
import re
import resource
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pebble
from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, LimitReachedError

from connectors.errors import ConnectorError

logger = logging.getLogger(__name__)

PdfErrorReason = Literal[
    "not_pdf",
    "empty",
    "encrypted",
    "malformed",
    "too_many_pages",
    "timeout",
    "too_large_for_memory",
]

PDF_HEADER = b"%PDF-"
# Acrobat accepts a header anywhere in the first 1,024 bytes (Adobe PDF Reference
# 1.4, implementation notes), so some files in use have bytes before it.
HEADER_SEARCH_BYTES = 1024

MAX_PAGES_SETTING = "TIDINGS_MAX_PDF_PAGES"
TIMEOUT_SETTING = "TIDINGS_PARSE_TIMEOUT_SECONDS"
MEMORY_LIMIT_SETTING = "TIDINGS_PARSE_MEMORY_LIMIT_BYTES"

# Python strings may hold UTF-16 surrogates, which UTF-8 cannot encode.
_SURROGATES = re.compile("[\ud800-\udfff]")


class PdfError(ConnectorError):
    """A PDF that cannot be read, with a stable reason code and a readable detail."""

    def __init__(self, reason: PdfErrorReason, detail: str) -> None:
        # Both values go to Exception.args, so the error survives pickling
        # on its way back from the worker process.
        super().__init__(reason, detail)
        self.reason: PdfErrorReason = reason
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


@dataclass(frozen=True)
class ExtractedPdf:
    """Text of a PDF, one NFKC-normalised string per page without NUL bytes.

    `pages[0]` is page 1. A page whose extraction failed is an empty string, and
    its 1-based number is in `failed_pages`.
    """

    pages: list[str]
    page_count: int
    was_encrypted: bool
    failed_pages: list[int] = field(default_factory=list)


def sniff_pdf(data: bytes) -> None:
    """Raise PdfError unless `data` starts like a PDF file.

    The `%PDF-` header must begin within the first 1,024 bytes.
    """
    if not data:
        raise PdfError("empty", "the file is empty (0 bytes); upload the PDF again")

    if PDF_HEADER not in data[: HEADER_SEARCH_BYTES + len(PDF_HEADER) - 1]:
        start = data[:16]
        raise PdfError(
            "not_pdf",
            f"the file is not a PDF because it has no '%PDF-' header in its first "
            f"{HEADER_SEARCH_BYTES:,} bytes (it starts with {start!r}); "
            f"upload a PDF file",
        )


def extract_text(data: bytes, *, password: str | None, max_pages: int) -> ExtractedPdf:
    """Extract the text of every page of a PDF, raising PdfError when that fails.

    An encrypted PDF is opened with the empty user password first and then with
    `password`, which pypdf checks as owner and as user password. One page that
    fails does not fail the document, but a document whose pages all fail does.
    """
    sniff_pdf(data)

    with _pypdf_errors("open"):
        reader = PdfReader(io.BytesIO(data), strict=False)
        was_encrypted = _decrypt(reader, password)
        page_count = _count_pages(reader, max_pages)

    pages, failed_pages = _extract_pages(reader, page_count)
    return ExtractedPdf(
        pages=pages,
        page_count=page_count,
        was_encrypted=was_encrypted,
        failed_pages=failed_pages,
    )


@contextmanager
def _pypdf_errors(action: str) -> Iterator[None]:
    """Translate whatever pypdf raises into PdfError.

    DependencyError passes through because a missing package is a deployment
    fault, not a fault of the PDF.
    """
    try:
        yield
    except (PdfError, DependencyError):
        raise
    except MemoryError as exc:
        raise _memory_error() from exc
    except LimitReachedError as exc:
        raise PdfError(
            "too_many_pages",
            f"pypdf stopped at a safety limit while it tried to {action} the PDF "
            f"({exc}); such files declare far more pages or objects than they "
            f"contain, so raising {MAX_PAGES_SETTING} does not help",
        ) from exc
    except Exception as exc:
        # pypdf raises PdfReadError, but also ValueError, KeyError, TypeError and
        # RecursionError on damaged files, so every exception means "malformed".
        raise PdfError(
            "malformed",
            f"the PDF is damaged and pypdf failed to {action} it "
            f"({type(exc).__name__}: {exc}); repair or export the PDF again",
        ) from exc


def _memory_error() -> PdfError:
    return PdfError(
        "too_large_for_memory",
        f"parsing the PDF ran out of memory; split the document or raise "
        f"{MEMORY_LIMIT_SETTING}",
    )


def _decrypt(reader: PdfReader, password: str | None) -> bool:
    """Decrypt the reader if needed and return whether the PDF was encrypted."""
    if not reader.is_encrypted:
        return False

    if reader.decrypt("") != PasswordType.NOT_DECRYPTED:
        return True

    if not password:
        raise PdfError(
            "encrypted",
            "the PDF is encrypted with a password; upload it again with the "
            "`password` field",
        )

    for candidate in _password_candidates(password):
        if reader.decrypt(candidate) != PasswordType.NOT_DECRYPTED:
            return True

    raise PdfError(
        "encrypted",
        "the PDF is encrypted and the password is wrong; upload it again with the "
        "correct user or owner password in the `password` field",
    )


def _password_candidates(password: str) -> list[str | bytes]:
    # For encryption revisions up to 4, pypdf encodes a str password as Latin-1
    # when it can. Some PDF writers use UTF-8 bytes there, so try those too.
    candidates: list[str | bytes] = [password]
    if not password.isascii():
        candidates.append(password.encode("utf-8"))
    return candidates


def _count_pages(reader: PdfReader, max_pages: int) -> int:
    declared = _declared_page_count(reader)
    if declared is not None and declared > max_pages:
        raise _too_many_pages(declared, max_pages)

    # The declared /Count can be wrong, so the page tree decides.
    page_count = len(reader.pages)
    if page_count > max_pages:
        raise _too_many_pages(page_count, max_pages)
    return page_count


def _declared_page_count(reader: PdfReader) -> int | None:
    """Return the /Count of the root page tree node, read before walking the tree."""
    pages_root = reader.root_object.get("/Pages")
    if pages_root is None:
        return None

    count = pages_root.get_object().get("/Count")
    if count is None:
        return None
    count = count.get_object()
    return int(count) if isinstance(count, int) else None


def _too_many_pages(page_count: int, max_pages: int) -> PdfError:
    return PdfError(
        "too_many_pages",
        f"the PDF has {page_count:,} pages, more than the limit of {max_pages:,} "
        f"pages set by {MAX_PAGES_SETTING}; split the document or raise the limit",
    )


def _extract_pages(reader: PdfReader, page_count: int) -> tuple[list[str], list[int]]:
    pages: list[str] = []
    failed_pages: list[int] = []

    for index in range(page_count):
        try:
            text = reader.pages[index].extract_text()
        except MemoryError as exc:
            raise _memory_error() from exc
        except DependencyError:
            raise
        except Exception as exc:
            logger.warning("pypdf failed to extract page %d: %r", index + 1, exc)
            failed_pages.append(index + 1)
            text = ""
        pages.append(normalize_text(text))

    if page_count and len(failed_pages) == page_count:
        raise PdfError(
            "malformed",
            f"text extraction failed on all {page_count:,} pages of the PDF; "
            f"repair or export the PDF again",
        )
    return pages, failed_pages


def normalize_text(text: str) -> str:
    """Return text without NUL bytes, NFKC-normalised, with surrogates as U+FFFD.

    NFKC turns ligatures and compatibility forms into plain letters (U+FB01 into
    "fi"). PostgreSQL text rejects NUL, and UTF-8 cannot encode lone surrogates.
    """
    text = text.replace("\x00", "")
    text = unicodedata.normalize("NFKC", text)
    return _SURROGATES.sub("\ufffd", text)


ExtractTarget = Callable[..., ExtractedPdf]


class PdfExtractor:
    """Runs `extract_text` in worker processes with a time and a memory limit.

    Each worker is a pebble process started with forkserver where available,
    otherwise with spawn, and its address space is capped with RLIMIT_AS. When
    a document exceeds `timeout_seconds`, pebble kills its worker and starts a
    new one, so the next document is not affected.

    The PDF reaches the worker as a temporary file, not as a pickled argument.
    pebble 5.2.3 unpickles arguments before the task starts, where a MemoryError
    kills the worker outside any task and breaks the whole pool.

    `target` replaces `extract_text`, for example in tests. It must be a
    module-level function so that it can be pickled.
    """

    def __init__(
        self,
        *,
        timeout_seconds: float,
        max_pages: int,
        memory_limit_bytes: int,
        workers: int = 1,
        target: ExtractTarget = extract_text,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be > 0, got {timeout_seconds}")
        if max_pages < 1:
            raise ValueError(f"max_pages must be >= 1, got {max_pages}")
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")

        self._timeout_seconds = timeout_seconds
        self._max_pages = max_pages
        self._memory_limit_bytes = _effective_memory_limit(memory_limit_bytes)
        self._target = target
        self._futures: set[pebble.ProcessFuture[ExtractedPdf]] = set()
        self._pool = pebble.ProcessPool(
            max_workers=workers,
            initializer=_init_worker,
            initargs=(self._memory_limit_bytes,),
            context=_worker_context(),
        )

    async def extract(self, data: bytes, password: str | None) -> ExtractedPdf:
        """Extract the text of a PDF in a worker process, raising PdfError on failure.

        Cancelling the awaiting task cancels the document and, if it is already
        running, kills its worker.
        """
        sniff_pdf(data)

        path = await asyncio.to_thread(_write_temporary_file, data)
        try:
            return await self._run_in_worker(path, password)
        finally:
            os.unlink(path)

    async def _run_in_worker(self, path: str, password: str | None) -> ExtractedPdf:
        future = self._pool.schedule(
            _extract_file,
            args=(self._target, path, password, self._max_pages),
            timeout=self._timeout_seconds,
        )
        self._futures.add(future)
        try:
            return await asyncio.wrap_future(future)
        except TimeoutError as exc:
            raise PdfError(
                "timeout",
                f"extracting the PDF's text took longer than "
                f"{self._timeout_seconds:g} s, so the parser was stopped; split the "
                f"document or raise {TIMEOUT_SETTING}",
            ) from exc
        except MemoryError as exc:
            raise _memory_error() from exc
        except pebble.ProcessExpired as exc:
            raise self._worker_died(exc) from exc
        finally:
            self._futures.discard(future)

    def close(self) -> None:
        """Stop the workers and cancel the documents that are queued or running.

        Pending `extract` calls raise asyncio.CancelledError.
        """
        self._pool.stop()
        self._pool.join()

        # pebble's stop() leaves the futures of unfinished tasks pending, which
        # would leave their `extract` calls waiting forever.
        for future in list(self._futures):
            future.cancel()

    def _worker_died(self, exc: pebble.ProcessExpired) -> PdfError:
        # RLIMIT_AS makes allocations fail. Python turns that into MemoryError,
        # but C code (zlib, cryptography) may abort the process instead.
        logger.warning(
            "PDF worker process %s died with exit code %s", exc.pid, exc.exitcode
        )
        limit_mib = self._memory_limit_bytes // 2**20
        return PdfError(
            "too_large_for_memory",
            f"the PDF parser process died (exit code {exc.exitcode}), most likely "
            f"because it hit its memory limit of {limit_mib:,} MiB; split the "
            f"document or raise {MEMORY_LIMIT_SETTING}",
        )


def _write_temporary_file(data: bytes) -> str:
    """Write the PDF to a new file that only this user can read, and return its path."""
    descriptor, path = tempfile.mkstemp(prefix="tidings-pdf-", suffix=".pdf")
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    return path


def _extract_file(
    target: ExtractTarget, path: str, password: str | None, max_pages: int
) -> ExtractedPdf:
    """Read the PDF from `path` and call `target` on it, inside the worker process."""
    try:
        data = Path(path).read_bytes()
    except MemoryError as exc:
        raise _memory_error() from exc
    return target(data, password=password, max_pages=max_pages)


def _effective_memory_limit(memory_limit_bytes: int) -> int:
    """Return the requested limit, lowered to the hard RLIMIT_AS the workers inherit."""
    if memory_limit_bytes <= 0:
        raise ValueError(f"memory_limit_bytes must be > 0, got {memory_limit_bytes}")

    _, hard_limit = resource.getrlimit(resource.RLIMIT_AS)
    if hard_limit == resource.RLIM_INFINITY:
        return memory_limit_bytes
    return min(memory_limit_bytes, hard_limit)


def _init_worker(memory_limit_bytes: int) -> None:
    """Cap the worker's address space and quiet pypdf's per-defect warnings."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))

    # pypdf logs a warning for each defect it works around (hundreds for some
    # files), while the caller learns the outcome from PdfError and failed_pages.
    logging.getLogger("pypdf").setLevel(logging.ERROR)


def _worker_context() -> multiprocessing.context.BaseContext:
    # fork would copy the caller's threads and event loop state into the worker.
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")
