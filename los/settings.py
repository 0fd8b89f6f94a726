"""Process settings, read from the environment (prefix ``LOS_``; ``DATABASE_URL`` and
``TEMPORAL_ADDRESS`` also work without it, as operators expect)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me-before-production"  # noqa: S105 - refused outside development
DEV_PAYLOAD_KEY_ID = "dev-field-key"  # the development payload key (derived from the field key)
# Secrets written in this repository (the development default, docker-compose.yml's placeholder): refused as the
# value of any secret outside development, like a secret left unset that would be derived from another.
PUBLISHED_SECRETS = frozenset({DEV_SECRET, "change-me-in-production-to-a-long-random-value"})


class MissingSetting(RuntimeError):
    """A setting a command needs is not set (e.g. ``DATABASE_URL`` for a process run alone, outside ``los up``): the
    message names it and what to do; the CLI prints it as one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOS_", extra="ignore", populate_by_name=True)

    env: str = "development"
    home: Path = Field(default=Path(".los"), description="state directory for embedded services")

    database_url: str | None = Field(default=None, validation_alias=AliasChoices("LOS_DATABASE_URL", "DATABASE_URL"))
    temporal_address: str | None = Field(
        default=None, validation_alias=AliasChoices("LOS_TEMPORAL_ADDRESS", "TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = "default"
    task_queue: str = "loans"
    # The Temporal UI as people open it. Unset: the embedded dev server's (temporal_ui_port), or none at all
    # when temporal_address points at an external server whose UI only the operator knows.
    temporal_ui_url: str | None = None

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    sandbox_port: int = 8100
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    # Where providers (the sandbox in development) post webhooks back to.
    public_api_url: str | None = None
    sandbox_url: str | None = None

    storage_dir: Path | None = None
    # Private object storage: S3 (or MinIO/Ceph...) through boto3 when a bucket is set, else storage_dir.
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # e.g. http://minio:9000; None is AWS
    s3_region: str | None = None
    s3_access_key_id: SecretStr | None = None  # None: boto3's own chain (environment, instance role)
    s3_secret_access_key: SecretStr | None = None
    s3_addressing_style: Literal["auto", "path", "virtual"] | None = None  # None: path with an endpoint URL
    # Documents are served only by presigned URLs this short-lived (S3 allows up to 7 days).
    presign_ttl_seconds: int = Field(default=300, gt=0, le=7 * 24 * 3600)
    # Signs local-storage file links; defaults to (a key derived from) jwt_secret.
    storage_url_secret: SecretStr | None = None
    jwt_secret: SecretStr = SecretStr(DEV_SECRET)
    # Keys the encrypted fields (bank account numbers, statement passwords) and the keyed hashes (Aadhaar,
    # account fingerprints); defaults to jwt_secret. Set it on its own so the JWT secret can be rotated
    # without losing what was sealed; it must never change afterwards (sealed data would be unreadable).
    field_secret: SecretStr | None = None
    # Field-encryption key ring (los.crypto.FieldKeys, docs/security.md): key id -> secret, as JSON in
    # LOS_FIELD_KEYS, and the id that seals new values (LOS_FIELD_KEY_ID; may be left out with one key). Each
    # value sealed under the ring carries its key id; values sealed before (no id) open with field_secret.
    field_keys: dict[str, SecretStr] = Field(default_factory=dict)
    field_key_id: str | None = None
    # Temporal payload encryption (los.codec, docs/security.md): key id -> base64 AES key (16/24/32 bytes),
    # as JSON in LOS_PAYLOAD_KEYS, and the id that encrypts new payloads (LOS_PAYLOAD_KEY_ID; may be left
    # out when there is one key). Every id on the ring still decrypts, so keys rotate by adding one. Unset
    # in development: one key derived from the field key (id DEV_PAYLOAD_KEY_ID); required elsewhere.
    payload_keys: dict[str, SecretStr] = Field(default_factory=dict)
    payload_key_id: str | None = None
    # Browser origins allowed to call the codec endpoint besides temporal_ui_url (e.g. a hosted Temporal UI).
    codec_cors_origins: list[str] = Field(default_factory=list)
    # Browser origins allowed to call the rest of the API from another origin (JSON list in LOS_CORS_ORIGINS);
    # empty: same-origin only, no CORS answer at all (api.hardening, docs/security.md).
    cors_origins: list[str] = Field(default_factory=list)
    # Request limits (api.hardening): a body (JSON, form) over max_body_bytes, or a multipart upload over
    # max_upload_bytes (the largest file a route takes, 50 MiB, plus its form), is 413 before a route runs; a
    # JSON body nested deeper than max_json_depth, or holding a string longer than max_json_string_chars, is 422.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=51 * 1024 * 1024, ge=1024)
    max_json_depth: int = Field(default=32, ge=2, le=256)
    max_json_string_chars: int = Field(default=65536, ge=256)
    access_token_minutes: int = 60
    # Staff sign-in: this many wrong passwords in a row lock the account for staff_lockout_minutes.
    staff_max_failed_logins: int = Field(default=5, ge=1)
    staff_lockout_minutes: int = Field(default=15, ge=1)
    # ...and this many failed sign-ins from one address within staff_lockout_minutes throttle that address.
    staff_max_failed_logins_per_ip: int = Field(default=100, ge=1)
    # The longest the API waits for a loan's workflow to take an update (a staff decision, an Aadhaar OTP); past
    # it the caller gets 503 and the update, which carries this expiry, is refused if it reaches the loan later.
    workflow_call_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # How often the transfer reconciler's Temporal Schedule runs (workflows.reconciler); 0: no schedule.
    reconcile_every_seconds: int = Field(default=300, ge=0, le=24 * 3600)
    # How often the partner disbursal watch's Temporal Schedule runs (workflows.partner_disbursal_watch); 0: none.
    partner_watch_every_seconds: int = Field(default=300, ge=0, le=24 * 3600)
    # How often the Aadhaar Data Vault's sweep runs (workflows.aadhaar_vault_sweep): numbers past their lifetime
    # erased; 0: no schedule (a deposit still sweeps the vault).
    aadhaar_vault_sweep_every_seconds: int = Field(default=3600, ge=0, le=24 * 3600)
    # How often the receipt sweep runs (workflows.receipt_sweep): receipts for credited payments no loan workflow
    # issued one for (money kept as a credit balance or a recovery after the loan ended); 0: no schedule.
    receipt_sweep_every_seconds: int = Field(default=300, ge=0, le=24 * 3600)
    # How often the payment redelivery runs (workflows.payment_redelivery): payment webhooks stored but never
    # delivered to their loan (the gateway gave up retrying) delivered again; 0: no schedule.
    payment_redelivery_every_seconds: int = Field(default=300, ge=0, le=24 * 3600)
    # Whether updates carry that expiry. The check compares the workflow's clock with the API's, so turn it off only
    # where the workflow clock is not the wall clock (Temporal's time-skipping test server); calls stay bounded.
    workflow_update_expiry: bool = True
    # A database query on the API's event loop (api/deps.py: routes using the database run in the thread pool) is
    # logged; with this set it fails instead (the test suite sets it, so such a path cannot go unnoticed).
    strict_event_loop: bool = False
    # The API listens for the database's loan change notifications (migration 0032) to answer a long-poll read of a
    # loan (`Prefer: wait=N`) as soon as it changes (api/loan_changes.py). Off (as behind a transaction-pooling
    # PgBouncer, where LISTEN does not work): a waiting read reads the loan again every second instead.
    loan_change_notifications: bool = True
    chromium_path: str | None = None
    # Observability (docs/observability.md). GET /metrics on the API: with a token, that bearer token is required;
    # without, only loopback callers are answered.
    metrics_token: SecretStr | None = None
    # The worker's Prometheus endpoints: the Temporal SDK's metrics on this port, the business counters on the
    # next one; None or 0: neither is served.
    worker_metrics_port: int | None = Field(default=None, ge=0, le=65534)
    worker_metrics_host: str = "127.0.0.1"
    # Traces exported over OTLP/HTTP to this collector (or the standard OTEL_EXPORTER_OTLP_ENDPOINT); unset: off.
    otlp_endpoint: str | None = None
    # Log lines: readable text, or one JSON object a line carrying loan_id, workflow_id and brand_id.
    log_format: Literal["text", "json"] = "text"
    # The worker's workflow sandbox (temporalio's SandboxedWorkflowRunner: each run's modules isolated, calls that
    # break determinism refused). None: on, except with env "production", where workflows run unsandboxed
    # (UnsandboxedWorkflowRunner): the sandbox's per-activation work was about a seventh of the worker's CPU on a
    # due-date storm, and the overdue pass of 200 loans took 28.6 s with it, 16.5–17.6 s without.
    # Every suite (stub-activity, integration, e2e, replay) runs them sandboxed, so its checks still read every
    # path the tests take (docs/architecture.md, "Speed").
    workflow_sandbox: bool | None = None
    # Workflows the worker keeps in memory between their tasks (the SDK's sticky cache, max_cached_workflows; the
    # SDK's default is 1,000). A loan evicted from it is replayed from its whole history at its next task, and on a
    # due date every loan of the book has tasks at once: keep it above the loans one worker holds
    # (docs/scaling.md, "Caches").
    worker_max_cached_workflows: int = Field(default=10_000, ge=1)
    # The worker process's asyncio event loop: uvloop (libuv; the API's uvicorn already runs on it) or the standard
    # library's. Workflows run on the SDK's own deterministic loop either way; this one carries the SDK's bridge to
    # its core, the activities' database and vendor calls, and the metrics endpoints. uvloop cut the worker's CPU
    # by about a twentieth on bench/lifecycle.py and bench/collections_day.py (docs/architecture.md, "Speed").
    worker_event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    # Loans started with it send their follow-up work (receipts, customer notices, payment links: what no balance
    # waits on) to this task queue, which every worker also polls taking at most followup_max_concurrent at once,
    # so on a due-date storm payments are credited first and the follow-up drains after (docs/scaling.md,
    # "Follow-up queue"). None: the loan's own task queue. Once set, keep a worker polling it while loans use it.
    followup_task_queue: str | None = None
    # The follow-up work is mostly waiting on vendors (a gateway's link, an SMS or email vendor, the PDF renderer),
    # so more slots than cores keep them busy; while a storm is credited the slots beyond the first wait anyway.
    followup_max_concurrent: int = Field(default=10, ge=1)
    # A storm, for those slots: this many payments recorded by the worker process's loans' worker within a second
    # (los.followup_worker.STORM_CREDITS). Counted per process: with N workers each sees about 1/N of a due-date storm.
    followup_storm_credits: int = Field(default=15, ge=1)
    # The embedded Temporal dev server (`los up` without TEMPORAL_ADDRESS) runs one history shard. Its cache of
    # running workflows' mutable state is the host-level one (history.hostLevelCacheMaxSize; the dev server sets
    # 8,096 entries, and history.cacheMaxSize, the per-shard cache's 512, is not used while it is on), and its
    # recent history events default to 512 KiB (history.eventsCacheMaxSizeBytes): past either, each task of a loan
    # reads its state back from SQLite. Both are set from these (los.stack.temporal_command). The state cache
    # counts entries, about two a running workflow (its state, and its current run for calls by workflow id: 20,158
    # for a book of 10,000 loans), so 20,000 holds about 10,000 loans.
    temporal_dev_cache_workflows: int = Field(default=20_000, ge=512)
    temporal_dev_events_cache_mb: int = Field(default=256, ge=1)
    # Eager activity dispatch on the embedded dev server (system.enableActivityEagerExecution; off by default on
    # servers older than temporalio/temporal#10651): a workflow task's completion that schedules an activity on
    # this queue gets the activity task back in its answer when the worker has a free slot, instead of the task
    # going through matching and a poll. The SDK asks for it by default; a retry or a worker without a free slot
    # goes through matching as before.
    temporal_dev_eager_activities: bool = True
    # Task queue partitions on the embedded dev server (matching.numTaskqueueReadPartitions and
    # ...WritePartitions; the server's default is 4). Partitions spread one queue's load over matching hosts; on a
    # single-host server they only cost: a task written to a partition no worker is polling is forwarded to the
    # root partition, and a poll to an empty one is forwarded too. Unset: one partition for a server database
    # created with one (los.stack.dev_task_queue_partitions), the server's default for a database from before, whose
    # tasks may wait in partitions a single one would never read again (docs/scaling.md).
    temporal_dev_task_queue_partitions: int | None = Field(default=None, ge=1)
    # Worker Versioning (docs/runbook.md, "Deploying a new worker version"): the Temporal Worker Deployment this
    # worker belongs to and its build id (an image tag or commit). Both unset: an unversioned worker, as before; one
    # without the other is refused. worker_versioning_behavior: the worker's default for every workflow type that
    # declares none (AUTO_UPGRADE: running loans move to the new version and stay replayable through
    # workflow.patched). worker_make_current: the worker makes its own version the deployment's current one once it
    # polls (a single-version stack such as `los up`; production sets the current version by hand, see the runbook).
    worker_deployment_name: str | None = None
    worker_build_id: str | None = None
    worker_versioning_behavior: Literal["AUTO_UPGRADE", "PINNED"] = "AUTO_UPGRADE"
    worker_make_current: bool = False

    def sandboxed_workflows(self) -> bool:
        """Whether the worker runs workflows in the SDK's sandbox: ``workflow_sandbox``, else all but production."""
        return self.workflow_sandbox if self.workflow_sandbox is not None else self.env != "production"

    def field_key(self) -> bytes:
        """The key material of sealed fields and keyed hashes (see los.crypto): the legacy material (field_secret,
        else jwt_secret) as bytes, carrying the ring of LOS_FIELD_KEYS and the id that seals (``FieldKeys``)."""
        from los.crypto import FieldKeys, key_material

        legacy = key_material((self.field_secret or self.jwt_secret).get_secret_value())
        ring = {kid: key_material(value.get_secret_value()) for kid, value in self.field_keys.items()}
        current = self.field_key_id or (next(iter(ring)) if len(ring) == 1 else None)
        if ring and current is None:
            raise ValueError("LOS_FIELD_KEY_ID must name the key that seals when LOS_FIELD_KEYS has several")
        return FieldKeys(legacy, ring, current)

    def payload_keyring(self) -> tuple[str, dict[str, bytes]]:
        """``(encrypting key id, {key id: AES key bytes})`` for ``los.codec.EncryptionCodec``.

        Configured keys (``LOS_PAYLOAD_KEYS``); in development the key derived from the field key is on the
        ring too (it is the encrypting one when none is configured), so histories written before keys were
        configured stay readable there. Raises ``ValueError`` for a malformed key or an unknown key id."""
        import hashlib

        from los.codec import decode_key

        keys = {kid: decode_key(kid, value.get_secret_value()) for kid, value in self.payload_keys.items()}
        if self.env == "development" and DEV_PAYLOAD_KEY_ID not in keys:
            keys[DEV_PAYLOAD_KEY_ID] = hashlib.sha256(b"temporal-payloads:" + self.field_key()).digest()
        key_id = self.payload_key_id or (next(iter(self.payload_keys)) if len(self.payload_keys) == 1 else None)
        if key_id is None and not self.payload_keys:
            key_id = DEV_PAYLOAD_KEY_ID
        if key_id is None:
            raise ValueError("LOS_PAYLOAD_KEY_ID must name the key that encrypts when LOS_PAYLOAD_KEYS has several")
        if key_id not in keys:
            raise ValueError(f"LOS_PAYLOAD_KEY_ID {key_id!r} is not a key of LOS_PAYLOAD_KEYS")
        return key_id, keys

    @model_validator(mode="after")
    def _payload_keys_are_usable(self) -> Settings:
        if self.env != "development" and not self.payload_keys:
            raise ValueError("LOS_PAYLOAD_KEYS must be set outside development (see docs/security.md)")
        self.payload_keyring()  # a malformed key or an unknown key id is refused at start, not at first use
        return self

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> Settings:
        self.field_key()  # an unknown LOS_FIELD_KEY_ID is refused at start, in development too
        if self.env == "development":
            return self
        if self.jwt_secret.get_secret_value() in PUBLISHED_SECRETS:
            raise ValueError("LOS_JWT_SECRET must be set outside development")
        own = {"LOS_FIELD_SECRET": self.field_secret, "LOS_STORAGE_URL_SECRET": self.storage_url_secret}
        own |= {f"LOS_FIELD_KEYS[{kid}]": value for kid, value in self.field_keys.items()}
        for name, value in own.items():
            if value is not None and value.get_secret_value() in PUBLISHED_SECRETS:
                raise ValueError(f"{name} is a published default; set a secret of its own outside development")
            if value is not None and value.get_secret_value() == self.jwt_secret.get_secret_value():
                raise ValueError(f"{name} must differ from LOS_JWT_SECRET outside development")
        if self.field_secret is None:
            raise ValueError("LOS_FIELD_SECRET must be set outside development (not derived from LOS_JWT_SECRET)")
        if self.storage_url_secret is None and self.s3_bucket is None:
            raise ValueError("LOS_STORAGE_URL_SECRET must be set outside development when documents are stored locally")
        return self

    @model_validator(mode="after")
    def _worker_version_is_whole(self) -> Settings:
        if bool(self.worker_deployment_name) != bool(self.worker_build_id):
            raise ValueError("LOS_WORKER_DEPLOYMENT_NAME and LOS_WORKER_BUILD_ID are set together or not at all")
        if self.worker_deployment_name and "." in self.worker_deployment_name:
            raise ValueError("LOS_WORKER_DEPLOYMENT_NAME must not contain '.' (Temporal's <name>.<build id> form)")
        return self

    @model_validator(mode="after")
    def _s3_keys_come_in_pairs(self) -> Settings:
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError("LOS_S3_ACCESS_KEY_ID and LOS_S3_SECRET_ACCESS_KEY are set together or not at all")
        return self

    @property
    def api_url(self) -> str:
        return self.public_api_url or f"http://{self.api_host}:{self.api_port}"

    @property
    def sandbox_base_url(self) -> str:
        return self.sandbox_url or f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def storage_path(self) -> Path:
        return (self.storage_dir or (self.home / "storage")).resolve()

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def temporal_ui(self) -> str | None:
        """The Temporal UI's base URL (no trailing slash), or None when it is not known."""
        if self.temporal_ui_url:
            return self.temporal_ui_url.rstrip("/")
        if self.temporal_address:
            return None
        return f"http://localhost:{self.temporal_ui_port}"

    def workflow_url(self, workflow_id: str) -> str | None:
        """A workflow's page in the Temporal UI, or None when the UI is not known."""
        ui = self.temporal_ui
        return f"{ui}/namespaces/{self.temporal_namespace}/workflows/{workflow_id}" if ui else None

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url is None:
            raise MissingSetting(
                "DATABASE_URL is not set: `los up` runs everything with its own database and sets it for its "
                "processes; to run this command alone, set DATABASE_URL to a PostgreSQL URL (the one `los up` prints)"
            )
        return sqlalchemy_url(self.database_url)


def sqlalchemy_url(url: str) -> str:
    """A libpq-style URL as SQLAlchemy's psycopg 3 URL."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
