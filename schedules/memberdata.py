"""The member's own schedule data for their download (registered in ``apps``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from .models import CheckIn, Preferences, Rsvp, TreatmentDate


def export_schedule(user: User) -> dict[str, Any]:
    prefs = Preferences.objects.filter(user=user).first()
    return {
        "treatment_dates": [t.at.isoformat() for t in TreatmentDate.objects.filter(user=user)],
        "rsvps": [
            {"circle": r.occurrence.circle.slug, "start": r.occurrence.start.isoformat(), "status": r.status}
            for r in Rsvp.objects.filter(membership__user=user).select_related("occurrence__circle")
        ],
        "check_ins": [
            {"start": c.occurrence.start.isoformat(), "score": c.score, "words": c.words, "skipped": c.skipped}
            for c in CheckIn.objects.filter(membership__user=user).select_related("occurrence")
        ],
        "preferences": {
            "time_zone": prefs.time_zone,
            "integration_window_hours": [prefs.window_from_hours, prefs.window_to_hours],
            "real_titles": prefs.real_titles,
        }
        if prefs
        else None,
    }
