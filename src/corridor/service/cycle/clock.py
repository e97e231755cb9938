"""The gas-day clock: when a gas day starts and ends, its nomination cut-off and horizon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from corridor.service.config import ServiceSettings
from corridor.service.cycle.errors import Conflict, Invalid


@dataclass(frozen=True)
class GasDayConvention:
    """Gas day D runs from `start_hour` on date D to `start_hour` on D+1 in `timezone`;
    nominations for D close `cutoff_hours` before it starts and open `horizon_days` ahead."""

    timezone: str = "UTC"
    start_hour: int = 5
    cutoff_hours: float = 15.0
    horizon_days: int = 31

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> GasDayConvention:
        return cls(settings.gas_day_timezone, settings.gas_day_start_hour,
                   settings.cutoff_hours, settings.horizon_days)

    def start(self, day: date) -> datetime:
        """When gas day `day` starts (UTC)."""
        local = datetime.combine(day, time(self.start_hour), tzinfo=ZoneInfo(self.timezone))
        return local.astimezone(UTC)

    def end(self, day: date) -> datetime:
        return self.start(day + timedelta(days=1))

    def cutoff(self, day: date) -> datetime:
        """The last moment nominations and renominations for `day` are accepted."""
        return self.start(day) - timedelta(hours=self.cutoff_hours)

    def day_of(self, instant: datetime) -> date:
        """The gas day in progress at `instant`."""
        local = instant.astimezone(ZoneInfo(self.timezone))
        day = local.date()
        return day - timedelta(days=1) if local.hour < self.start_hour else day

    def next_open(self, now: datetime) -> date:
        """The first gas day still open for nominations at `now`."""
        day = self.day_of(now)
        while self.cutoff(day) <= now:
            day += timedelta(days=1)
        return day

    def describe(self, day: date, now: datetime) -> dict:
        return {"gas_day": day.isoformat(), "starts": self.start(day).isoformat(),
                "ends": self.end(day).isoformat(), "cutoff": self.cutoff(day).isoformat(),
                "open_for_nominations": self.cutoff(day) > now
                and day <= self.next_open(now) + timedelta(days=self.horizon_days)}

    def check_nominable(self, day: date, now: datetime) -> None:
        """Raise unless nominations for `day` are accepted at `now`."""
        if now >= self.cutoff(day):
            raise Conflict(f"nominations for gas day {day} closed at "
                           f"{self.cutoff(day):%Y-%m-%d %H:%M} UTC (cut-off); the next open gas "
                           f"day is {self.next_open(now)}")
        last = self.next_open(now) + timedelta(days=self.horizon_days)
        if day > last:
            raise Invalid(f"gas day {day} is beyond the nomination horizon: gas days up to "
                          f"{last} may be nominated now")
