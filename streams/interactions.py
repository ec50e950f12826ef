"""Interaction stage: interaction.recorded -> interactions and product pairs."""

import structlog

from connectors.interaction_tables import record_interaction
from schemas.envelope import CloudEvent
from schemas.events import InteractionRecordedV1
from streams.runtime import Runtime

log = structlog.get_logger(__name__)


async def handle_interaction(event: CloudEvent, runtime: Runtime) -> None:
    assert runtime.pool is not None
    interaction = InteractionRecordedV1.model_validate(event.data)
    async with runtime.pool.connection() as conn:
        pairs = await record_interaction(conn, event.id, event.tenantid, interaction)
    log.debug(
        "interaction_recorded",
        tenant_id=event.tenantid,
        event_id=event.id,
        session_id=interaction.session_id,
        pairs=pairs,
    )
