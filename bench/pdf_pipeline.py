"""Benchmark: the whole PDF pipeline against raw pypdf and the raw model.

Starts its own stack (like the tests, on other ports and data folder),
uploads a set of corpus PDFs through the API and measures:

- pipeline pages/s: pages of all documents / (first upload -> last indexed),
  next to raw pypdf pages/s extracting the same files in this process;
- index-stage chunks/s: chunks / (first parsed event -> last indexed event),
  next to the raw model's `encode` on the same chunks in this process.

Usage: .venv/bin/python bench/pdf_pipeline.py [--repeat N]
"""

import argparse
import io
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from connectors.embedder import Embedder  # noqa: E402
from streams.chunking import chunk_pages  # noqa: E402
from tests import stack as test_stack  # noqa: E402
from tests.integration.helpers import pdf_path, upload_bytes, wait_final  # noqa: E402
from tidings.settings import Settings  # noqa: E402

FILES = [
    "pdfjs__tracemonkey.pdf",
    "pdfjs__pdkids.pdf",
    "pdfjs__freeculture.pdf",
    "pypdf__GeoBase_NHNC1_Data_Model_UML_EN.pdf",
    "samplefiles__pdflatex-4-pages.pdf",
    "samplefiles__multicolumn.pdf",
    "pdfminer__f1040nr.pdf",
    "pypdf__Seige_of_Vicksburg_Sample_OCR.pdf",
]

BENCH_ENV = {
    "TIDINGS_DATA_DIR": str(REPO_ROOT / "var" / "bench"),
    "TIDINGS_TEST_KAFKA_PORT": "39092",
    "TIDINGS_TEST_KAFKA_CONTROLLER_PORT": "39093",
    "TIDINGS_TEST_API_PORT": "38000",
}


def raw_pypdf(datas: list[bytes]) -> tuple[int, float, list[list[str]]]:
    # The worker silences pypdf's font warnings too, so both sides skip them.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    start = time.perf_counter()
    pages_total = 0
    texts = []
    for data in datas:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        pages_total += len(pages)
        texts.append(pages)
    return pages_total, time.perf_counter() - start, texts


def raw_encode(texts: list[list[str]], settings: Settings) -> tuple[int, float]:
    chunks = []
    for pages in texts:
        chunks += [
            c.text
            for c in chunk_pages(pages, settings.chunk_size, settings.chunk_overlap)
        ]
    embedder = Embedder(settings.embedding_model, settings.embedding_batch_size)
    embedder.encode(chunks[:8])  # warm-up
    start = time.perf_counter()
    embedder.encode(chunks)
    return len(chunks), time.perf_counter() - start


def pipeline_run(stack: test_stack.Stack, datas: list[bytes], run: int) -> dict:
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=120) as api:
        start = time.perf_counter()
        ids = []
        for index, data in enumerate(datas):
            # A unique trailer makes every run's files new documents.
            unique = data + f"\n% bench run {run} file {index} {time.time()}\n".encode()
            ids.append(
                upload_bytes(api, f"bench-{index}.pdf", unique).json()["document_id"]
            )
        states = wait_final(api, ids, timeout=1800)
        elapsed = time.perf_counter() - start

    not_indexed = [i for i in ids if states.get(i, {}).get("status") != "indexed"]
    if not_indexed:
        raise RuntimeError(f"documents not indexed: {not_indexed}")

    # The index stage's span: first parsed event to last indexed event of
    # this run, so queueing inside the span counts as stage time.
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM max(time) FILTER (WHERE status = 'indexed') "
            " - min(time) FILTER (WHERE status = 'parsed')) "
            "FROM document_events WHERE document_id = ANY(%s)",
            (ids,),
        ).fetchone()
    index_seconds = row[0]
    return {
        "seconds": elapsed,
        "pages": sum(states[i]["page_count"] for i in ids),
        "chunks": sum(states[i]["chunk_count"] for i in ids),
        "index_seconds": float(index_seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="Pipeline runs to time.")
    args = parser.parse_args()

    os.environ.update(BENCH_ENV)
    test_stack.TEST_ENV.update(
        TIDINGS_DATA_DIR=BENCH_ENV["TIDINGS_DATA_DIR"],
        TIDINGS_KAFKA_PORT=BENCH_ENV["TIDINGS_TEST_KAFKA_PORT"],
        TIDINGS_KAFKA_CONTROLLER_PORT=BENCH_ENV["TIDINGS_TEST_KAFKA_CONTROLLER_PORT"],
        TIDINGS_API_PORT=BENCH_ENV["TIDINGS_TEST_API_PORT"],
        TIDINGS_MAX_UPLOAD_BYTES=str(100 * 1024 * 1024),
        TIDINGS_LOG_LEVEL="WARNING",
    )
    datas = [pdf_path(name).read_bytes() for name in FILES]
    settings = Settings()

    pages, pypdf_seconds, texts = raw_pypdf(datas)
    chunks, encode_seconds = raw_encode(texts, settings)

    stack = test_stack.start_stack()
    try:
        runs = [pipeline_run(stack, datas, run) for run in range(args.repeat)]
    finally:
        test_stack.stop_stack(stack.process)

    pipeline_pages_per_s = statistics.median(r["pages"] / r["seconds"] for r in runs)
    index_chunks_per_s = statistics.median(
        r["chunks"] / r["index_seconds"] for r in runs
    )
    pypdf_pages_per_s = pages / pypdf_seconds
    encode_chunks_per_s = chunks / encode_seconds

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"files: {len(FILES)}, pages: {pages}, chunks (raw chunking): {chunks}, "
        f"runs: {args.repeat}"
    )
    print("| measure | pipeline | raw | ratio |")
    print("| --- | --- | --- | --- |")
    print(
        f"| pages/s (upload to indexed vs pypdf extract) | {pipeline_pages_per_s:.1f} "
        f"| {pypdf_pages_per_s:.1f} | {pipeline_pages_per_s / pypdf_pages_per_s:.2f} |"
    )
    print(
        f"| chunks/s (index stage vs model encode) | {index_chunks_per_s:.1f} "
        f"| {encode_chunks_per_s:.1f} "
        f"| {index_chunks_per_s / encode_chunks_per_s:.2f} |"
    )
    for number, run in enumerate(runs, start=1):
        print(
            f"run {number}: {run['seconds']:.1f} s, {run['pages']} pages, "
            f"{run['chunks']} chunks, index stage {run['index_seconds']:.1f} s"
        )


if __name__ == "__main__":
    main()
