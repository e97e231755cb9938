"""Service settings: a TOML file, then `CORRIDOR_SERVICE_*` environment variables, then defaults.

The file is `$CORRIDOR_SERVICE_CONFIG`, else `service.toml` in the user's config directory (it
is optional). Environment variables win over the file, so a deployment can keep secrets out of it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "CORRIDOR_SERVICE_CONFIG"
AllocationRule = Literal["pro_rata", "firm_first"]


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine's loopback interface only."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def config_file() -> Path:
    """`$CORRIDOR_SERVICE_CONFIG`, else `service.toml` in the user's config directory."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    from platformdirs import user_config_dir

    return Path(user_config_dir("corridor")) / "service.toml"


def default_database_url() -> str:
    """A SQLite file in the user's data directory: the embedded default."""
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('corridor')) / 'service.db'}"


class ServiceSettings(BaseSettings):
    """Everything a deployment may change; see docs/service.md for each setting."""

    model_config = SettingsConfigDict(env_prefix="CORRIDOR_SERVICE_", extra="forbid")

    database_url: str = Field(default_factory=default_database_url,
                              description="SQLAlchemy URL: sqlite:///FILE or postgresql://...")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    network: str = Field("central-asia", description="network folder or bundled network name")
    members: list[str] = Field(default_factory=lambda: ["RU", "KZ", "UZ"],
                               description="countries whose operators are union members")
    gas_day_timezone: str = Field("UTC", description="IANA zone in which gas days are counted")
    gas_day_start_hour: int = Field(5, ge=0, le=23,
                                    description="hour at which gas day D starts on date D")
    cutoff_hours: float = Field(15.0, ge=0, le=72,
                                description="nominations close this long before the day starts")
    horizon_days: int = Field(31, ge=1, le=366,
                              description="how many days ahead a gas day may be nominated")
    allocation_rule: AllocationRule = "pro_rata"
    token_ttl_hours: float = Field(12.0, gt=0)
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    hydraulics: bool = Field(True, description="also check the plan's pressures where the "
                                               "network has pipe geometry")
    demo: bool | None = Field(None, description="seed the demo (members, shippers, points and "
                                                "logins with published passwords) into an "
                                                "empty database; default: only on a loopback "
                                                "bind")
    cookie_secure: bool = Field(False, description="send the session cookie over HTTPS only "
                                                   "(always so when the request came over TLS)")
    allowed_hosts: list[str] | None = Field(
        None, description="Host header values served (\"*\": any); default: the loopback names "
                          "and the bind host")
    quantity_limit_factor: float = Field(10.0, gt=0, le=1000, description=(
        "a quantity at a point may be at most this many times its technical capacity"))
    store: Path | None = Field(None, description="results store with scenario runs "
                                                 "(default: Corridor's store)")
    audit_key: Path | None = Field(None, description="Ed25519 key (PEM; the private key signs, "
                                                     "either key verifies) for audit "
                                                     "checkpoints, kept outside the database")

    @field_validator("database_url")
    @classmethod
    def _driver(cls, url: str) -> str:
        """Plain postgresql:// URLs use psycopg 3, the maintained driver."""
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix):]
        return url

    @field_validator("members")
    @classmethod
    def _upper(cls, members: list[str]) -> list[str]:
        return [m.strip().upper() for m in members]

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then the TOML file."""
        return (init_settings, env_settings,
                TomlConfigSettingsSource(settings_cls, toml_file=config_file()))

    @property
    def served_hosts(self) -> list[str]:
        """The Host names answered: `allowed_hosts`, else loopback names and the bind host."""
        if self.allowed_hosts is not None:
            return self.allowed_hosts
        return ["localhost", "127.0.0.1", "::1", self.host]

    @property
    def loopback(self) -> bool:
        """Whether the service listens on a loopback address only."""
        return is_loopback(self.host)

    @property
    def seeds_demo(self) -> bool:
        """Seed the demo: when asked for (`demo = true`, `--demo`), or by default on loopback."""
        return self.demo is True or (self.demo is None and self.loopback)

    @property
    def demo_logins(self) -> bool:
        """The demo accounts' published passwords work only on a loopback bind, or when the
        demo was asked for explicitly."""
        return self.demo is True or self.loopback

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> ServiceSettings:
    """Settings from the file and environment; `overrides` (e.g. CLI options) win."""
    return ServiceSettings(**{k: v for k, v in overrides.items() if v is not None})
