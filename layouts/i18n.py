"""The message catalog (French by default, English): every label the page shows, by key.

Python layouts call `t(key, lang)`; the browser gets `catalog(lang)` once in the page config.
"""
from __future__ import annotations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

_FR: dict[str, str] = {
    "app.title": "Vigie", "app.subtitle": "Hyperviseur territorial",
    "nav.overview": "Vue d'ensemble", "nav.lighting": "Éclairage", "nav.water": "Eau", "nav.traffic": "Trafic", "nav.commands": "Commandes", "nav.maintenance": "Maintenance",
    "nav.wall": "Mur d'images", "nav.alarms": "Alarmes", "nav.alarm_kpis": "Santé des alarmes", "nav.lang": "English", "nav.theme": "Thème sombre",
    "nav.supervisors": "Registre des superviseurs",
    "domain.lighting": "Éclairage public", "domain.water": "Eau potable", "domain.traffic": "Trafic routier",
    "kpi.lamps_in_service_pct": "Lampes en service", "kpi.lamps_faulty": "Lampes en défaut",
    "kpi.lamps_on": "Lampes allumées", "kpi.power_kw": "Puissance appelée", "kpi.energy_today_kwh": "Énergie du jour",
    "kpi.dimming_savings_pct": "Économie par gradation",
    "kpi.pressure_compliance_pct": "Conformité de pression", "kpi.reservoir_autonomy_h": "Autonomie mini. réservoirs",
    "kpi.quality_compliance_pct": "Conformité qualité", "kpi.pumps_running": "Pompes en marche",
    "kpi.suspected_leaks": "Fuites suspectées",
    "kpi.mean_speed_kmh": "Vitesse moyenne", "kpi.congestion_index_pct": "Indice de congestion",
    "kpi.incidents": "Incidents", "kpi.segments_closed": "Tronçons fermés",
    "kpi.none": "—", "kpi.note.preparing": "historique en préparation", "kpi.trend": "Tendance sur {hours} h", "kpi.abnormal": "hors objectif",
    "priority.urgent": "Urgente", "priority.high": "Haute", "priority.low": "Basse", "priority.diagnostic": "Diagnostic",
    "condition.ok": "Normal", "condition.unknown": "Inconnu", "condition.maintenance": "Maintenance",
    "condition.warning": "Avertissement", "condition.fault": "Défaut",
    "liveness.live": "en ligne", "liveness.late": "en retard", "liveness.stale": "muet", "liveness.unknown": "inconnu (liaison Redis)",
    "summary.alarms": "Alarmes actives", "summary.unack": "Non acquittées", "summary.stale": "Superviseurs muets",
    "summary.live": "Temps réel", "summary.supervisors": "Superviseurs",
    "banner.bus_down": "Vigie a perdu la liaison Redis avec les superviseurs : les données affichées ne sont plus à jour.",
    "clock.simulated": "Temps simulé du territoire : {speed} fois plus vite que le temps réel",
    "banner.push_down": "Connexion temps réel interrompue : l'affichage est figé, reconnexion en cours…",
    "banner.not_live": "NON TEMPS RÉEL",
    "alarms.title": "Dernières alarmes", "alarms.empty": "Aucune alarme active", "alarms.unack": "non acquittée",
    "alarms.cleared": "retour à la normale", "alarms.ack": "Acquitter",
    "age.s": "{n} s", "age.min": "{n} min", "age.h": "{n} h", "age.d": "{n} j", "age.never": "jamais",
    "details.title": "Détails de l'équipement", "details.hint": "Cliquez un équipement sur la carte pour voir ses détails.",
    "details.id": "Identifiant", "details.type": "Type", "details.supervisor": "Superviseur", "details.condition": "État",
    "details.refs": "Rattachements", "details.values": "Dernières valeurs", "details.alarms": "Alarmes actives",
    "details.origin": "Origine", "details.synthetic": "simulé (placé par le simulateur, absent des données du territoire)",
    "details.none": "aucune", "details.updated": "Mis à jour", "details.open": "Fiche complète", "details.unknown": "Équipement inconnu : {id}",
    "map.base": "Plan du territoire (hors ligne)", "map.tiles": "Fond de carte en ligne",
    "map.lighting": "Éclairage", "map.water": "Eau", "map.traffic": "Trafic",
    "map.cluster_faults": "en défaut", "map.cluster_unack": "alarmes non acquittées",
    "legend.title": "Légende",
    "legend.alarms": "Alarme active", "legend.no_alarm": "Sans alarme",
    "legend.speed": "Vitesse / vitesse libre", "legend.pressure": "Pression",
    "band.free": "fluide (≥ {pct} %)", "band.slowed": "ralenti ({lo}-{hi} %)", "band.congested": "congestionné ({lo}-{hi} %)",
    "band.jammed": "bloqué (< {pct} %)", "band.closed": "fermé",
    "band.low": "basse (< {low} bar)", "band.high": "haute (> {high} bar)",
    "type.Streetlight": "Point lumineux", "type.StreetlightControlCabinet": "Armoire de commande",
    "type.StreetlightGroup": "Groupe d'éclairage", "type.RoadSegment": "Tronçon de voie",
    "type.TrafficSignal": "Carrefour à feux", "type.Reservoir": "Réservoir", "type.Tank": "Bâche",
    "type.Pump": "Pompe", "type.Valve": "Vanne", "type.Pipe": "Canalisation", "type.Junction": "Nœud",
    "type.Device": "Capteur",
    "ref.cabinet": "Armoire", "ref.group": "Groupe", "ref.street": "Voie", "ref.district": "Quartier",
    "ref.commune": "Commune", "ref.pipe": "Canalisation", "ref.zone": "Zone", "ref.segment": "Tronçon",
    "value.powerState": "Allumage", "value.status": "Statut", "value.illuminanceLevel": "Niveau d'éclairement",
    "value.powerConsumption": "Puissance (W)", "value.controlMode": "Mode de commande",
    "value.overrideUntil": "Forçage jusqu'à", "value.pressure": "Pression (bar)", "value.flow": "Débit (m³/h)",
    "value.level": "Niveau (m)", "value.chlorine": "Chlore libre (mg/L)", "value.turbidity": "Turbidité (NTU)",
    "value.position": "Ouverture", "value.running": "En marche", "value.setpoint": "Consigne (bar)",
    "value.intensity": "Débit (véh/h)", "value.averageVehicleSpeed": "Vitesse moyenne (km/h)",
    "value.occupancy": "Taux d'occupation", "value.congested": "Congestionné", "value.closed": "Fermé",
    "value.signalPlan": "Plan de feux", "bool.true": "oui", "bool.false": "non",
    "ref.reservoir": "Réservoir", "ref.upstream": "Canalisation amont", "ref.seg": "Tronçon {n}",
    "enum.powerState.on": "allumé", "enum.powerState.off": "éteint", "enum.powerState.low": "réduit",
    "enum.powerState.bootingUp": "en allumage",
    "enum.status.ok": "normal", "enum.status.defectiveLamp": "lampe défectueuse", "enum.status.brokenLantern": "lanterne cassée",
    "enum.status.columnIssue": "problème de mât", "enum.status.tripped": "disjoncté", "enum.status.fault": "en défaut",
    "enum.status.maintenance": "en maintenance", "enum.status.closed": "fermé",
    "enum.controlMode.schedule": "programme horaire", "enum.controlMode.override": "forçage opérateur", "enum.controlMode.manual": "manuel",
    "enum.signalPlan.normal": "normal", "enum.signalPlan.peak": "heure de pointe", "enum.signalPlan.greenWave": "onde verte",
    "enum.signalPlan.flashingAmber": "orange clignotant", "enum.signalPlan.off": "feux éteints",
}

_EN: dict[str, str] = {
    "app.subtitle": "Territorial hypervisor",
    "nav.overview": "Overview", "nav.lighting": "Lighting", "nav.water": "Water", "nav.traffic": "Traffic", "nav.commands": "Commands", "nav.maintenance": "Maintenance",
    "nav.wall": "Video wall", "nav.alarms": "Alarms", "nav.alarm_kpis": "Alarm health", "nav.lang": "Français", "nav.theme": "Dark theme",
    "nav.supervisors": "Registry of supervisors",
    "domain.lighting": "Street lighting", "domain.water": "Drinking water", "domain.traffic": "Road traffic",
    "kpi.lamps_in_service_pct": "Lamps in service", "kpi.lamps_faulty": "Faulty lamps", "kpi.lamps_on": "Lamps on",
    "kpi.power_kw": "Power drawn", "kpi.energy_today_kwh": "Energy today", "kpi.dimming_savings_pct": "Dimming savings",
    "kpi.pressure_compliance_pct": "Pressure compliance", "kpi.reservoir_autonomy_h": "Min. reservoir autonomy",
    "kpi.quality_compliance_pct": "Quality compliance", "kpi.pumps_running": "Pumps running",
    "kpi.suspected_leaks": "Suspected leaks", "kpi.mean_speed_kmh": "Mean speed",
    "kpi.congestion_index_pct": "Congestion index", "kpi.incidents": "Incidents", "kpi.segments_closed": "Closed segments",
    "kpi.trend": "Trend over {hours} h", "kpi.abnormal": "off target",
    "priority.urgent": "Urgent", "priority.high": "High", "priority.low": "Low", "priority.diagnostic": "Diagnostic",
    "condition.ok": "Normal", "condition.unknown": "Unknown", "condition.maintenance": "Maintenance",
    "condition.warning": "Warning", "condition.fault": "Fault",
    "liveness.live": "live", "liveness.late": "late", "liveness.stale": "stale", "liveness.unknown": "unknown (Redis link)",
    "summary.alarms": "Active alarms", "summary.unack": "Unacknowledged", "summary.stale": "Stale supervisors",
    "summary.live": "Live", "summary.supervisors": "Supervisors",
    "banner.bus_down": "Vigie lost its Redis link to the supervisors: the data shown is no longer current.",
    "clock.simulated": "Simulated territory time: {speed} times as fast as real time",
    "banner.push_down": "Live connection lost: the display is frozen, reconnecting…",
    "banner.not_live": "NOT LIVE",
    "alarms.title": "Newest alarms", "alarms.empty": "No active alarm", "alarms.unack": "unacknowledged",
    "alarms.cleared": "returned to normal", "alarms.ack": "Acknowledge",
    "age.d": "{n} d", "age.never": "never",
    "details.title": "Asset details", "details.hint": "Click an asset on the map to see its details.",
    "details.id": "Id", "details.condition": "Condition", "details.refs": "Relations",
    "details.values": "Latest values", "details.alarms": "Active alarms", "details.none": "none", "details.open": "Full page",
    "details.updated": "Updated", "details.unknown": "Unknown asset: {id}",
    "map.base": "Territory plan (offline)", "map.tiles": "Online base map", "map.lighting": "Lighting",
    "map.water": "Water", "map.traffic": "Traffic", "map.cluster_faults": "faulty", "map.cluster_unack": "unacknowledged alarms",
    "legend.title": "Legend",
    "legend.alarms": "Active alarm", "legend.no_alarm": "No alarm",
    "legend.speed": "Speed / free-flow speed", "legend.pressure": "Pressure",
    "band.free": "free (≥ {pct} %)", "band.slowed": "slowed ({lo}-{hi} %)", "band.congested": "congested ({lo}-{hi} %)",
    "band.jammed": "jammed (< {pct} %)", "band.closed": "closed",
    "band.low": "low (< {low} bar)", "band.high": "high (> {high} bar)",
    "type.Streetlight": "Streetlight", "type.StreetlightControlCabinet": "Control cabinet",
    "type.StreetlightGroup": "Lighting group", "type.RoadSegment": "Road segment", "type.TrafficSignal": "Signalised junction",
    "type.Reservoir": "Reservoir", "type.Tank": "Tank", "type.Pump": "Pump", "type.Valve": "Valve", "type.Pipe": "Pipe",
    "type.Junction": "Junction", "type.Device": "Sensor",
    "ref.cabinet": "Cabinet", "ref.group": "Group", "ref.street": "Street", "ref.district": "District",
    "ref.commune": "Commune", "ref.pipe": "Pipe", "ref.segment": "Segment",
    "value.powerState": "Power state", "value.illuminanceLevel": "Light level", "value.powerConsumption": "Power (W)",
    "value.controlMode": "Control mode", "value.overrideUntil": "Override until", "value.pressure": "Pressure (bar)",
    "value.flow": "Flow (m³/h)", "value.level": "Level (m)", "value.chlorine": "Free chlorine (mg/L)",
    "value.turbidity": "Turbidity (NTU)", "value.position": "Opening", "value.running": "Running",
    "value.setpoint": "Setpoint (bar)", "value.intensity": "Flow (veh/h)", "value.averageVehicleSpeed": "Mean speed (km/h)",
    "value.occupancy": "Occupancy", "value.congested": "Congested", "value.closed": "Closed",
    "value.signalPlan": "Signal plan", "bool.true": "yes", "bool.false": "no",
    "ref.reservoir": "Reservoir", "ref.upstream": "Upstream pipe", "ref.seg": "Segment {n}",
    "enum.powerState.on": "on", "enum.powerState.off": "off", "enum.powerState.low": "dimmed",
    "enum.powerState.bootingUp": "starting up",
    "enum.status.ok": "normal", "enum.status.defectiveLamp": "defective lamp", "enum.status.brokenLantern": "broken lantern",
    "enum.status.columnIssue": "column issue", "enum.status.tripped": "tripped", "enum.status.fault": "faulty",
    "enum.status.maintenance": "in maintenance", "enum.status.closed": "closed",
    "enum.controlMode.schedule": "schedule", "enum.controlMode.override": "operator override", "enum.controlMode.manual": "manual",
    "enum.signalPlan.normal": "normal", "enum.signalPlan.peak": "peak hours", "enum.signalPlan.greenWave": "green wave",
    "enum.signalPlan.flashingAmber": "flashing amber", "enum.signalPlan.off": "signals off",
    "app.title": "Vigie", "age.s": "{n} s", "age.min": "{n} min", "age.h": "{n} h", "kpi.none": "—", "kpi.note.preparing": "preparing history",
    "details.supervisor": "Supervisor", "details.type": "Type", "ref.zone": "Zone", "value.status": "Status",
    "details.origin": "Origin", "details.synthetic": "simulated (placed by the simulator, not in the territory's data)",
}

_CATALOGS = {"fr": _FR, "en": {**_FR, **_EN}}


def language(lang: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """A supported language code: `lang` if known, else the default."""
    return lang if lang in _CATALOGS else (default if default in _CATALOGS else DEFAULT_LANGUAGE)


def t(key: str, lang: str = DEFAULT_LANGUAGE, **fmt: object) -> str:
    """The label for `key` in `lang` (the key itself when missing), formatted with `fmt`."""
    text = _CATALOGS[language(lang)].get(key, key)
    return text.format(**fmt) if fmt else text


def catalog(lang: str) -> dict[str, str]:
    """Every label in one language (sent once to the browser)."""
    return dict(_CATALOGS[language(lang)])
