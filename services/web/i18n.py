"""The words of the sign-in and admin pages and of the refusals people read, in French (by default) and English.

Templates call `t(key, **kw)` (init_security's context processor binds the request's language); Python calls
`words(key, lang, **kw)`. The Dash pages have their own catalogs under layouts/.
"""
from __future__ import annotations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

_FR: dict[str, str] = {
    "nav.accounts": "Comptes", "nav.tokens": "Jetons", "nav.audit": "Journal d'audit", "nav.signout": "Se déconnecter",
    "signin.title": "Connexion", "signin.heading": "Se connecter à Vigie", "signin.name": "Nom",
    "signin.password": "Mot de passe", "signin.submit": "Se connecter",
    "signin.first_start": "Aucun compte n'existe encore. L'administrateur crée le premier avec {command} "
                          "ou les variables {variables}.",
    "signin.device_link": "Écran mural ou borne ? Connectez-le avec un jeton d'appareil.",
    "signin.throttled": "Trop de connexions échouées. Réessayez dans {wait} s.",
    "signin.wrong": "Nom ou mot de passe incorrect, ou compte désactivé.",
    "form.expired": "Le formulaire a expiré ; veuillez réessayer.",
    "signout.title": "Déconnexion", "signout.heading": "Se déconnecter", "signout.submit": "Se déconnecter",
    "signout.submit_as": "Déconnecter {name}",
    "device.title": "Connexion d'un écran mural", "device.heading": "Écran mural ou borne",
    "device.hint": "Collez une seule fois le jeton d'appareil ({command}). Ce navigateur reste ensuite connecté, "
                   "en lecture seule, même après un redémarrage, jusqu'à ce que le jeton soit révoqué.",
    "device.token": "Jeton d'appareil", "device.submit": "Connecter cet écran",
    "device.throttled": "Trop de tentatives échouées. Réessayez dans {wait} s.",
    "device.invalid": "Ce jeton d'appareil n'est pas valide.",
    "message.back": "Retour à Vigie",
    "col.name": "Nom", "col.role": "Rôle", "col.domains": "Domaines", "col.state": "État", "col.created": "Créé le",
    "col.change": "Modifier", "col.id": "Identifiant", "col.kind": "Type", "col.when": "Date", "col.who": "Qui",
    "col.ip": "Adresse IP", "col.action": "Action", "col.domain": "Domaine", "col.target": "Cible", "col.outcome": "Résultat",
    "col.detail": "Détail",
    "state.active": "actif", "state.disabled": "désactivé", "state.revoked": "révoqué le {when}",
    "role.viewer": "observateur", "role.operator": "opérateur", "role.engineer": "ingénieur", "role.trainer": "formateur",
    "role.admin": "administrateur",
    "domain.lighting": "éclairage", "domain.water": "eau", "domain.traffic": "trafic",
    "outcome.ok": "réussi", "outcome.refused": "refusé", "outcome.failed": "échoué", "outcome.expired": "expiré",
    "form.name": "Nom", "form.role": "Rôle", "form.domains": "Domaines (opérateurs et ingénieurs)",
    "form.password": "Mot de passe", "form.create": "Créer",
    "accounts.title": "Comptes", "accounts.enable": "Réactiver", "accounts.disable": "Désactiver",
    "accounts.new_password": "nouveau mot de passe", "accounts.reset": "Changer le mot de passe",
    "accounts.none": "Aucun compte.", "accounts.new": "Nouveau compte",
    "account.created": "Compte {name} créé ({role}).", "account.not_created": "Compte non créé : {why}",
    "account.password_set": "Nouveau mot de passe enregistré pour {name}.",
    "account.last_admin": "Refusé : c'est le dernier administrateur actif.",
    "account.not_changed": "Compte non modifié : {why}", "account.disabled": "Compte {name} désactivé.",
    "account.enabled": "Compte {name} réactivé.", "account.no_such_change": "Cette modification n'existe pas.",
    "tokens.title": "Jetons", "tokens.heading": "Jetons d'API et d'appareil",
    "tokens.copy": "Copiez ce jeton maintenant : il ne sera plus jamais affiché.",
    "tokens.kind_device": "appareil", "tokens.kind_api": "API", "tokens.created_by": "{when} par {who}",
    "tokens.revoke": "Révoquer", "tokens.none": "Aucun jeton.", "tokens.new": "Nouveau jeton",
    "tokens.device": "Écran mural ou borne (observateur, lecture seule)",
    "token.not_created": "Jeton non créé : {why}", "token.not_revoked": "Jeton non révoqué : {why}",
    "token.revoked": "Jeton {name} révoqué.",
    "audit.title": "Journal d'audit", "audit.since": "Du", "audit.until": "Au", "audit.user": "Utilisateur",
    "audit.action": "Action", "audit.action_hint": "signin, command, alarm…", "audit.outcome": "Résultat",
    "audit.any": "tous", "audit.search": "Rechercher", "audit.export": "Exporter en CSV",
    "audit.count": "{n} entrées.", "audit.count_one": "1 entrée.",
    "audit.count_capped": "{n} entrées (les {max} plus récentes ; affinez la recherche ou exportez).",
    "error.not_signed_in": "Connexion requise", "error.unknown_action": "Action inconnue", "error.role": "Accès refusé",
    "error.domain": "Accès refusé", "error.domain_required": "Domaine requis", "error.rate_limited": "Trop de demandes",
    "error.csrf": "Requête refusée", "error.unavailable": "Service indisponible", "error.not_found": "Page introuvable",
    "refusal.not_signed_in": "Connectez-vous d'abord.", "session.expired": "Votre session a expiré ; reconnectez-vous.",
    "refusal.unknown_action": "Action inconnue : {action}.",
    "refusal.role": "Refusé : {action} demande le rôle {roles} ; {who} est {role}.",
    "refusal.domain_required": "Refusé : {action} demande un domaine.",
    "refusal.domain": "Refusé : {who} agit sur {mine}, pas sur {domain}.", "refusal.no_domain": "aucun domaine",
    "refusal.rate_limited": "Refusé : plus de {count} {action} par minute ; attendez {wait} s.",
    "refusal.csrf": "Refusé : cette requête ne vient pas d'une page de Vigie (contrôle CSRF). Rechargez la page.",
    "refusal.unavailable": "Vigie ne parvient pas à joindre sa base de comptes ; réessayez dans un instant.",
}

_EN: dict[str, str] = {
    "nav.accounts": "Accounts", "nav.tokens": "Tokens", "nav.audit": "Audit log", "nav.signout": "Sign out",
    "signin.title": "Sign in", "signin.heading": "Sign in to Vigie", "signin.name": "Name", "signin.password": "Password",
    "signin.submit": "Sign in",
    "signin.first_start": "No account exists yet. The administrator creates the first one with {command} "
                          "or the {variables} variables.",
    "signin.device_link": "Wall screen or kiosk? Sign in with a device token.",
    "signin.throttled": "Too many failed sign-ins. Try again in {wait} s.",
    "signin.wrong": "Wrong name or password, or account disabled.",
    "form.expired": "The form expired; please try again.",
    "signout.title": "Sign out", "signout.heading": "Sign out", "signout.submit": "Sign out",
    "signout.submit_as": "Sign out {name}",
    "device.title": "Wall screen sign-in", "device.heading": "Wall screen or kiosk",
    "device.hint": "Paste the device token once ({command}). This browser then stays signed in, read-only, "
                   "across restarts, until the token is revoked.",
    "device.token": "Device token", "device.submit": "Sign this screen in",
    "device.throttled": "Too many failed attempts. Try again in {wait} s.",
    "device.invalid": "This is not a valid device token.",
    "message.back": "Back to Vigie",
    "col.name": "Name", "col.role": "Role", "col.domains": "Domains", "col.state": "State", "col.created": "Created",
    "col.change": "Change", "col.id": "Id", "col.kind": "Kind", "col.when": "When", "col.who": "Who", "col.ip": "From",
    "col.action": "Action", "col.domain": "Domain", "col.target": "Target", "col.outcome": "Outcome", "col.detail": "Detail",
    "state.active": "active", "state.disabled": "disabled", "state.revoked": "revoked {when}",
    "role.viewer": "viewer", "role.operator": "operator", "role.engineer": "engineer", "role.trainer": "trainer",
    "role.admin": "admin",
    "domain.lighting": "lighting", "domain.water": "water", "domain.traffic": "traffic",
    "outcome.ok": "ok", "outcome.refused": "refused", "outcome.failed": "failed", "outcome.expired": "expired",
    "form.name": "Name", "form.role": "Role", "form.domains": "Domains (operators and engineers)",
    "form.password": "Password", "form.create": "Create",
    "accounts.title": "Accounts", "accounts.enable": "Enable", "accounts.disable": "Disable",
    "accounts.new_password": "new password", "accounts.reset": "Reset password",
    "accounts.none": "No account.", "accounts.new": "New account",
    "account.created": "Account {name} created ({role}).", "account.not_created": "Not created: {why}",
    "account.password_set": "New password set for {name}.",
    "account.last_admin": "Refused: this is the last active admin.",
    "account.not_changed": "Not changed: {why}", "account.disabled": "Account {name} disabled.",
    "account.enabled": "Account {name} enabled.", "account.no_such_change": "No such change.",
    "tokens.title": "Tokens", "tokens.heading": "API and device tokens",
    "tokens.copy": "Copy this token now: it is shown only once.",
    "tokens.kind_device": "device", "tokens.kind_api": "API", "tokens.created_by": "{when} by {who}",
    "tokens.revoke": "Revoke", "tokens.none": "No token.", "tokens.new": "New token",
    "tokens.device": "Wall screen / kiosk (read-only viewer)",
    "token.not_created": "Not created: {why}", "token.not_revoked": "Not revoked: {why}",
    "token.revoked": "Token {name} revoked.",
    "audit.title": "Audit log", "audit.since": "From", "audit.until": "To", "audit.user": "User",
    "audit.action": "Action", "audit.action_hint": "signin, command, alarm…", "audit.outcome": "Outcome",
    "audit.any": "any", "audit.search": "Search", "audit.export": "Export CSV",
    "audit.count": "{n} entries.", "audit.count_one": "1 entry.",
    "audit.count_capped": "{n} entries (the newest {max}; narrow the search or export).",
    "error.not_signed_in": "Sign-in required", "error.unknown_action": "Unknown action", "error.role": "Refused",
    "error.domain": "Refused", "error.domain_required": "Domain required", "error.rate_limited": "Too many requests",
    "error.csrf": "Request refused", "error.unavailable": "Unavailable", "error.not_found": "Not found",
    "refusal.not_signed_in": "Sign in first.", "session.expired": "Your session expired; sign in again.",
    "refusal.unknown_action": "Unknown action {action}.",
    "refusal.role": "Refused: {action} needs the role {roles}; {who} is {role}.",
    "refusal.domain_required": "Refused: {action} needs a domain.",
    "refusal.domain": "Refused: {who} acts on {mine}, not on {domain}.", "refusal.no_domain": "none",
    "refusal.rate_limited": "Refused: more than {count} {action} a minute; wait {wait} s.",
    "refusal.csrf": "Refused: this request did not come from a Vigie page (CSRF check). Reload the page.",
    "refusal.unavailable": "Vigie cannot reach its account store; try again in a moment.",
}

_CATALOGS = {"fr": _FR, "en": _EN}


def language(lang: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Return a supported language code: `lang` if known, else `default` if known, else French."""
    return lang if lang in _CATALOGS else (default if default in _CATALOGS else DEFAULT_LANGUAGE)


def label(kind: str, code: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """Return the word for a code of some kind (`role`, `domain`, `outcome`), the code itself when it has none."""
    return _CATALOGS[language(lang)].get(f"{kind}.{code}", code)


def words(key: str, lang: str = DEFAULT_LANGUAGE, **fmt: object) -> str:
    """Return the text for `key` in `lang` (the key itself when missing), formatted with `fmt`."""
    text = _CATALOGS[language(lang)].get(key, key)
    return text.format(**fmt) if fmt else text
