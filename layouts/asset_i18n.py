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
        "journal.raise": "Levée", "journal.clear": "Retour à la normale", "journal.acknowledge": "Acquittée",
        "journal.shelve": "Mise en veille", "journal.shelve_one_shot": "Mise en veille jusqu'au retour",
        "journal.unshelve": "Sortie de veille", "journal.shelf_expired": "Fin de veille", "journal.suppress": "Masquée",
        "journal.unsuppress": "Démasquée", "journal.remove_from_service": "Mise hors service",
        "journal.return_to_service": "Remise en service", "journal.assign": "Prise en charge", "journal.comment": "Commentaire",
        "journal.update": "Mise à jour",
    },
    "en": {
        "asset.title": "Asset", "asset.relations": "Relations", "asset.history": "Readings over the last 24 h",
        "asset.no_history": "No readings recorded over the last 24 h.",
        "asset.no_journal": "The journal is not available here: no history.",
        "asset.alarm_history": "Alarm history", "asset.command_history": "Command history",
        "asset.none": "none", "asset.back": "← Overview", "asset.map": "Show on the map",
        "asset.command": "Command", "asset.held": "held", "asset.link": "Permanent link",
        "journal.raise": "Raised", "journal.clear": "Returned to normal", "journal.acknowledge": "Acknowledged",
        "journal.shelve": "Shelved", "journal.shelve_one_shot": "Shelved until normal", "journal.unshelve": "Unshelved",
        "journal.shelf_expired": "Shelf expired", "journal.suppress": "Suppressed", "journal.unsuppress": "Unsuppressed",
        "journal.remove_from_service": "Removed from service", "journal.return_to_service": "Returned to service",
        "journal.assign": "Taken in hand", "journal.comment": "Comment", "journal.update": "Updated",
    },
}


def at(key: str, lang: str, **fmt: object) -> str:
    """A word of the asset page, else of the shared catalog."""
    text = _WORDS[language(lang)].get(key)
    if text is None:
        return t(key, lang, **fmt)
    return text.format(**fmt) if fmt else text
