"""The risk settings as the scorer uses them: windows in seconds, amounts in minor units."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from ledgerbank.config import Settings
from ledgerbank.kit.money import exponent

# The amounts each rule compares against, by the name of their setting.
AMOUNT_SETTINGS = (
    "risk_cash_threshold",
    "risk_pass_through_min_amount",
    "risk_dormant_min_amount",
    "risk_new_account_min_amount",
    "risk_round_unit",
    "risk_round_min_amount",
    "risk_card_testing_tiny_amount",
)


@dataclass(frozen=True, slots=True)
class Limits:
    """The rules' amounts in one currency's minor units."""

    scale: int  # minor units per major unit
    cash_threshold: int
    structuring_floor: int  # cash from here up to the threshold is "just under" it
    pass_through_min: int
    dormant_min: int
    new_account_min: int
    round_unit: int
    round_min: int
    quiet_below: int  # below this amount no amount-driven rule can fire


@dataclass
class Params:
    """Everything the features and rules need from the settings, converted once."""

    timezone: tzinfo | None  # None: UTC, computed without a time-zone lookup
    amounts: dict[str, Decimal]
    structuring_band: float
    structuring_seconds: int
    structuring_min_count: int
    velocity_seconds: int
    velocity_max_count: int
    pass_through_seconds: int
    pass_through_ratio: float
    dormant_seconds: int
    new_account_seconds: int
    fan_seconds: int
    fan_min_count: int
    fan_min_share: float
    network_seconds: int
    fan_week_min_count: int
    fan_norm_ratio: float
    fan_new_share: float
    card_testing_seconds: int
    card_testing_min_count: int
    card_tiny_share: float
    pass_new_share: float
    supervised_floor: float
    supervised_alert: float
    supervised_cap: float
    model_alert_supervised: float
    model_floor: float
    model_alert: float
    model_cap: float
    rule_scores: dict[str, float]
    _minor: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    _limits: dict[str, Limits] = field(default_factory=dict, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Params:
        zone = settings.risk_timezone
        return cls(
            timezone=None if zone.upper() in ("UTC", "Z", "ETC/UTC") else ZoneInfo(zone),
            amounts={name: Decimal(getattr(settings, name)) for name in AMOUNT_SETTINGS},
            structuring_band=settings.risk_structuring_band,
            structuring_seconds=int(settings.risk_structuring_days * 86400),
            structuring_min_count=settings.risk_structuring_min_count,
            velocity_seconds=settings.risk_velocity_minutes * 60,
            velocity_max_count=settings.risk_velocity_max_count,
            pass_through_seconds=int(settings.risk_pass_through_hours * 3600),
            pass_through_ratio=settings.risk_pass_through_ratio,
            dormant_seconds=settings.risk_dormant_days * 86400,
            new_account_seconds=settings.risk_new_account_days * 86400,
            fan_seconds=int(settings.risk_fan_hours * 3600),
            fan_min_count=settings.risk_fan_min_count,
            fan_min_share=settings.risk_fan_min_share,
            network_seconds=int(settings.risk_network_days * 86400),
            fan_week_min_count=settings.risk_fan_week_min_count,
            fan_norm_ratio=settings.risk_fan_norm_ratio,
            fan_new_share=settings.risk_fan_new_share,
            card_testing_seconds=settings.risk_card_testing_minutes * 60,
            card_testing_min_count=settings.risk_card_testing_min_count,
            card_tiny_share=settings.risk_card_testing_tiny_share,
            pass_new_share=settings.risk_pass_through_new_share,
            supervised_floor=settings.risk_supervised_floor,
            supervised_alert=settings.risk_supervised_alert,
            supervised_cap=settings.risk_supervised_cap,
            model_alert_supervised=settings.risk_model_alert_supervised,
            model_floor=settings.risk_model_floor,
            model_alert=settings.risk_model_alert,
            model_cap=settings.risk_model_cap,
            rule_scores=dict(settings.risk_rule_scores),
        )

    def minor(self, name: str, currency: str) -> int:
        """A rule's amount setting in the minor units of `currency`."""
        key = (name, currency)
        found = self._minor.get(key)
        if found is None:
            found = int(self.amounts[name].scaleb(exponent(currency)))
            self._minor[key] = found
        return found

    def card_tiny_minor(self, scale: int) -> int:
        """The card-testing "tiny" amount in minor units of a currency with this scale."""
        return int(self.amounts["risk_card_testing_tiny_amount"] * scale)

    def limits(self, currency: str) -> Limits:
        found = self._limits.get(currency)
        if found is None:
            threshold = self.minor("risk_cash_threshold", currency)
            found = self._limits[currency] = Limits(
                scale=10 ** exponent(currency),
                cash_threshold=threshold,
                structuring_floor=int(threshold * (1 - self.structuring_band)),
                pass_through_min=self.minor("risk_pass_through_min_amount", currency),
                dormant_min=self.minor("risk_dormant_min_amount", currency),
                new_account_min=self.minor("risk_new_account_min_amount", currency),
                round_unit=self.minor("risk_round_unit", currency),
                round_min=self.minor("risk_round_min_amount", currency),
                quiet_below=min(
                    threshold,
                    self.minor("risk_dormant_min_amount", currency),
                    self.minor("risk_new_account_min_amount", currency),
                    self.minor("risk_round_min_amount", currency),
                ),
            )
        return found
