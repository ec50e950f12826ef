"""Interactions and the co-occurrence counts derived from them.

`product_pairs` counts, per pair of products, the sessions in which both were
viewed (view, click or add_to_cart) or both were bought. The interaction row,
keyed by event id, and the count increments commit in one transaction, so a
replayed event finds its row and changes nothing.
"""

from dataclasses import dataclass

from psycopg import AsyncConnection, sql

from schemas.events import InteractionKind, InteractionRecordedV1

# The kinds that count towards each co-occurrence list.
PAIR_KINDS: dict[str, tuple[InteractionKind, ...]] = {
    "viewed": ("view", "click", "add_to_cart"),
    "bought": ("purchase",),
}
# A session pairs a product with at most this many others, its most recent
# ones, so that a crawler's session cannot write millions of pairs.
MAX_PARTNERS = 100


@dataclass(frozen=True)
class InteractionTables:
    """Names of the tables that interactions are written to; `tidings rebuild`
    passes shadow names."""

    interactions: str = "interactions"
    pairs: str = "product_pairs"

    def compose(self, template: sql.SQL) -> sql.Composed:
        """Fill a statement's {interactions} and {pairs}."""
        return template.format(
            interactions=sql.Identifier(self.interactions),
            pairs=sql.Identifier(self.pairs),
        )


LIVE_TABLES = InteractionTables()


def pair_kind(kind: InteractionKind) -> str:
    """Return the co-occurrence list an interaction kind counts towards."""
    return "bought" if kind == "purchase" else "viewed"


INSERT_SQL = sql.SQL("""
INSERT INTO {interactions} (event_id, tenant_id, session_id, user_id, product_id,
    kind, occurred_at)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (event_id) DO NOTHING
""")

SEEN_SQL = sql.SQL("""
SELECT EXISTS (
    SELECT 1 FROM {interactions}
    WHERE tenant_id = %s AND session_id = %s AND product_id = %s
      AND kind = ANY(%s) AND event_id <> %s
)
""")

PARTNERS_SQL = sql.SQL("""
SELECT product_id FROM {interactions}
WHERE tenant_id = %s AND session_id = %s AND kind = ANY(%s) AND product_id <> %s
GROUP BY product_id
ORDER BY max(occurred_at) DESC, product_id
LIMIT %s
""")

PAIR_SQL = sql.SQL("""
INSERT INTO {pairs} AS pp (tenant_id, kind, product_id, other_id, sessions)
VALUES (%s, %s, %s, %s, 1)
ON CONFLICT (tenant_id, kind, product_id, other_id)
DO UPDATE SET sessions = pp.sessions + 1
""")


async def record_interaction(
    conn: AsyncConnection,
    event_id: str,
    tenant_id: str,
    interaction: InteractionRecordedV1,
    tables: InteractionTables = LIVE_TABLES,
) -> int:
    """Store one interaction and count its new pairs; return the pairs counted.

    A product pairs with the session's other products only the first time it
    appears in that session's list, so each pair counts once per session.
    """
    session = interaction.session_id
    product = interaction.product_id
    kind = pair_kind(interaction.kind)
    kinds = list(PAIR_KINDS[kind])

    async with conn.transaction(), conn.cursor() as cursor:
        await cursor.execute(
            tables.compose(INSERT_SQL),
            (
                event_id,
                tenant_id,
                session,
                interaction.user_id,
                product,
                interaction.kind,
                interaction.occurred_at,
            ),
        )
        if cursor.rowcount == 0:
            return 0

        await cursor.execute(
            tables.compose(SEEN_SQL), (tenant_id, session, product, kinds, event_id)
        )
        seen = await cursor.fetchone()
        if seen is not None and seen[0]:
            return 0

        await cursor.execute(
            tables.compose(PARTNERS_SQL),
            (tenant_id, session, kinds, product, MAX_PARTNERS),
        )
        partners = [row[0] for row in await cursor.fetchall()]
        pairs = [(tenant_id, kind, product, other) for other in partners]
        pairs += [(tenant_id, kind, other, product) for other in partners]
        if pairs:
            await cursor.executemany(tables.compose(PAIR_SQL), sorted(pairs))
    return len(pairs)
