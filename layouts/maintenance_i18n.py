"""Words of the maintenance page (French by default, English)."""
from __future__ import annotations

from .i18n import language

_FR: dict[str, str] = {
    "title": "Maintenance", "intro": "Les défauts qui relèvent d'une équipe d'intervention, pas de la salle de contrôle : "
    "un bon de travail par défaut, vérifié par la télémétrie après la réparation.",
    "filter.domain": "Domaine", "filter.status": "État", "filter.priority": "Priorité", "filter.fault": "Défaut",
    "filter.text": "Rechercher", "filter.text.placeholder": "Équipement, voie, armoire…", "filter.all": "Tous",
    "filter.pending": "À faire", "group.by": "Regrouper", "group.none": "Aucun", "group.cabinet": "Par armoire",
    "group.street": "Par voie", "csv": "Exporter (CSV)", "count": "{n} bon(s) de travail", "count.of": "{n} affiché(s) sur {total}",
    "domain.lighting": "Éclairage", "domain.water": "Eau", "domain.traffic": "Trafic",
    "status.open": "Ouvert", "status.planned": "Planifié", "status.in_progress": "En cours", "status.done": "Réparé",
    "status.verified": "Vérifié", "status.reopened": "Rouvert",
    "priority.high": "Haute", "priority.normal": "Normale", "priority.low": "Basse",
    "fault.defectiveLamp": "Lampe défectueuse", "fault.brokenLantern": "Lanterne cassée", "fault.columnIssue": "Problème de mât",
    "fault.intermittent": "Défaut intermittent", "fault.lamp_off": "Lampe éteinte", "fault.sensor_drift": "Dérive de capteur",
    "col.id": "Bon", "col.status": "État", "col.priority": "Priorité", "col.fault": "Défaut", "col.asset": "Équipement",
    "col.street": "Voie", "col.cabinet": "Armoire", "col.opened": "Ouvert le", "col.telemetry": "Télémétrie",
    "telemetry.active": "défaut signalé", "telemetry.clear": "plus signalé",
    "group.col.key": "Groupe", "group.col.count": "Bons", "group.col.pending": "À faire", "group.col.high": "Priorité haute",
    "detail.empty": "Choisissez un bon de travail dans la liste ou sur la carte.", "detail.history": "Historique",
    "detail.asset": "Équipement", "detail.since": "Ouvert le", "detail.source": "Origine", "detail.external": "Référence GMAO",
    "detail.assignee": "Équipe", "detail.note": "Note (facultative)", "detail.open_asset": "Fiche de l'équipement",
    "source.telemetry": "télémétrie", "source.manual": "saisie", "source.gmao": "GMAO",
    "action.planned": "Planifier", "action.in_progress": "Démarrer", "action.done": "Déclarer réparé", "action.reopened": "Rouvrir",
    "action.open": "Remettre à faire", "action.refused": "Refusé : {why}", "action.done.ok": "Bon {id} : {status}.",
    "action.readonly": "Votre rôle permet de consulter, pas de modifier les bons de travail de ce domaine.",
    "history.open": "ouvert", "history.status": "{before} → {after}", "history.note": "note", "history.priority": "priorité",
    "history.assignee": "équipe", "history.external_ref": "référence GMAO",
    "rounds.title": "Tournées de maintenance", "rounds.crews": "Équipes", "rounds.shift": "Durée de la journée (h)",
    "rounds.compute": "Calculer les tournées", "rounds.none": "Aucune tournée calculée.",
    "rounds.summary": "{served} défaut(s) en {crews} tournée(s), {km} km au total, calculé en {s} s.",
    "rounds.unserved": "{n} défaut(s) ne tiennent dans aucune journée.",
    "rounds.vs_date": "{pct} % plus court que par date d'ouverture", "rounds.vs_nearest": "{pct} % plus court que « au plus proche »",
    "rounds.longer": "{pct} % plus long que {what}", "rounds.what.date": "par date d'ouverture", "rounds.what.nearest": "« au plus proche »",
    "rounds.other": "Dans les mêmes journées, {what} : {served} défaut(s), {km} km (les priorités hautes d'abord ici).",
    "rounds.crew": "Équipe {n}", "rounds.crew.line": "{stops} arrêt(s), {km} km, {h}", "rounds.gpx": "GPX", "rounds.csv": "CSV",
    "rounds.error": "Tournées non calculées : {why}", "rounds.depot": "Dépôt",
    "rounds.depot.centre": "Départ et retour : le centre du territoire (cliquez sur la carte pour placer le dépôt).",
    "rounds.depot.here": "Départ et retour : le dépôt placé sur la carte ({lat}, {lon}); cliquez ailleurs pour le déplacer.",
    "unavailable": "Les bons de travail ne peuvent pas être lus pour le moment.",
}

_EN: dict[str, str] = {
    "title": "Maintenance", "intro": "Faults for a field crew, not for the control room: one work order per fault, verified by "
    "telemetry after the repair.",
    "filter.domain": "Domain", "filter.status": "Status", "filter.priority": "Priority", "filter.fault": "Fault",
    "filter.text": "Search", "filter.text.placeholder": "Asset, street, cabinet…", "filter.all": "All",
    "filter.pending": "To do", "group.by": "Group", "group.none": "None", "group.cabinet": "By cabinet",
    "group.street": "By street", "csv": "Export (CSV)", "count": "{n} work order(s)", "count.of": "{n} shown of {total}",
    "domain.lighting": "Lighting", "domain.water": "Water", "domain.traffic": "Traffic",
    "status.open": "Open", "status.planned": "Planned", "status.in_progress": "In progress", "status.done": "Repaired",
    "status.verified": "Verified", "status.reopened": "Reopened",
    "priority.high": "High", "priority.normal": "Normal", "priority.low": "Low",
    "fault.defectiveLamp": "Defective lamp", "fault.brokenLantern": "Broken lantern", "fault.columnIssue": "Column issue",
    "fault.intermittent": "Intermittent fault", "fault.lamp_off": "Lamp off", "fault.sensor_drift": "Sensor drift",
    "col.id": "Order", "col.status": "Status", "col.priority": "Priority", "col.fault": "Fault", "col.asset": "Asset",
    "col.street": "Street", "col.cabinet": "Cabinet", "col.opened": "Opened", "col.telemetry": "Telemetry",
    "telemetry.active": "fault reported", "telemetry.clear": "no longer reported",
    "group.col.key": "Group", "group.col.count": "Orders", "group.col.pending": "To do", "group.col.high": "High priority",
    "detail.empty": "Pick a work order in the list or on the map.", "detail.history": "History",
    "detail.asset": "Asset", "detail.since": "Opened", "detail.source": "Source", "detail.external": "GMAO reference",
    "detail.assignee": "Crew", "detail.note": "Note (optional)", "detail.open_asset": "Asset page",
    "source.telemetry": "telemetry", "source.manual": "entered", "source.gmao": "GMAO",
    "action.planned": "Plan", "action.in_progress": "Start", "action.done": "Declare repaired", "action.reopened": "Reopen",
    "action.open": "Back to to-do", "action.refused": "Refused: {why}", "action.done.ok": "Order {id}: {status}.",
    "action.readonly": "Your role may read, not change, this domain's work orders.",
    "history.open": "opened", "history.status": "{before} → {after}", "history.note": "note", "history.priority": "priority",
    "history.assignee": "crew", "history.external_ref": "GMAO reference",
    "rounds.title": "Maintenance rounds", "rounds.crews": "Crews", "rounds.shift": "Shift length (h)",
    "rounds.compute": "Compute rounds", "rounds.none": "No rounds computed.",
    "rounds.summary": "{served} fault(s) in {crews} round(s), {km} km in all, computed in {s} s.",
    "rounds.unserved": "{n} fault(s) fit in no shift.",
    "rounds.vs_date": "{pct} % shorter than by date opened", "rounds.vs_nearest": "{pct} % shorter than nearest-first",
    "rounds.longer": "{pct} % longer than {what}", "rounds.what.date": "by date opened", "rounds.what.nearest": "nearest-first",
    "rounds.other": "In the same shifts, {what}: {served} fault(s), {km} km (high priorities first here).",
    "rounds.crew": "Crew {n}", "rounds.crew.line": "{stops} stop(s), {km} km, {h}", "rounds.gpx": "GPX", "rounds.csv": "CSV",
    "rounds.error": "Rounds not computed: {why}", "rounds.depot": "Depot",
    "rounds.depot.centre": "Start and end: the territory's centre (click on the map to place the depot).",
    "rounds.depot.here": "Start and end: the depot placed on the map ({lat}, {lon}); click elsewhere to move it.",
    "unavailable": "Work orders cannot be read right now.",
}

_CATALOGS = {"fr": _FR, "en": _EN}


def mt(key: str, lang: str = "fr", **fmt: object) -> str:
    """A label of the maintenance page in `lang`."""
    text = _CATALOGS[language(lang)].get(key, key)
    return text.format(**fmt) if fmt else text
