"""Settings, read from the environment (prefix LEDGERBANK_) and an optional `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ledgerbank.identity.keys import SigningKeys, read_folder_keys
from ledgerbank.kit.keys import Keyring
from ledgerbank.kit.sealed import Sealer


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGERBANK_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("data")
    database_url: str = ""
    # reports, analytics, LedgerGPT and the dashboard read here (a replica); empty: the primary
    read_database_url: str = ""
    jwt_secret: str = ""
    token_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"

    # identity
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    pin_max_failures: int = 5
    pin_lock_minutes: int = 15
    password_min_length: int = 8
    # argon2id cost for passwords and PINs; RFC 9106's low-memory profile (t=3, 64 MiB, p=4)
    # is the floor outside environment "test", where the suite lowers it to stay fast
    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_kib: int = Field(default=65536, ge=8)
    password_hash_parallelism: int = Field(default=4, ge=1)

    # transaction PINs: keyed HMAC, `id:secret,id2:secret2` (the first signs new hashes, the
    # others still verify); empty: a key generated once into the data folder
    pin_keys: str = ""
    # TOTP and webhook signing secrets are sealed at rest (kit.sealed) under these keys, written
    # like the PIN keys (the first seals, the others still open); empty: a key generated once
    # into the data folder (`secret-key`), like the PIN key's
    secret_keys: str = ""

    # the business day (daily limits, interest) in the bank's time zone
    timezone: str = "UTC"
    # daily limits per customer and currency (major units of the account's currency); staff
    # set per-customer overrides. A customer whose KYC is pending may deposit up to the last.
    limit_deposit_daily: str = "10000.00"  # self-service cash deposits
    limit_withdrawal_daily: str = "5000.00"  # cash withdrawals
    limit_transfer_daily: str = "25000.00"  # transfers to other customers
    limit_pending_deposit_daily: str = "1000.00"  # deposits while KYC is pending

    # group commit: concurrent money requests of one server process share a transaction
    group_commit_max: int = Field(default=64, ge=1, le=1000)  # requests per transaction
    group_commit_window_ms: float = Field(default=0.0, ge=0, le=100)  # wait for more
    group_commit_committers: int = Field(default=0, ge=0, le=32)  # 0: by database
    # trust (issue 11): token keys, sign-in throttling, the second factor, resets, four eyes
    jwt_previous_secrets: Annotated[list[str], NoDecode] = Field(default_factory=list)
    metrics_token: str = ""  # Prometheus scrapes GET /metrics with this bearer token
    public_url: str = ""  # where reset links point; default: the address the request came to
    login_delay_seconds: float = Field(default=1.0, ge=0)  # the first delay; it doubles after
    login_address_max_failures: int = Field(default=30, ge=1)  # per client address, any user
    login_user_max_failures: int = Field(default=20, ge=1)  # per user from unfamiliar addresses
    login_known_address_days: int = Field(default=30, ge=1)  # a sign-in makes an address familiar
    totp_issuer: str = "ledgerbank"
    totp_max_failures: int = Field(default=5, ge=1)
    totp_lock_minutes: int = Field(default=15, ge=1)
    password_reset_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
    approval_hours: int = Field(default=48, ge=1)  # a four-eyes proposal expires after this
    approval_reversal_above: str = "1000.00"  # reversals above this need a second person
    approval_deposit_above: str = "10000.00"  # cash staff pay in above this needs a second one
    payee_lookups_per_hour: int = Field(default=30, ge=1)
    payee_lookups_audit_at: int = Field(default=10, ge=1)  # heavy use is audited from here

    # ledger
    max_amount: str = "1000000000.00"
    # fees (issue 14): the FX spread (a share of the amount exchanged), and a fee per cash
    # withdrawal beyond the free ones a month per account (major units; "0": no such fee)
    fee_fx_spread: str = Field(default="0.005", pattern=r"^0(\.\d{1,10})?$")
    fee_withdrawal: str = Field(default="0", pattern=r"^\d{1,9}(\.\d{1,3})?$")
    fee_free_withdrawals: int = Field(default=5, ge=0)
    import_max_mb: int = Field(default=50, ge=1)  # largest CSV that POST /admin/import accepts
    db_pool_size: int = 10
    hold_days: int = Field(default=7, ge=1)  # a hold placed without expires_at lasts this long
    hold_max_days: int = Field(default=31, ge=1)  # the latest expires_at a hold may name

    # the worker (`ledgerbank worker`): a claimed job is leased this long (renewed while it
    # runs; a dead worker's job is taken over once it runs out); idle workers look this often
    worker_lease_seconds: int = Field(default=300, ge=1)
    worker_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    # standing orders: a due date that fails is tried again this many minutes later, at most
    # this many times in all and never after its business day; then it is skipped
    standing_order_max_attempts: int = Field(default=3, ge=1, le=24)
    standing_order_retry_minutes: int = Field(default=60, ge=1, le=24 * 60)

    # risk: inline scoring; amounts are major units of the account's currency
    risk_enabled: bool = True  # score every posting inline (False: post without screening)
    risk_timezone: str = "UTC"  # the bank's local time, for hour of day and day of week
    risk_model_trees: int = Field(default=100, ge=1)  # Isolation Forest: number of trees
    risk_model_max_samples: int = Field(default=256, ge=2)  # ... rows per tree
    risk_train_max_rows: int = 200_000  # training samples this many postings at most
    risk_train_min_rows: int = 500  # with less history no model is trained: rules alone decide
    risk_train_burn_in_days: int = 30  # the first days only warm up the rolling statistics
    risk_model_floor: float = 0.9  # the model adds nothing below this training percentile,
    risk_model_alert: float = 0.98  # raises an alert on its own from this one,
    risk_model_cap: float = 0.65  # and alone never scores above this (never blocks)
    risk_cash_threshold: str = "10000.00"  # large_cash: cash at or above this is reported
    risk_structuring_band: float = 0.15  # structuring: cash within this share below it,
    risk_structuring_days: float = 7.0  # repeated within this many days,
    risk_structuring_min_count: int = 2  # this many times (this one included)
    risk_velocity_minutes: int = 60  # velocity_burst: payments out within this many minutes
    risk_velocity_max_count: int = 5  # above this many
    risk_pass_through_hours: float = 48.0  # rapid_pass_through: of this window's inflow,
    risk_pass_through_ratio: float = 0.8  # this share sent on, leaving little behind,
    risk_pass_through_min_amount: str = "1000.00"  # from an inflow of at least this
    risk_dormant_days: int = 180  # dormant_reactivation: idle this long, then
    risk_dormant_min_amount: str = "1000.00"  # at least this much
    risk_new_account_days: int = 30  # new_account_high_value: an account this young
    risk_new_account_min_amount: str = "5000.00"  # moving at least this much
    risk_round_unit: str = "1000"  # round_amount: an exact multiple of this,
    risk_round_min_amount: str = "3000.00"  # at least this much
    risk_fan_hours: float = 24.0  # fan_in / fan_out: new counterparties within this window,
    risk_fan_min_count: int = 6  # at least this many,
    risk_fan_min_share: float = 0.5  # and at least this share of all the account has had
    # risk, second round: the account's network and card testing
    risk_network_days: float = 7.0  # the window of distinct and first-time payers and payees
    risk_fan_week_min_count: int = 3  # fan_in_network: this many first-time payers in it,
    risk_fan_norm_ratio: float = 2.5  # this many times the first-time payers of a usual week
    risk_fan_new_share: float = 0.5  # bringing at least this share of the week's inflow
    risk_card_testing_minutes: int = 60  # card_testing: payments to one payee in this window,
    risk_card_testing_min_count: int = 3  # at least this many of them tiny,
    risk_card_testing_tiny_amount: str = "5.00"  # under this amount
    risk_card_testing_tiny_share: float = 0.05  # or this share of the usual payment
    risk_pass_through_new_share: float = 0.5  # pass_through_relative: the inflow's share from
    # first-time payers
    # the supervised model, trained by `risk train` once analysts labelled enough alerts
    risk_supervised_min_fraud: int = 20  # at least this many transactions labelled fraud
    risk_supervised_min_false_positive: int = 20  # and this many labelled false positive
    risk_supervised_unquestioned: int = 50_000  # a sample of unquestioned transactions
    risk_supervised_floor: float = 0.15  # it adds nothing below this chance of fraud,
    risk_supervised_alert: float = 0.5  # raises an alert on its own from this one,
    risk_supervised_cap: float = 0.75  # and alone never scores above this (never blocks)
    risk_model_alert_supervised: float = 0.995  # the anomaly model alerts alone from here then
    risk_sanctions_threshold: float = 88.0  # sanctions: name similarity (0-100) that matches
    # per-rule score overrides, e.g. {"round_amount": 0.2} (JSON in the environment)
    risk_rule_scores: dict[str, float] = Field(default_factory=dict)

    # LedgerGPT
    llm_base_url: str = ""
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str = ""
    llm_timeout_seconds: float = 20.0
    query_timeout_seconds: float = 5.0
    query_row_limit: int = 1000
    # ... the most bytes one answer may carry, and how many statements run at once per process
    query_max_result_bytes: int = Field(default=4_000_000, ge=1_000)
    query_concurrency: int = Field(default=2, ge=1)

    # audit checkpoints: Ed25519, the private key never in the database nor in the data folder
    # (base64 of the 32-byte key or PEM in the environment, or a file outside the data folder)
    audit_signing_key: str = ""
    audit_signing_key_file: Path | None = None
    audit_trusted_keys: str = ""  # retired public keys that still verify (base64, commas)
    audit_checkpoint_seconds: float = Field(default=60.0, gt=0)  # the server signs a checkpoint
    audit_checkpoint_records: int = Field(default=1000, ge=1)  # this often, or after this many

    # events (issue 15): the outbox goes to NATS JetStream when set (nats://host:4222);
    # webhooks may reach private, loopback or link-local addresses only when named here
    events_url: str = ""
    webhook_allowed_hosts: str = ""  # comma-separated host names or CIDRs

    @field_validator("cors_origins", "jwt_previous_secrets", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name") from None
        return value

    @field_validator("pin_keys", "secret_keys")
    @classmethod
    def _parse_keyring(cls, value: str, info: ValidationInfo) -> str:
        if value:
            Keyring.parse(value, setting=f"LEDGERBANK_{str(info.field_name).upper()}")
        return value

    @model_validator(mode="after")
    def _argon2_floor(self) -> Settings:
        weaker = self.password_hash_time_cost < 3 or self.password_hash_memory_kib < 65536
        if weaker and self.environment != "test":
            raise ValueError(
                "password hashing below argon2id's RFC 9106 low-memory profile "
                "(time cost 3, 65536 KiB) is only allowed when environment is 'test'"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ledgerbank.db').resolve()}"

    def pin_keyring(self) -> Keyring:
        """The PIN keys: from settings, else a key generated once into the data folder."""
        if self.pin_keys:
            return Keyring.parse(self.pin_keys, setting="LEDGERBANK_PIN_KEYS")
        return Keyring.generated(self.data_dir.resolve(), "pin-key")

    def sealer(self) -> Sealer:
        """Seals TOTP and webhook secrets: the secret keys from settings, else a key generated
        once into the data folder."""
        if self.secret_keys:
            return Sealer(Keyring.parse(self.secret_keys, setting="LEDGERBANK_SECRET_KEYS"))
        return Sealer(Keyring.generated(self.data_dir.resolve(), "secret-key"))

    def signing_secret(self) -> str:
        """The JWT secret: from settings, else generated once into the data folder."""
        return self.signing_keys().current

    def signing_keys(self) -> SigningKeys:
        """The key that signs tokens and the older ones that still verify (identity.keys)."""
        if self.jwt_secret:
            return SigningKeys(self.jwt_secret, tuple(self.jwt_previous_secrets))
        return _folder_keys(self.data_dir.resolve())


@lru_cache
def _folder_keys(data_dir: Path) -> SigningKeys:
    return read_folder_keys(data_dir)


@lru_cache
def get_settings() -> Settings:
    return Settings()
