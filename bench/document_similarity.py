"""Measure the top cosine similarity of document-search queries.

Starts the test stack on the ports and data folder that the TIDINGS_TEST_*
variables set, as the integration tests do. Indexes the corpus PDFs that
have a text layer into a fresh tenant. Prints for each query its share of
unknown tokens and its three nearest chunks with their similarity. Each real
query names its expected document, so the output shows where
`search_vector_min_similarity` separates real queries from nonsense.

Usage: TIDINGS_TEST_API_PORT=... .venv/bin/python bench/document_similarity.py
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import psycopg  # noqa: E402
from pgvector.psycopg import register_vector  # noqa: E402

from api.unknown_tokens import unknown_token_share  # noqa: E402
from connectors.embedder import Embedder  # noqa: E402
from tests import stack as test_stack  # noqa: E402
from tests.integration.helpers import pdf_path, upload, wait_final  # noqa: E402
from tidings.fulltext import segment_query  # noqa: E402
from tidings.settings import Settings  # noqa: E402

# The indexable corpus PDFs, without the 352-page book, whose embedding
# takes minutes on a shared CPU.
FILES = [
    "pdfjs__tracemonkey.pdf",
    "pdfjs__pdkids.pdf",
    "samplefiles__pdflatex-4-pages.pdf",
    "samplefiles__multicolumn.pdf",
    "pypdf__crazyones.pdf",
    "pypdf__GeoBase_NHNC1_Data_Model_UML_EN.pdf",
    "pypdf__Seige_of_Vicksburg_Sample_OCR.pdf",
    "pdfminer__f1040nr.pdf",
    "pypdf__multilang.pdf",
    "pdfjs__copy_paste_ligatures.pdf",
    "pypdf__issue-914-xmp-data.pdf",
    "pdfjs__issue2128r.pdf",
    "pdfjs__issue16063.pdf",
    "pdfjs__noembed-sjis.pdf",
    "pdfjs__issue5202.pdf",
    "pymupdf__chinese-tables.pdf",
    "pdfjs__issue12823.pdf",
]

# Query and its expected document.
REAL_QUERIES = [
    ("trace-based just-in-time compilation", "pdfjs__tracemonkey.pdf"),
    ("type specialization for dynamic languages", "pdfjs__tracemonkey.pdf"),
    ("here's to the crazy ones, the misfits", "pypdf__crazyones.pdf"),
    ("crazy ones", "pypdf__crazyones.pdf"),
    ("national hydro network data model", "pypdf__GeoBase_NHNC1_Data_Model_UML_EN.pdf"),
    ("lorem ipsum", "samplefiles__multicolumn.pdf"),
    ("printed text without meaning", "samplefiles__pdflatex-4-pages.pdf"),
    ("siege of Vicksburg", "pypdf__Seige_of_Vicksburg_Sample_OCR.pdf"),
    ("nonresident alien income tax return", "pdfminer__f1040nr.pdf"),
    ("hello world", "pypdf__multilang.pdf"),
    # Paraphrases that share few or no words with their expected document,
    # so only the vector part can find them.
    ("JavaScript compiler speed", "pdfjs__tracemonkey.pdf"),
    ("map of rivers and lakes", "pypdf__GeoBase_NHNC1_Data_Model_UML_EN.pdf"),
    ("civil war battle", "pypdf__Seige_of_Vicksburg_Sample_OCR.pdf"),
    ("tax form for foreigners", "pdfminer__f1040nr.pdf"),
    ("people who think differently change the world", "pypdf__crazyones.pdf"),
    ("placeholder latin filler", "samplefiles__multicolumn.pdf"),
    ("信用评级", "pymupdf__chinese-tables.pdf"),
    ("校长的魅力", "pdfjs__issue2128r.pdf"),
    ("知识库简介", "pdfjs__issue12823.pdf"),
    ("商品名称", "pypdf__issue-914-xmp-data.pdf"),
]

NONSENSE_QUERIES = [
    "zzzqqqxx",
    "qwertyuiop",
    "asdfghjkl",
    "Okonkwo",
    "xq7 vorblat snerg",
    "purple elephant quantum banana",
    "海上钻井平台",
    "公司简介",
    "鈦合金閥門",
    "北京大学",
    "中国",
]

# Whether full text also finds the expected document, because the vector
# threshold does not limit text matches.
_TEXT_MATCH = """
SELECT EXISTS (
    SELECT 1 FROM document_chunks c
    JOIN documents d ON d.tenant_id = c.tenant_id AND d.document_id = c.document_id
    WHERE c.tenant_id = %(tenant)s AND d.filename = %(filename)s
      AND c.search_text @@ websearch_to_tsquery('english', %(text)s)
)
"""

_NEAREST = """
SELECT d.filename, 1 - (c.embedding <=> %(embedding)s) AS similarity
FROM document_chunks c
JOIN documents d ON d.tenant_id = c.tenant_id AND d.document_id = c.document_id
WHERE c.tenant_id = %(tenant)s
ORDER BY c.embedding <=> %(embedding)s
LIMIT 3
"""


def tenant_of(conn: psycopg.Connection, document_id: str) -> str:
    row = conn.execute(
        "SELECT tenant_id FROM documents WHERE document_id = %s", (document_id,)
    ).fetchone()
    assert row is not None
    return str(row[0])


def report(
    conn: psycopg.Connection,
    embedder: Embedder,
    tenant_id: str,
    query: str,
    expected: str,
) -> None:
    share = unknown_token_share(embedder, query)
    embedding = embedder.encode([query])[0]
    rows = conn.execute(_NEAREST, {"embedding": embedding, "tenant": tenant_id})
    nearest = [(str(name), float(sim)) for name, sim in rows.fetchall()]
    top = nearest[0][1] if nearest else float("nan")
    hit = "yes" if nearest and nearest[0][0] == expected else "no"
    text = conn.execute(
        _TEXT_MATCH,
        {"tenant": tenant_id, "filename": expected, "text": segment_query(query)},
    ).fetchone()
    by_text = "yes" if text and text[0] else "no"
    names = ", ".join(f"{name} {sim:.3f}" for name, sim in nearest)
    print(f"| {query} | {share:.2f} | {top:.3f} | {hit} | {by_text} | {names} |")


def main() -> None:
    settings = Settings()
    embedder = Embedder(settings.embedding_model, settings.embedding_batch_size)
    stack = test_stack.start_stack()
    try:
        with test_stack.fresh_tenant(stack, "sim") as client:
            ids = []
            for name in FILES:
                response = upload(client, pdf_path(name))
                response.raise_for_status()
                ids.append(response.json()["document_id"])
            states = wait_final(client, ids, timeout=900)
            statuses = {states[i]["status"] for i in ids if i in states}
            print(f"documents: {len(ids)}, statuses: {sorted(statuses)}")

        with psycopg.connect(stack.database_url) as conn:
            register_vector(conn)
            tenant_id = tenant_of(conn, ids[0])
            print(
                "| query | unknown share | top similarity | top is answer "
                "| answer matches text | nearest |"
            )
            print("|---|---|---|---|---|---|")
            for query, expected in REAL_QUERIES:
                report(conn, embedder, tenant_id, query, expected)
            for query in NONSENSE_QUERIES:
                report(conn, embedder, tenant_id, query, "")
    finally:
        test_stack.stop_stack(stack.process)


if __name__ == "__main__":
    main()
