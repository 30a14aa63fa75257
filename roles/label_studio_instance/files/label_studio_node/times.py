"""Times as the manifests and Label Studio's databases write them (always UTC)."""
from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    """A manifest time ('...Z') or a Django/SQLite time ('YYYY-MM-DD HH:MM:SS.ffffff', UTC)."""
    value = text.strip().replace(" ", "T")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        # Django stores naive UTC in SQLite when USE_TZ is on (Label Studio's setting).
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment

