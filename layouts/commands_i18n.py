"""Words of the commands page and panel (French by default, English), and how a command reads to an operator."""
from __future__ import annotations

import re
from typing import Any

from .i18n import language
from .palette import COMMAND_STYLE

_FR: dict[str, str] = {
    "title": "Commandes", "new": "Nouvelle commande", "domain.lighting": "Éclairage", "domain.water": "Eau", "domain.traffic": "Trafic", "domain": "Domaine", "action": "Action", "selection": "Sélection",
    "selection.none": "Rien de sélectionné : cliquez des équipements sur la carte, dessinez une zone ou choisissez une zone ci-dessous.",
    "selection.clear": "Effacer", "pick.kind": "Choisir par", "pick.value": "Zone ou équipement", "pick.placeholder": "Rechercher…",
    "pick.cabinet": "Armoire", "pick.street": "Voie", "pick.district": "Quartier", "pick.commune": "Commune", "pick.group": "Programme",
    "pick.asset": "Équipement", "pick.corridor": "Axe (voie)",
    "review": "Vérifier avant l'envoi…", "send": "Envoyer la commande", "cancel": "Annuler", "close": "Fermer",
    "param.level": "Niveau (%)", "param.on": "Allumage", "param.on.true": "Allumer", "param.on.false": "Éteindre",
    "param.override": "Durée", "param.override.none": "Permanent (jusqu'à nouvel ordre)", "param.position": "Ouverture (%)",
    "param.running": "Pompe", "param.running.start": "Marche", "param.running.stop": "Arrêt", "param.running.auto": "Automatique",
    "param.bar": "Consigne (bar)", "param.plan": "Plan de feux", "param.dim_level": "Niveau réduit (%)",
    "param.dim_from": "Réduit de (HH:MM)", "param.dim_to": "à (HH:MM)",
    "action.set_dimming": "Gradation", "action.switch": "Allumer / éteindre", "action.release": "Retour au programme",
    "action.set_schedule": "Programme horaire", "action.valve": "Vanne", "action.pump": "Pompe", "action.pump_setpoint": "Consigne de pompe",
    "action.signal_plan": "Plan de feux", "action.close_segment": "Fermer la voie", "action.reopen_segment": "Rouvrir la voie",
    "plan.normal": "Normal", "plan.peak": "Heure de pointe", "plan.greenWave": "Onde verte", "plan.flashingAmber": "Orange clignotant",
    "plan.auto": "Automatique",
    "status.requested": "demandée", "status.sent": "envoyée", "status.accepted": "acceptée", "status.rejected": "refusée",
    "status.applied": "appliquée", "status.partial": "partielle", "status.failed": "échouée", "status.timed_out": "sans réponse",
    "verif.pending": "télémétrie attendue", "verif.confirmed": "confirmée par la télémétrie", "verif.mismatch": "la télémétrie diffère",
    "verif.drift": "écart constaté", "status.drift": "écart constaté", "status.drift_over": "de retour dans l'état commandé",
    "status.not_sent": "non envoyée", "status.timeout": "sans réponse", "status.ended": "forçage terminé",
    "status.cancelled": "forçage annulé",
    "step.not_delivered": "aucun superviseur n'écoute ce domaine : commande non remise", "step.not_sent": "non envoyée : {why}",
    "step.no_answer": "pas de réponse de {sup} en {s} s : le superviseur est peut-être arrêté ou muet",
    "step.no_result": "{sup} a accepté la commande mais n'a rendu aucun résultat en {s} s",
    "step.override_over": "retour au fonctionnement automatique", "step.back": "de nouveau dans l'état commandé",
    "step.drift": "{asset} montre {field} = {shown}, commandé {wanted}",
    "detail.drifted": "Ont quitté l'état commandé",
    "verif.not_applicable": "", "verif.waiting": "",
    "override.active": "forçage jusqu'à {until}", "override.ended": "forçage terminé : retour au programme",
    "override.cancelled": "forçage annulé : retour au programme", "override.left": "reste", "override.cancel": "Annuler le forçage",
    "revert": "Rendre la main à l'automatisme",
    "list.title": "Journal des commandes", "list.empty": "Aucune commande.", "list.csv": "Export CSV", "filter.domain": "Domaine",
    "filter.status": "Statut", "filter.mine": "Les miennes", "filter.all": "Tous",
    "confirm.title": "Confirmer la commande", "confirm.targets": "Cibles", "confirm.current": "État actuel",
    "confirm.effect": "Effet attendu", "confirm.map": "Les cibles sont en surbrillance sur la carte.",
    "confirm.large": "Effet important", "confirm.reason": "Motif (obligatoire)", "confirm.second": "Je confirme une seconde fois cette commande à effet important",
    "confirm.supervisor": "Superviseur", "confirm.assets": "{n} équipement(s)",
    "effect.power": "Puissance {now} kW → {after} kW", "effect.saved": "économie estimée {saved} kW", "effect.more": "surconsommation estimée {saved} kW",
    "effect.dark": "{n} point(s) lumineux éteint(s)", "effect.faulty": "{n} en défaut ne pourront pas obéir",
    "effect.lamps": "{n} points lumineux, {c} armoire(s), {d} quartier(s)", "effect.groups": "{n} programme(s), {lamps} points lumineux",
    "effect.valve": "Vanne(s) à {pos} % : aval {pipes} canalisation(s) ({km} km), {sensors} capteur(s)",
    "effect.pump": "{n} pompe(s) ; zone(s) desservie(s) : {zones}, {sensors} capteur(s)",
    "effect.signals": "{n} carrefour(s), {segments} tronçon(s) autour", "effect.segments": "{n} tronçon(s), {vpd} véhicules/jour, {km} km",
    "effect.override": "Forçage temporaire de {d} : retour automatique ensuite", "effect.permanent": "Permanent : jusqu'à une nouvelle commande",
    "current.level": "niveau moyen {v} %", "current.unknown": "{n} sans mesure", "current.position": "ouverture moyenne {v} %",
    "current.setpoint": "consigne moyenne {v} bar",
    "detail.title": "Commande", "detail.commanded": "Commandé", "detail.feedback": "Retour du superviseur", "detail.actual": "Réel (télémétrie)",
    "detail.timeline": "Déroulé", "detail.applied": "appliquée sur {n}", "detail.failed": "{n} en échec", "detail.missing": "{n} sans réponse",
    "detail.confirmed": "{n} / {m} montrent la valeur commandée", "detail.unconfirmed": "Différent de la commande",
    "detail.failed_list": "N'ont pas obéi", "detail.missing_list": "N'ont pas répondu", "detail.more": "… et {n} autres",
    "detail.by": "par {user}", "detail.reason": "Motif", "detail.message": "Message du superviseur", "detail.late": "réponse arrivée après le délai",
    "detail.cancels": "annule {id}", "detail.cancelled_by": "annulée par {id}",
    "sent.ok": "Commande {id} envoyée.", "sent.again": "Commande {id} déjà envoyée (même demande).",
    "large.commune_dark": "{name} serait plongée dans le noir : {k} de ses {total} points lumineux",
    "large.many_dark": "{n} points lumineux éteints ou presque", "large.many_lamps": "{n} points lumineux à la fois",
    "large.main_valve_closed": "une vanne principale fermée à {pos} % : {sensors} capteur(s) en aval",
    "large.supply_cut": "{pipes} canalisation(s) ({km} km) privées d'eau en aval",
    "large.pump_stopped": "{n} pompe(s) arrêtée(s) : {sensors} capteur(s) de leur zone perdent la pression",
    "large.many_signals": "{n} carrefours changent de plan à la fois", "large.flashing_amber": "{n} carrefours à l'orange clignotant",
    "large.many_closed": "{n} tronçons fermés", "large.main_road_closed": "un axe principal fermé : {name} ({vpd} véhicules par jour)",
    "refused": "Refusé", "asset.commands": "Commandes", "asset.none": "Aucune commande récente.", "asset.act": "Commander…",
}
_EN: dict[str, str] = {
    "title": "Commands", "new": "New command", "domain.lighting": "Lighting", "domain.water": "Water", "domain.traffic": "Traffic", "domain": "Domain", "action": "Action", "selection": "Selection",
    "selection.none": "Nothing selected: click assets on the map, draw an area or pick an area below.",
    "selection.clear": "Clear", "pick.kind": "Pick by", "pick.value": "Area or asset", "pick.placeholder": "Search…",
    "pick.cabinet": "Cabinet", "pick.street": "Street", "pick.district": "District", "pick.commune": "Commune", "pick.group": "Schedule",
    "pick.asset": "Asset", "pick.corridor": "Corridor (street)",
    "review": "Review before sending…", "send": "Send the command", "cancel": "Cancel", "close": "Close",
    "param.level": "Level (%)", "param.on": "Switch", "param.on.true": "On", "param.on.false": "Off",
    "param.override": "Duration", "param.override.none": "Permanent (until changed)", "param.position": "Opening (%)",
    "param.running": "Pump", "param.running.start": "Start", "param.running.stop": "Stop", "param.running.auto": "Automatic",
    "param.bar": "Setpoint (bar)", "param.plan": "Signal plan", "param.dim_level": "Dimmed level (%)",
    "param.dim_from": "Dimmed from (HH:MM)", "param.dim_to": "to (HH:MM)",
    "action.set_dimming": "Dimming", "action.switch": "Switch on / off", "action.release": "Back to schedule",
    "action.set_schedule": "Schedule", "action.valve": "Valve", "action.pump": "Pump", "action.pump_setpoint": "Pump setpoint",
    "action.signal_plan": "Signal plan", "action.close_segment": "Close the road", "action.reopen_segment": "Reopen the road",
    "plan.normal": "Normal", "plan.peak": "Peak hour", "plan.greenWave": "Green wave", "plan.flashingAmber": "Flashing amber",
    "plan.auto": "Automatic",
    "status.requested": "requested", "status.sent": "sent", "status.accepted": "accepted", "status.rejected": "rejected",
    "status.applied": "applied", "status.partial": "partial", "status.failed": "failed", "status.timed_out": "no answer",
    "verif.pending": "awaiting telemetry", "verif.confirmed": "confirmed by telemetry", "verif.mismatch": "telemetry differs",
    "verif.drift": "drift observed", "status.drift": "drift observed", "status.drift_over": "back in the commanded state",
    "status.not_sent": "not sent", "status.timeout": "no answer", "status.ended": "override over", "status.cancelled": "override cancelled",
    "step.not_delivered": "no supervisor listens on this domain: command not delivered", "step.not_sent": "not sent: {why}",
    "step.no_answer": "no answer from {sup} within {s} s: the supervisor may be down or silent",
    "step.no_result": "{sup} accepted the command but reported no result within {s} s",
    "step.override_over": "back to automatic control", "step.back": "back in the commanded state",
    "step.drift": "{asset} shows {field} = {shown}, commanded {wanted}",
    "detail.drifted": "Left the commanded state",
    "verif.not_applicable": "", "verif.waiting": "",
    "override.active": "override until {until}", "override.ended": "override over: back to schedule",
    "override.cancelled": "override cancelled: back to schedule", "override.left": "left", "override.cancel": "Cancel the override",
    "revert": "Hand back to automatic control",
    "list.title": "Command log", "list.empty": "No command.", "list.csv": "CSV export", "filter.domain": "Domain",
    "filter.status": "Status", "filter.mine": "Mine", "filter.all": "All",
    "confirm.title": "Confirm the command", "confirm.targets": "Targets", "confirm.current": "Current state",
    "confirm.effect": "Expected effect", "confirm.map": "The targets are highlighted on the map.",
    "confirm.large": "Large effect", "confirm.reason": "Reason (required)", "confirm.second": "I confirm this large-effect command a second time",
    "confirm.supervisor": "Supervisor", "confirm.assets": "{n} asset(s)",
    "effect.power": "Power {now} kW → {after} kW", "effect.saved": "estimated saving {saved} kW", "effect.more": "estimated extra {saved} kW",
    "effect.dark": "{n} lamp(s) dark", "effect.faulty": "{n} out of order cannot obey",
    "effect.lamps": "{n} lamps, {c} cabinet(s), {d} district(s)", "effect.groups": "{n} schedule(s), {lamps} lamps",
    "effect.valve": "Valve(s) at {pos} %: downstream {pipes} pipe(s) ({km} km), {sensors} sensor(s)",
    "effect.pump": "{n} pump(s); zone(s) served: {zones}, {sensors} sensor(s)",
    "effect.signals": "{n} junction(s), {segments} segment(s) around", "effect.segments": "{n} segment(s), {vpd} vehicles/day, {km} km",
    "effect.override": "Temporary override for {d}: back to automatic afterwards", "effect.permanent": "Permanent: until another command",
    "current.level": "mean level {v} %", "current.unknown": "{n} without a reading", "current.position": "mean opening {v} %",
    "current.setpoint": "mean setpoint {v} bar",
    "detail.title": "Command", "detail.commanded": "Commanded", "detail.feedback": "Supervisor's feedback", "detail.actual": "Actual (telemetry)",
    "detail.timeline": "Lifecycle", "detail.applied": "applied on {n}", "detail.failed": "{n} failed", "detail.missing": "{n} did not answer",
    "detail.confirmed": "{n} / {m} show the commanded value", "detail.unconfirmed": "Differ from the command",
    "detail.failed_list": "Did not obey", "detail.missing_list": "Did not answer", "detail.more": "… and {n} more",
    "detail.by": "by {user}", "detail.reason": "Reason", "detail.message": "Supervisor's message", "detail.late": "answer arrived after the timeout",
    "detail.cancels": "cancels {id}", "detail.cancelled_by": "cancelled by {id}",
    "sent.ok": "Command {id} sent.", "sent.again": "Command {id} already sent (same request).",
    "large.commune_dark": "{name} would be dark: {k} of its {total} lamps",
    "large.many_dark": "{n} lamps left dark or nearly", "large.many_lamps": "{n} lamps at once",
    "large.main_valve_closed": "a main valve closed to {pos} %: {sensors} sensor(s) downstream",
    "large.supply_cut": "{pipes} pipe(s) ({km} km) cut off downstream",
    "large.pump_stopped": "{n} pump(s) stopped: {sensors} sensor(s) of their zone lose pressure",
    "large.many_signals": "{n} junctions change plan at once", "large.flashing_amber": "{n} junctions on flashing amber",
    "large.many_closed": "{n} road segments closed", "large.main_road_closed": "a main road closed: {name} ({vpd} vehicles a day)",
    "refused": "Refused", "asset.commands": "Commands", "asset.none": "No recent command.", "asset.act": "Command…",
}
_CATALOGS = {"fr": _FR, "en": {**_FR, **_EN}}
STATUS_SHAPE = {status: style["shape"] for status, style in COMMAND_STYLE.items()}  # neutral marks, never an alarm's shape
WHERE = {"fr": {"street": "voie", "district": "quartier", "commune": "commune", "zone": "zone", "area": "zone", "drawn area": "zone dessinée",
                "selections": "sélections"},
         "en": {"street": "street", "district": "district", "commune": "commune", "zone": "zone", "area": "area", "drawn area": "drawn area",
                "selections": "selections"}}
VALUES = {"fr": {"on": "allumé", "off": "éteint", "low": "réduit", "bootingup": "démarrage", "schedule": "programme", "override": "forçage",
                 "manual": "manuel", "ok": "normal", "true": "oui", "false": "non", "fault": "défaut", "tripped": "disjoncté",
                 "defectivelamp": "lampe HS", "brokenlantern": "lanterne cassée", "columnissue": "support endommagé",
                 "maintenance": "maintenance", "closed": "fermé", "normal": "normal", "peak": "pointe", "greenwave": "onde verte",
                 "flashingamber": "orange clignotant"},
          "en": {"bootingup": "booting up", "defectivelamp": "defective lamp", "brokenlantern": "broken lantern",
                 "columnissue": "column issue", "greenwave": "green wave", "flashingamber": "flashing amber", "true": "yes", "false": "no"}}
ABNORMAL = {"partial": "high", "failed": "urgent", "rejected": "high", "timed_out": "urgent"}


def ct(key: str, lang: str = "fr", **fmt: object) -> str:
    """A label of the commands page in `lang`."""
    text = _CATALOGS[language(lang)].get(key, key)
    return text.format(**fmt) if fmt else text


def number(value: float | int | None, lang: str, digits: int = 1) -> str:
    """A number as the operator reads it (French decimal comma, thin thousands)."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}" if isinstance(value, float) and digits else f"{round(value):,}"
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text


def duration(seconds: float | None, lang: str) -> str:
    """`2 h 30 min`, `45 min`, `30 s`."""
    if not seconds:
        return "—"
    s = int(seconds)
    h, m = divmod(s // 60, 60)
    if h:
        return f"{h} h {m:02d} min" if m else f"{h} h"
    return f"{m} min" if m else f"{s} s"


def large_words(effect: dict[str, Any], lang: str) -> str:
    """A large-effect rule in the page's language (the core's English message when the figures are missing)."""
    values = {k: (number(v, lang, 0) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
              for k, v in (effect.get("values") or {}).items()}
    try:
        return ct(f"large.{effect['rule']}", lang, **values) if values else effect["message"]
    except (KeyError, IndexError):
        return effect["message"]


def where(label: str, lang: str) -> str:
    """A selection's label in the page's language (`district Centre` -> `quartier Centre`)."""
    words = WHERE["fr" if language(lang) == "fr" else "en"]
    for key in sorted(words, key=len, reverse=True):
        if label.startswith(key + " ") or label.endswith(" " + key):
            return label.replace(key, words[key], 1)
    return label


def value_word(value: object, lang: str) -> str:
    """A reading's value in words (`on` -> `allumé`)."""
    key = str(value).lower()
    return VALUES["fr" if language(lang) == "fr" else "en"].get(key, str(value))


def command_words(doc: dict[str, Any], lang: str) -> str:
    """What a command does, in words: `Gradation 30 %, 2 h`, `Vanne 0 % (fermée)`, `Plan de feux Onde verte`."""
    a, p = doc["action"], doc.get("params") or {}
    head = ct(f"action.{a}", lang)
    if a == "set_dimming":
        head += f" {number(p.get('level'), lang, 0)} %"
    elif a == "switch":
        head = ct(f"param.on.{str(bool(p.get('on'))).lower()}", lang)
    elif a == "valve":
        head += f" {number(p['position'], lang, 0)} %" if "position" in p else " " + ct(f"param.on.{str(bool(p.get('open'))).lower()}", lang).lower()
    elif a == "pump":
        head += " " + ct("param.running." + ("auto" if p.get("auto") else "start" if p.get("running") else "stop"), lang).lower()
    elif a == "pump_setpoint":
        head += f" {number(p.get('bar'), lang)} bar"
    elif a == "signal_plan":
        head += " " + ct(f"plan.{p.get('plan')}", lang)
    elif a == "set_schedule":
        head += " " + ", ".join(f"{k.replace('dim_', '')} {v}" for k, v in p.items())
    if p.get("override_s"):
        head += f", {duration(p['override_s'], lang)}"
    return head


# Vigie's own words in a command's timeline (services/core/command_book.py), said in the page's language; anything
# else (a supervisor's reason) is the supervisor's own text, shown as it came.
_STEPS = (
    (re.compile(r"^not delivered: no supervisor listens"), "step.not_delivered"),
    (re.compile(r"^not sent: (?P<why>.*)$"), "step.not_sent"),
    (re.compile(r"^no answer from (?P<sup>\S+) within (?P<s>\d+) s"), "step.no_answer"),
    (re.compile(r"^(?P<sup>\S+) accepted the command but reported no result within (?P<s>\d+) s"), "step.no_result"),
    (re.compile(r"^override over: back to automatic control$"), "step.override_over"),
    (re.compile(r"^back in the commanded state$"), "step.back"),
    (re.compile(r"^drift observed: (?P<asset>\S+) reports (?P<field>\w+) (?P<shown>.+), commanded (?P<wanted>.+)$"), "step.drift"),
)


def step_detail(detail: str, lang: str, names: dict[str, str] | None = None) -> str:
    """A timeline step's detail in the page's language (asset ids by their names, readings in words)."""
    from .details import format_reading
    from .i18n import t

    for pattern, key in _STEPS:
        m = pattern.match(detail or "")
        if m is None:
            continue
        fmt = m.groupdict()
        if "asset" in fmt:
            fmt["asset"] = (names or {}).get(fmt["asset"]) or fmt["asset"]
        if "field" in fmt:
            field = fmt["field"]
            fmt["shown"], fmt["wanted"] = (format_reading(field, _literal(fmt[k]), lang, None) for k in ("shown", "wanted"))
            fmt["field"] = t(f"value.{field}", lang)
        return ct(key, lang, **fmt)
    return detail or ""


def _literal(text: str) -> object:
    """A value as Python's repr wrote it ('off', 0.5, True) back to a value."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
