"""An electricity tariff for history's cost (settings file, `server.history_tariff`): a
flat import price and export credit per kWh, and optional periods by time of day, weekday
and month that override them. The first period that matches an hour's local start wins."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class TariffPeriod(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str = ""
    import_price: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    export_credit: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    days: tuple[Weekday, ...] = WEEKDAYS
    months: tuple[int, ...] = tuple(range(1, 13))
    start: str = Field(default="00:00", alias="from")
    end: str = Field(default="24:00", alias="to")

    @field_validator("start", "end")
    @classmethod
    def _check_clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError("must be a time of day HH:MM (00:00 to 24:00)")
        return value

    @field_validator("months")
    @classmethod
    def _check_months(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(not 1 <= month <= 12 for month in value):
            raise ValueError("must be month numbers 1 to 12")
        return value

    def matches(self, local: datetime) -> bool:
        if WEEKDAYS[local.weekday()] not in self.days or local.month not in self.months:
            return False
        now, start, end = local.hour * 60 + local.minute, _minutes(self.start), _minutes(self.end)
        return start <= now < end if start <= end else now >= start or now < end


class Tariff(BaseModel):
    """Prices per kWh in `currency` (a label only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str = ""
    import_price: float = Field(ge=0, allow_inf_nan=False)
    export_credit: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    periods: tuple[TariffPeriod, ...] = ()

    @model_validator(mode="after")
    def _check_periods(self) -> Tariff:
        for period in self.periods:
            if period.import_price is None and period.export_credit is None:
                raise ValueError(
                    f"period {period.name!r} sets neither import_price nor export_credit"
                )
        return self

    def prices(self, local: datetime) -> tuple[float, float]:
        """(import price, export credit) per kWh at this local time."""
        for period in self.periods:
            if period.matches(local):
                return (
                    self.import_price if period.import_price is None else period.import_price,
                    self.export_credit if period.export_credit is None else period.export_credit,
                )
        return self.import_price, self.export_credit

    def cost(self, local: datetime, import_wh: float, export_wh: float) -> tuple[float, float]:
        """(cost of the import, credit for the export) of an hour starting at `local`."""
        price, credit = self.prices(local)
        return import_wh / 1000.0 * price, export_wh / 1000.0 * credit
