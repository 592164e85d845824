"""Words of the replay pages and of the exercise banner (French by default, English)."""
from __future__ import annotations

from .i18n import language

_FR: dict[str, str] = {
    "title": "Exercices et rejeu", "banner": "EXERCICE / REPLAY", "banner.hint": "Monde rejoué : rien n'agit sur l'exploitation réelle.",
    "leave": "Quitter l'exercice", "nav": "Exercices", "banner.ended": "Cet exercice est terminé",
    "banner.ended.hint": "Les actions sont refusées sur cette page : quittez l'exercice pour revenir à l'exploitation.",
    "open.title": "Ouvrir une session", "open.name": "Nom de la session", "open.name.default": "Exercice",
    "open.start": "Début (heure locale)", "open.end": "Fin (heure locale)", "open.speed": "Vitesse",
    "open.scenario": "Scénario", "open.scenario.none": "Aucun (rejeu seul)", "open.go": "Ouvrir la session",
    "open.recorded": "Enregistré : du {start} au {end}", "open.empty": "Rien n'est encore enregistré.",
    "open.forbidden": "Réservé aux formateurs.",
    "sessions.title": "Sessions en cours", "sessions.none": "Aucune session en cours.", "sessions.join": "Rejoindre (stagiaire)",
    "sessions.pick": "Piloter", "sessions.trainees": "{n} stagiaire(s)",
    "session.title": "Session", "session.none": "Choisissez ou ouvrez une session.", "play": "Lecture", "pause": "Pause",
    "speed": "Vitesse", "seek": "Aller à", "end": "Terminer la session", "join_mine": "Voir en stagiaire",
    "state.paused": "en pause", "state.playing": "lecture", "state.ended": "terminée",
    "timeline.title": "Chronologie des alarmes", "timeline.position": "Position", "timeline.counts": "Alarmes / min",
    "timeline.injection": "Événements",
    "inject.title": "Injecter un événement", "inject.event": "Événement", "inject.target": "Cible (facultatif)",
    "inject.minutes": "Durée (min)", "inject.go": "Injecter", "inject.none": "Aucun événement pour l'instant.",
    "event.pipe_burst": "Rupture de conduite maîtresse", "event.cabinet_trip": "Disjonction d'armoire",
    "event.traffic_incident": "Incident de circulation majeur", "event.supervisor_silent": "Superviseur muet",
    "inj.pending": "prévu", "inj.fired": "déclenché", "inj.error": "échec", "inj.what": "{name} · {minutes:g} min",
    "debrief.title": "Débriefing", "debrief.refresh": "Actualiser", "debrief.json": "Export JSON", "debrief.csv": "Export CSV",
    "debrief.annunciated": "Alarmes présentées", "debrief.acked": "Acquittées", "debrief.never": "Jamais acquittées",
    "debrief.median": "Délai médian d'acquittement", "debrief.p90": "Délai 90 %", "debrief.commands": "Commandes",
    "debrief.failed": "dont en échec", "debrief.reference": "Référence", "debrief.on_duty": "Opérateurs en poste (enregistrement)",
    "debrief.alarm": "Alarme", "debrief.priority": "Priorité", "debrief.wait": "Délai", "debrief.by": "Par",
    "debrief.none": "—", "debrief.missing": "Commandes de la référence non faites : {n}",
    "col.when": "Heure", "col.command": "Commande", "col.status": "Issue",
    "msg.opened": "Session « {name} » ouverte.", "msg.ended": "Session terminée.", "msg.sought": "Positionné en {s:.2f} s.",
    "msg.injected": "{event} : {name} ({minutes:g} min).", "msg.error": "Refusé : {error}",
}
_EN: dict[str, str] = {
    "title": "Exercises and replay", "banner": "EXERCISE / REPLAY", "banner.hint": "Replayed world: nothing acts on real operations.",
    "leave": "Leave the exercise", "nav": "Exercises", "banner.ended": "This exercise has ended",
    "banner.ended.hint": "Actions are refused on this page: leave the exercise to go back to live operations.",
    "open.title": "Open a session", "open.name": "Session name", "open.name.default": "Exercise",
    "open.start": "Start (local time)", "open.end": "End (local time)", "open.speed": "Speed",
    "open.scenario": "Scenario", "open.scenario.none": "None (replay only)", "open.go": "Open the session",
    "open.recorded": "Recorded: from {start} to {end}", "open.empty": "Nothing recorded yet.",
    "open.forbidden": "Trainers only.",
    "sessions.title": "Running sessions", "sessions.none": "No session running.", "sessions.join": "Join (trainee)",
    "sessions.pick": "Drive", "sessions.trainees": "{n} trainee(s)",
    "session.title": "Session", "session.none": "Pick or open a session.", "play": "Play", "pause": "Pause",
    "speed": "Speed", "seek": "Go to", "end": "End the session", "join_mine": "See as a trainee",
    "state.paused": "paused", "state.playing": "playing", "state.ended": "ended",
    "timeline.title": "Alarm timeline", "timeline.position": "Position", "timeline.counts": "Alarms / min",
    "timeline.injection": "Events",
    "inject.title": "Inject an event", "inject.event": "Event", "inject.target": "Target (optional)",
    "inject.minutes": "Duration (min)", "inject.go": "Inject", "inject.none": "No event yet.",
    "event.pipe_burst": "Main pipe burst", "event.cabinet_trip": "Cabinet trip",
    "event.traffic_incident": "Major traffic incident", "event.supervisor_silent": "Supervisor silent",
    "inj.pending": "scheduled", "inj.fired": "fired", "inj.error": "failed", "inj.what": "{name} · {minutes:g} min",
    "debrief.title": "Debrief", "debrief.refresh": "Refresh", "debrief.json": "JSON export", "debrief.csv": "CSV export",
    "debrief.annunciated": "Alarms presented", "debrief.acked": "Acknowledged", "debrief.never": "Never acknowledged",
    "debrief.median": "Median time to acknowledge", "debrief.p90": "90th percentile", "debrief.commands": "Commands",
    "debrief.failed": "of which failed", "debrief.reference": "Reference", "debrief.on_duty": "Operators on duty (recording)",
    "debrief.alarm": "Alarm", "debrief.priority": "Priority", "debrief.wait": "Wait", "debrief.by": "By",
    "debrief.none": "—", "debrief.missing": "Reference commands not made: {n}",
    "col.when": "Time", "col.command": "Command", "col.status": "Outcome",
    "msg.opened": "Session “{name}” opened.", "msg.ended": "Session ended.", "msg.sought": "Positioned in {s:.2f} s.",
    "msg.injected": "{event}: {name} ({minutes:g} min).", "msg.error": "Refused: {error}",
}
_CATALOGS = {"fr": _FR, "en": _EN}


def rt(key: str, lang: str = "fr", **fmt: object) -> str:
    """The replay label for `key` in `lang` (the key itself when missing), formatted with `fmt`."""
    text = _CATALOGS[language(lang)].get(key, key)
    return text.format(**fmt) if fmt else text
