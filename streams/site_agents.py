"""Agents of the website crawl: the crawl stage and the site page stage."""

import faust

from schemas import topics
from streams.catalog_agents import Channel, Consume
from streams.crawl import handle_crawl_requested
from streams.runtime import Runtime
from streams.site_pages import handle_site_page_event


def add_site_agents(
    app: faust.App, runtime: Runtime, channel: Channel, consume: Consume
) -> None:
    """Register the crawl stage and the stage that hands changed pages to
    the index stage."""

    # NOTE: the stage runs TIDINGS_STAGE_WORKERS crawls at once, one per
    # tenant, so a tenant's second crawl waits for its first.
    @app.agent(channel(topics.SITE_CRAWL_REQUESTED), name="crawl")
    async def crawl(stream: faust.StreamT) -> None:
        await consume("crawl", stream, handle_crawl_requested)

    site_page_topics = channel(topics.SITE_PAGE_FETCHED, topics.SITE_PAGE_REMOVED)

    @app.agent(site_page_topics, name="site-pages")
    async def site_pages(stream: faust.StreamT) -> None:
        await consume("site-pages", stream, handle_site_page_event)
