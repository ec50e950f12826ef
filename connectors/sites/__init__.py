"""Website crawling: a Scrapy crawl in a child process, page decoding and
main-text extraction."""
