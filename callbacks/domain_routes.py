"""Endpoints of the domain pages: the lighting faults list as CSV for a GMAO."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from flask import Blueprint, Response

from services.history.lighting_faults import faults_csv, read_faults


def create_domain_routes(get_ui: Callable) -> Blueprint:
    """The domain pages' endpoints under /vigie/ (`get_ui()` returns the app's VigieUI)."""
    bp = Blueprint("vigie_domains", __name__, url_prefix="/vigie")

    @bp.get("/lighting/faults.csv")
    def lighting_faults() -> Response:
        """Every faulty lamp, by cabinet and street, with when it began and its age in hours."""
        ui = get_ui()
        now = ui.reader.now()  # the territory's time
        text = faults_csv(read_faults(ui.reader), now,
                          lambda t: datetime.fromtimestamp(t, timezone.utc).astimezone(ui.tz).strftime("%Y-%m-%d %H:%M:%S") if t else "")
        resp = Response(text, mimetype="text/csv")
        resp.headers["Content-Disposition"] = 'attachment; filename="vigie-lighting-faults.csv"'
        resp.headers["Cache-Control"] = "no-store"
        return resp

    return bp
