"""The asset page's words (fr/en); everything else comes from the shared catalog."""
from __future__ import annotations

from .i18n import language, t

_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "asset.title": "Fiche équipement", "asset.relations": "Rattachements", "asset.history": "Mesures des dernières 24 h",
        "asset.no_history": "Aucune mesure enregistrée sur les dernières 24 h.",
        "asset.no_journal": "Le journal n'est pas disponible ici : historique indisponible.",
        "asset.alarm_history": "Historique des alarmes", "asset.command_history": "Historique des commandes",
        "asset.none": "aucune", "asset.back": "← Vue d'ensemble", "asset.map": "Voir sur la carte",
        "asset.command": "Commander", "asset.held": "en cours", "asset.link": "Lien permanent",
    },
    "en": {
        "asset.title": "Asset", "asset.relations": "Relations", "asset.history": "Readings over the last 24 h",
        "asset.no_history": "No readings recorded over the last 24 h.",
        "asset.no_journal": "The journal is not available here: no history.",
        "asset.alarm_history": "Alarm history", "asset.command_history": "Command history",
        "asset.none": "none", "asset.back": "← Overview", "asset.map": "Show on the map",
        "asset.command": "Command", "asset.held": "held", "asset.link": "Permanent link",
    },
}


def at(key: str, lang: str, **fmt: object) -> str:
    """A word of the asset page, else of the shared catalog."""
    text = _WORDS[language(lang)].get(key)
    if text is None:
        return t(key, lang, **fmt)
    return text.format(**fmt) if fmt else text
