"""Labels of the alarm console and the alarm-system KPI page (French by default, English).

Python layouts call `at(key, lang)`; the console's script gets `alarm_catalog(lang)` once in its config.
"""
from __future__ import annotations

from .i18n import language

_FR: dict[str, str] = {
    "nav.alarms": "Alarmes", "nav.alarm_kpis": "Santé des alarmes",
    "page.title": "Console d'alarmes", "kpis.title": "Santé du système d'alarmes (EEMUA 191)",
    "state.normal": "Normale", "state.active_unack": "Non acquittée", "state.active_ack": "Acquittée",
    "state.rtn_unack": "Revenue, non acquittée", "state.shelved": "En veille", "state.shelved_one_shot": "En veille jusqu'au retour",
    "state.suppressed": "Masquée (cause amont)", "state.out_of_service": "Hors service",
    "view.handle": "À traiter", "view.unack": "Non acquittées", "view.shelved": "En veille", "view.suppressed": "Masquées",
    "view.out_of_service": "Hors service", "view.all": "Toutes",
    "filter.domain": "Domaine", "filter.priority": "Priorité", "filter.state": "Vue", "filter.area": "Secteur",
    "filter.text": "Rechercher (équipement, message, opérateur)", "filter.all_areas": "Tous les secteurs",
    "col.group": "Groupe", "col.priority": "Priorité", "col.state": "État", "col.raised": "Heure", "col.domain": "Domaine",
    "col.asset": "Équipement", "col.area": "Secteur", "col.message": "Message", "col.assignee": "Pris en charge par",
    "col.acked_by": "Acquittée par", "col.flags": "Signal", "col.locate": "Carte", "col.ack": "Acq.",
    "act.ack": "Acquitter", "act.shelve": "Mettre en veille…", "act.unshelve": "Sortir de veille", "act.assign": "Je m'en occupe",
    "act.release": "Libérer", "act.comment": "Commenter…", "act.select_none": "Tout désélectionner",
    "act.silence": "Silence", "act.sound_blocked": "Son bloqué : cliquer pour l'activer", "act.sound_on": "Son actif",
    "act.locate": "Centrer la carte sur l'équipement", "act.quick_ack": "Acquitter cette alarme",
    "act.send": "Valider", "act.cancel": "Annuler", "act.journal_csv": "Journal (CSV)", "act.kpis": "Santé des alarmes",
    "shelve.title": "Mettre en veille {n} alarme(s)", "shelve.reason": "Motif (obligatoire)",
    "shelve.duration": "Durée", "shelve.one_shot": "Jusqu'au retour à la normale", "shelve.max": "au plus {h} h (réglé par l'ingénieur)",
    "comment.title": "Commenter {n} alarme(s)", "comment.text": "Commentaire",
    "ack.comment": "Commentaire d'acquittement (facultatif)",
    "flag.chattering": "⟳ bavarde", "flag.propose_shelve": "mettre en veille ?", "flag.chattering_hint":
        "Plus de 3 basculements par minute : mettre en veille avec un motif ?",
    "group.children": "{n} masquée(s)", "group.expand": "Déplier le groupe", "group.cause": "Cause : {id}",
    "fb.none": "Sélectionnez d'abord une ou plusieurs alarmes.", "fb.done": "{n} {verb}", "fb.already": "{n} déjà traitée(s) ({who})",
    "fb.refused": "{n} refusée(s) : {why}", "fb.forbidden": "{n} non autorisée(s) : {why}", "fb.not_found": "{n} introuvable(s)",
    "fb.unavailable": "Action impossible pour le moment : {why}",
    "verb.ack": "acquittée(s)", "verb.shelve": "mise(s) en veille", "verb.unshelve": "sortie(s) de veille",
    "verb.assign": "prise(s) en charge", "verb.comment": "commentée(s)", "verb.out-of-service": "mise(s) hors service",
    "verb.return-to-service": "remise(s) en service",
    "detail.title": "Alarme et historique", "detail.hint": "Cliquez une alarme pour voir son historique.",
    "detail.gone": "Cette alarme est revenue à la normale ; son historique :", "detail.history": "Historique",
    "detail.children": "Alarmes masquées sous celle-ci", "detail.shelved_until": "En veille jusqu'à {t} — {why}",
    "detail.raised": "Apparue", "detail.supervisor": "Superviseur", "detail.code": "Code", "detail.count": "Occurrences",
    "detail.acked": "Acquittée par {who} à {t}", "detail.assignee": "Pris en charge par {who}",
    "who.vigie": "Vigie", "who.supervisor": "superviseur",
    "trigger.raise": "Apparition", "trigger.clear": "Retour à la normale", "trigger.acknowledge": "Acquittement",
    "trigger.shelve": "Mise en veille", "trigger.shelve_one_shot": "Mise en veille (jusqu'au retour)",
    "trigger.unshelve": "Sortie de veille", "trigger.shelf_expired": "Fin de veille", "trigger.suppress": "Masquée (cause amont)",
    "trigger.unsuppress": "Démasquée", "trigger.remove_from_service": "Mise hors service",
    "trigger.return_to_service": "Remise en service", "trigger.assign": "Prise en charge", "trigger.comment": "Commentaire",
    "empty": "Aucune alarme dans cette vue", "count": "{shown} affichée(s) sur {total}",
    "kpi.per_10min": "Alarmes / opérateur / 10 min", "kpi.per_hour": "Alarmes / opérateur / heure",
    "kpi.flood_share_pct": "Temps en avalanche", "kpi.chattering": "Alarmes bavardes", "kpi.stale": "Alarmes figées (> 24 h)",
    "kpi.mtta_s": "Délai moyen d'acquittement", "kpi.in_flood": "AVALANCHE EN COURS", "kpi.target": "objectif {v}",
    "kpi.distribution": "Répartition des priorités (annoncées)", "kpi.bad_actors": "Les 10 alarmes les plus fréquentes",
    "kpi.series": "Alarmes annoncées par période de 10 min (par opérateur)", "kpi.flood_line": "seuil d'avalanche",
    "kpi.count": "Nombre", "kpi.share": "Part", "kpi.goal": "Cible", "kpi.window": "Sur les dernières {h} h, {ops} poste(s) opérateur",
    "kpi.none": "—", "kpi.status.ok": "dans l'objectif", "kpi.status.warning": "à surveiller", "kpi.status.bad": "hors objectif",
    "kpi.diagnostic": "{n} alarme(s) de diagnostic (non comptées)",
    "kpi.short": "EEMUA 191", "kpi.short.per_10min": "10 min", "kpi.short.per_hour": "1 h", "kpi.short.flood": "avalanche",
    "kpi.short.mtta": "acq. moyen", "kpi.short.chattering": "bavardes", "kpi.short.stale": "figées",
}

_EN: dict[str, str] = {
    "nav.alarms": "Alarms", "nav.alarm_kpis": "Alarm health",
    "page.title": "Alarm console", "kpis.title": "Alarm system health (EEMUA 191)",
    "state.normal": "Normal", "state.active_unack": "Unacknowledged", "state.active_ack": "Acknowledged",
    "state.rtn_unack": "Returned, unacknowledged", "state.shelved": "Shelved", "state.shelved_one_shot": "Shelved until normal",
    "state.suppressed": "Suppressed (upstream cause)", "state.out_of_service": "Out of service",
    "view.handle": "To handle", "view.unack": "Unacknowledged", "view.shelved": "Shelved", "view.suppressed": "Suppressed",
    "view.out_of_service": "Out of service", "view.all": "All",
    "filter.domain": "Domain", "filter.priority": "Priority", "filter.state": "View", "filter.area": "Area",
    "filter.text": "Search (asset, message, operator)", "filter.all_areas": "All areas",
    "col.group": "Group", "col.priority": "Priority", "col.state": "State", "col.raised": "Time", "col.domain": "Domain",
    "col.asset": "Asset", "col.area": "Area", "col.message": "Message", "col.assignee": "Handled by",
    "col.acked_by": "Acknowledged by", "col.flags": "Flag", "col.locate": "Map", "col.ack": "Ack",
    "act.ack": "Acknowledge", "act.shelve": "Shelve…", "act.unshelve": "Unshelve", "act.assign": "I'm on it",
    "act.release": "Release", "act.comment": "Comment…", "act.select_none": "Select none",
    "act.silence": "Silence", "act.sound_blocked": "Sound blocked: click to enable", "act.sound_on": "Sound on",
    "act.locate": "Centre the map on the asset", "act.quick_ack": "Acknowledge this alarm",
    "act.send": "Confirm", "act.cancel": "Cancel", "act.journal_csv": "Journal (CSV)", "act.kpis": "Alarm health",
    "shelve.title": "Shelve {n} alarm(s)", "shelve.reason": "Reason (required)",
    "shelve.duration": "Duration", "shelve.one_shot": "Until it returns to normal", "shelve.max": "at most {h} h (set by the engineer)",
    "comment.title": "Comment on {n} alarm(s)", "comment.text": "Comment",
    "ack.comment": "Acknowledgement comment (optional)",
    "flag.chattering": "⟳ chattering", "flag.propose_shelve": "shelve it?", "flag.chattering_hint":
        "More than 3 toggles a minute: shelve it with a reason?",
    "group.children": "{n} suppressed", "group.expand": "Expand the group", "group.cause": "Cause: {id}",
    "fb.none": "Select one or more alarms first.", "fb.done": "{n} {verb}", "fb.already": "{n} already done ({who})",
    "fb.refused": "{n} refused: {why}", "fb.forbidden": "{n} not allowed: {why}", "fb.not_found": "{n} not found",
    "fb.unavailable": "Not possible right now: {why}",
    "verb.ack": "acknowledged", "verb.shelve": "shelved", "verb.unshelve": "unshelved", "verb.assign": "assigned",
    "verb.comment": "commented", "verb.out-of-service": "taken out of service", "verb.return-to-service": "returned to service",
    "detail.title": "Alarm and history", "detail.hint": "Click an alarm to see its history.",
    "detail.gone": "This alarm has returned to normal; its history:", "detail.history": "History",
    "detail.children": "Alarms suppressed under this one", "detail.shelved_until": "Shelved until {t} — {why}",
    "detail.raised": "Raised", "detail.supervisor": "Supervisor", "detail.code": "Code", "detail.count": "Occurrences",
    "detail.acked": "Acknowledged by {who} at {t}", "detail.assignee": "Handled by {who}",
    "who.vigie": "Vigie", "who.supervisor": "supervisor",
    "trigger.raise": "Raised", "trigger.clear": "Returned to normal", "trigger.acknowledge": "Acknowledged",
    "trigger.shelve": "Shelved", "trigger.shelve_one_shot": "Shelved (until normal)", "trigger.unshelve": "Unshelved",
    "trigger.shelf_expired": "Shelf over", "trigger.suppress": "Suppressed (upstream cause)", "trigger.unsuppress": "Unsuppressed",
    "trigger.remove_from_service": "Taken out of service", "trigger.return_to_service": "Returned to service",
    "trigger.assign": "Assigned", "trigger.comment": "Comment",
    "empty": "No alarm in this view", "count": "{shown} shown of {total}",
    "kpi.per_10min": "Alarms / operator / 10 min", "kpi.per_hour": "Alarms / operator / hour",
    "kpi.flood_share_pct": "Time in flood", "kpi.chattering": "Chattering alarms", "kpi.stale": "Stale alarms (> 24 h)",
    "kpi.mtta_s": "Mean time to acknowledge", "kpi.in_flood": "ALARM FLOOD NOW", "kpi.target": "target {v}",
    "kpi.distribution": "Priority distribution (annunciated)", "kpi.bad_actors": "Top 10 bad actors",
    "kpi.series": "Annunciated alarms per 10-minute period (per operator)", "kpi.flood_line": "flood threshold",
    "kpi.count": "Count", "kpi.share": "Share", "kpi.goal": "Target", "kpi.window": "Over the last {h} h, {ops} operator position(s)",
    "kpi.status.ok": "on target", "kpi.status.warning": "to watch", "kpi.status.bad": "off target",
    "kpi.diagnostic": "{n} diagnostic alarm(s) (not counted)",
    "kpi.short.flood": "flood", "kpi.short.mtta": "MTTA", "kpi.short.chattering": "chattering", "kpi.short.stale": "stale",
    "kpi.none": "—", "kpi.short": "EEMUA 191", "kpi.short.per_10min": "10 min", "kpi.short.per_hour": "1 h",
}

# the master alarm database (issue 15): views, chattering suppression, the response procedure, the engineers' page
_FR.update({
    "view.maintenance": "Maintenance", "flag.chatter_held": "⟳ bavarde, masquée · réafficher",
    "flag.chatter_held_hint": "Masquée parce qu'elle bat (annoncée une fois) ; elle revient seule si elle se stabilise. "
                              "Cliquer pour la réafficher.",
    "verb.release-chatter": "réaffichée(s)", "trigger.release-chatter": "Réaffichée",
    "procedure.title": "Consigne (rationalisation)", "procedure.class": "Type", "procedure.consequence": "Si rien n'est fait",
    "procedure.action": "Action", "procedure.respond": "Délai de réponse", "procedure.respond_min": "{n} min",
    "procedure.default": "Type d'alarme non rationalisé : consigne par défaut.",
    "class.operator": "Alarme opérateur", "class.maintenance": "Maintenance (ordre de travail)", "class.event": "Événement seul",
    "rat.title": "Rationalisation des alarmes (ISA-18.2)", "rat.records": "Types d'alarme",
    "rat.to_rationalise": "À rationaliser (codes reçus sans fiche)", "rat.none": "Aucun code inconnu reçu.",
    "rat.edit": "Modifier la fiche", "rat.code": "Code", "rat.domain": "Domaine", "rat.class": "Classe",
    "rat.priority": "Priorité", "rat.priority.supervisor": "Selon le superviseur", "rat.on_delay": "Retard à l'apparition (s)",
    "rat.off_delay": "Retard à la disparition (s)", "rat.deadband": "Bande morte", "rat.deadband_unit": "Unité",
    "rat.chatter_toggles": "Battement : changements", "rat.chatter_window": "… en (s)", "rat.respond": "Délai de réponse (min)",
    "rat.label_fr": "Libellé (fr)", "rat.label_en": "Libellé (en)", "rat.consequence_fr": "Conséquence (fr)",
    "rat.consequence_en": "Conséquence (en)", "rat.action_fr": "Action (fr)", "rat.action_en": "Action (en)",
    "rat.save": "Enregistrer", "rat.revert": "Revenir à la fiche livrée", "rat.saved": "Fiche {code} enregistrée : en vigueur.",
    "rat.reverted": "Fiche {code} : fiche livrée rétablie.", "rat.refused": "Refusé : {why}",
    "rat.forbidden": "Réservé aux ingénieurs du domaine.", "rat.pick": "Choisissez un type d'alarme à modifier.",
    "rat.count": "Reçus", "rat.first": "Premier", "rat.example": "Exemple", "rat.supervisor": "Superviseur",
    "rat.edited": "modifiée", "rat.respond_short": "Réponse",
    "kpi.standing": "Alarmes en cours (maintenant)", "kpi.standing_more": "max {max} · moyenne {mean} (objectif ≤ 10)",
    "kpi.per_10min_max": "Pire période de 10 min", "kpi.maintenance_opened": "Conditions de maintenance ouvertes",
    "kpi.maintenance_note": "vers les ordres de travail, non annoncées",
})
_EN.update({
    "view.maintenance": "Maintenance", "flag.chatter_held": "⟳ chattering, suppressed · show",
    "flag.chatter_held_hint": "Suppressed because it chatters (announced once); it comes back by itself when it steadies. "
                              "Click to show it again.",
    "verb.release-chatter": "shown again", "trigger.release-chatter": "Shown again",
    "procedure.title": "Alarm response procedure", "procedure.class": "Type", "procedure.consequence": "If nothing is done",
    "procedure.action": "Action", "procedure.respond": "Time to respond", "procedure.respond_min": "{n} min",
    "procedure.default": "Alarm type not rationalised: default procedure.",
    "class.operator": "Operator alarm", "class.maintenance": "Maintenance (work order)", "class.event": "Event only",
    "rat.title": "Alarm rationalisation (ISA-18.2)", "rat.records": "Alarm types",
    "rat.to_rationalise": "To rationalise (codes received without a record)", "rat.none": "No unknown code received.",
    "rat.edit": "Edit the record", "rat.code": "Code", "rat.domain": "Domain", "rat.class": "Class",
    "rat.priority": "Priority", "rat.priority.supervisor": "As the supervisor says", "rat.on_delay": "On-delay (s)",
    "rat.off_delay": "Off-delay (s)", "rat.deadband": "Deadband", "rat.deadband_unit": "Unit",
    "rat.chatter_toggles": "Chattering: changes", "rat.chatter_window": "… within (s)", "rat.respond": "Time to respond (min)",
    "rat.label_fr": "Label (fr)", "rat.label_en": "Label (en)", "rat.consequence_fr": "Consequence (fr)",
    "rat.consequence_en": "Consequence (en)", "rat.action_fr": "Action (fr)", "rat.action_en": "Action (en)",
    "rat.save": "Save", "rat.revert": "Back to the shipped record", "rat.saved": "Record {code} saved: in force.",
    "rat.reverted": "Record {code}: the shipped record is back.", "rat.refused": "Refused: {why}",
    "rat.forbidden": "For the domain's engineers only.", "rat.pick": "Pick an alarm type to edit.",
    "rat.count": "Received", "rat.first": "First", "rat.example": "Example", "rat.supervisor": "Supervisor",
    "rat.edited": "edited", "rat.respond_short": "Respond",
    "kpi.standing": "Standing alarms (now)", "kpi.standing_more": "max {max} · mean {mean} (target ≤ 10)",
    "kpi.per_10min_max": "Worst 10-minute period", "kpi.maintenance_opened": "Maintenance conditions opened",
    "kpi.maintenance_note": "to work orders, not annunciated",
})

_CATALOGS = {"fr": _FR, "en": {**_FR, **_EN}}


def at(key: str, lang: str = "fr", **fmt: object) -> str:
    """The alarm pages' label for `key` in `lang` (the key itself when missing)."""
    text = _CATALOGS[language(lang)].get(key, key)
    return text.format(**fmt) if fmt else text


def alarm_catalog(lang: str) -> dict[str, str]:
    """Every alarm-page label in one language (sent once to the browser)."""
    return dict(_CATALOGS[language(lang)])
