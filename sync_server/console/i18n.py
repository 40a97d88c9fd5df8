"""The console's words, French first and English second, in one typed table.

Every text a page shows is a key of :data:`MESSAGES` with both languages; templates call ``t("key")``
(``t("key", n=3)`` fills ``{n}``). A key missing from the table, or a language missing from a key, is an
error at import (the table is checked below) or at render (``KeyError``), never a silently English page.
Error codes of the services (``unknown_site``, ``user_exists``…) have entries ``error.<code>`` so a refusal is
shown in the page's language; an unknown code falls back to the service's own message.
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

Language = Literal["fr", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("fr", "en")
DEFAULT_LANGUAGE: Final[Language] = "fr"


class Message(NamedTuple):
    fr: str
    en: str


M = Message
MESSAGES: Final[dict[str, Message]] = {
    # layout
    "app.name": M("Kiosque QLQ-C30 — console du centre", "Kiosque QLQ-C30 — centre console"),
    "nav.label": M("Navigation principale", "Main navigation"),
    "nav.dashboard": M("Tableau de bord", "Dashboard"),
    "nav.export": M("Export", "Export"),
    "nav.sites": M("Sites", "Sites"),
    "nav.devices": M("Tablettes", "Devices"),
    "nav.users": M("Utilisateurs", "Users"),
    "nav.audit": M("Journal d'audit", "Audit log"),
    "nav.gdpr": M("RGPD", "GDPR"),
    "nav.logout": M("Se déconnecter", "Log out"),
    "nav.signed_in": M("Connecté : {name} ({role})", "Signed in: {name} ({role})"),
    "nav.skip": M("Aller au contenu", "Skip to content"),
    "lang.switch": M("English", "Français"),
    "lang.switch_label": M("Read this page in English", "Lire cette page en français"),
    "role.admin": M("administrateur", "administrator"),
    "role.researcher": M("chercheur", "researcher"),
    "common.filter": M("Filtrer", "Filter"),
    "common.site": M("Site", "Site"),
    "common.all_sites": M("Tous les sites", "All sites"),
    "common.from": M("Du", "From"),
    "common.to": M("Au", "To"),
    "common.none": M("—", "—"),
    "common.yes": M("oui", "yes"),
    "common.no": M("non", "no"),
    "common.cancel": M("Annuler", "Cancel"),
    "common.error": M("Erreur : {message}", "Error: {message}"),
    "common.done": M("Fait : {message}", "Done: {message}"),
    "common.created_at": M("Créé le", "Created"),
    # login
    "login.title": M("Connexion", "Sign in"),
    "login.intro": M(
        "Connectez-vous avec votre compte de chercheur ou d'administrateur.",
        "Sign in with your researcher or administrator account.",
    ),
    "login.username": M("Identifiant", "Username"),
    "login.password": M("Mot de passe", "Password"),
    "login.submit": M("Se connecter", "Sign in"),
    "login.failed": M("Identifiant ou mot de passe incorrect.", "Wrong username or password."),
    "login.rate_limited": M(
        "Trop de tentatives : réessayez dans {seconds} s.", "Too many attempts: try again in {seconds} s."
    ),
    "login.expired": M("Votre session a expiré : reconnectez-vous.", "Your session has expired: sign in again."),
    "login.logged_out": M("Vous êtes déconnecté.", "You are signed out."),
    # errors
    "forbidden.title": M("Accès refusé", "Access denied"),
    "forbidden.role": M("Cette page est réservée au rôle {roles}.", "This page is for the role {roles} only."),
    "forbidden.csrf": M(
        "Formulaire refusé : jeton de sécurité absent ou invalide. Rechargez la page et réessayez.",
        "Form refused: its security token is missing or invalid. Reload the page and try again.",
    ),
    "notfound.title": M("Introuvable", "Not found"),
    "error.unknown_site": M("Site inconnu.", "Unknown site."),
    "error.site_exists": M("Ce site existe déjà.", "This site already exists."),
    "error.user_exists": M("Cet utilisateur existe déjà.", "This user already exists."),
    "error.unknown_user": M("Utilisateur inconnu.", "Unknown user."),
    "error.cannot_change_self": M(
        "Vous ne pouvez pas désactiver ni rétrograder votre propre compte : demandez à un autre administrateur.",
        "You cannot disable or demote your own account: ask another admin.",
    ),
    "error.last_admin": M(
        "C'est le dernier administrateur actif : créez ou réactivez d'abord un autre administrateur.",
        "This is the last enabled admin: create or enable another admin first.",
    ),
    "error.unknown_device": M("Tablette inconnue.", "Unknown device."),
    "error.unknown_session": M("Aucune session avec cet identifiant.", "No session with this id."),
    "error.unknown_instrument": M("Questionnaire inconnu.", "Unknown questionnaire."),
    "error.invalid_filter": M("La date de début est après la date de fin.", "The start date is after the end date."),
    "error.invalid_date": M("Date invalide (format AAAA-MM-JJ).", "Invalid date (format YYYY-MM-DD)."),
    "error.invalid_uuid": M("Identifiant de session invalide.", "Invalid session id."),
    "error.confirm_mismatch": M(
        "L'identifiant retapé ne correspond pas : rien n'a été supprimé.",
        "The id typed again does not match: nothing was deleted.",
    ),
    "error.invalid_days": M(
        "Nombre de jours invalide (entier de 1 à 36 500).", "Invalid number of days (a whole number from 1 to 36,500)."
    ),
    # dashboard
    "dash.title": M("Tableau de bord de la collecte", "Collection dashboard"),
    "dash.summary": M("Résumé de la sélection", "Summary of the selection"),
    "dash.started": M("Sessions commencées", "Sessions started"),
    "dash.completed": M("Complétées", "Completed"),
    "dash.abandoned": M("Abandonnées", "Abandoned"),
    "dash.median": M("Durée médiane (complétées)", "Median duration (completed)"),
    "dash.voice_share": M("Réponses à la voix", "Answers by voice"),
    "dash.confirm_share": M("Réponses vocales à confirmer", "Voice answers needing confirmation"),
    "dash.month": M("Mois", "Month"),
    "dash.sessions_chart": M("Sessions par site et par mois", "Sessions per site and month"),
    "dash.sessions_chart_desc": M(
        "Barres empilées : sessions complétées puis abandonnées.", "Stacked bars: completed then abandoned sessions."
    ),
    "dash.voice_chart": M("Usage de la voix par site et par mois", "Voice use per site and month"),
    "dash.voice_chart_desc": M(
        "Part des réponses données à la voix, et part des réponses vocales confirmées.",
        "Share of answers given by voice, and share of voice answers that were confirmed.",
    ),
    "dash.missing_chart": M(
        "Réponses manquantes par item (sessions complétées)", "Missing answers per item (completed sessions)"
    ),
    "dash.missing_chart_desc": M(
        "Nombre de sessions complétées sans réponse à l'item, sur {n}.",
        "Completed sessions with no answer to the item, out of {n}.",
    ),
    "dash.table": M("Tableau par site et par mois", "Table per site and month"),
    "dash.item": M("Item", "Item"),
    "dash.missing": M("Manquantes", "Missing"),
    "dash.missing_share": M("Part manquante", "Share missing"),
    "dash.empty": M("Aucune session dans cette sélection.", "No session in this selection."),
    "dash.total": M("Total", "Total"),
    "dash.seconds": M("{value} s", "{value} s"),
    "dash.minutes": M("{minutes} min {seconds} s", "{minutes} min {seconds} s"),
    # export
    "export.title": M("Exporter les sessions", "Export sessions"),
    "export.intro": M(
        "Le fichier est le même que celui de l'API (GET /v1/exports/…) ; chaque export est inscrit "
        "au journal d'audit avant l'envoi du premier octet.",
        "The file is the same as the API's (GET /v1/exports/…); every export is written to the "
        "audit log before its first byte is sent.",
    ),
    "export.format": M("Format", "Format"),
    "export.fmt.csv-wide": M("CSV large (une ligne par session)", "CSV wide (one row per session)"),
    "export.fmt.csv-long": M("CSV long (une ligne par réponse)", "CSV long (one row per answer)"),
    "export.fmt.sav": M("SPSS (.sav)", "SPSS (.sav)"),
    "export.fmt.fhir": M("FHIR R4 (Bundle JSON)", "FHIR R4 (JSON Bundle)"),
    "export.instrument": M("Questionnaire", "Questionnaire"),
    "export.completed_only": M("Sessions complétées seulement", "Completed sessions only"),
    "export.include_birth_date": M(
        "Inclure les dates de naissance (jamais pour les sessions anonymisées)",
        "Include birth dates (never for anonymized sessions)",
    ),
    "export.submit": M("Télécharger", "Download"),
    # sites
    "sites.title": M("Sites", "Sites"),
    "sites.code": M("Code", "Code"),
    "sites.name": M("Nom", "Name"),
    "sites.create": M("Créer un site", "Create a site"),
    "sites.code_help": M("1 à 32 lettres, chiffres, « - » ou « _ ».", "1–32 letters, digits, '-' or '_'."),
    "sites.created": M("site {code} créé", "site {code} created"),
    "sites.none": M("Aucun site.", "No site yet."),
    # devices
    "devices.title": M("Tablettes", "Devices"),
    "devices.name": M("Nom", "Name"),
    "devices.last_seen": M("Dernier contact", "Last contact"),
    "devices.last_submission": M("Dernière session reçue", "Last session received"),
    "devices.status": M("État", "Status"),
    "devices.active": M("active", "active"),
    "devices.revoked_at": M("révoquée le {at}", "revoked {at}"),
    "devices.revoke": M("Révoquer", "Revoke"),
    "devices.revoke_named": M("Révoquer {name}", "Revoke {name}"),
    "devices.none": M("Aucune tablette enrôlée.", "No device enrolled yet."),
    "devices.enroll": M("Enrôler une tablette", "Enroll a device"),
    "devices.enroll_help": M(
        "Crée un code à usage unique, valable {hours} h, à saisir ou scanner sur la tablette.",
        "Creates a one-time code, valid {hours} h, to type or scan on the tablet.",
    ),
    "devices.enroll_submit": M("Créer un code d'enrôlement", "Create an enrollment code"),
    "devices.code_title": M("Code d'enrôlement pour {site}", "Enrollment code for {site}"),
    "devices.code_expires": M("Valable une seule fois, jusqu'au {at}.", "Single use, valid until {at}."),
    "devices.code_qr": M("QR code du code d'enrôlement {code}", "QR code of enrollment code {code}"),
    "devices.code_warning": M(
        "Ce code ne sera plus affiché : notez-le ou scannez-le maintenant.",
        "This code will not be shown again: write it down or scan it now.",
    ),
    "devices.back": M("Retour aux tablettes", "Back to devices"),
    "devices.confirm_title": M("Révoquer la tablette {name} ?", "Revoke device {name}?"),
    "devices.confirm_text": M(
        "La tablette ne pourra plus envoyer de session ; il faudra l'enrôler de nouveau.",
        "The device will no longer be able to send sessions; it must be enrolled again.",
    ),
    "devices.confirm_submit": M("Oui, révoquer", "Yes, revoke"),
    "devices.revoked": M("tablette {name} révoquée", "device {name} revoked"),
    # users
    "users.title": M("Utilisateurs", "Users"),
    "users.username": M("Identifiant", "Username"),
    "users.role": M("Rôle", "Role"),
    "users.status": M("État", "Status"),
    "users.enabled": M("actif", "enabled"),
    "users.disabled_at": M("désactivé le {at}", "disabled {at}"),
    "users.actions": M("Actions", "Actions"),
    "users.create": M("Créer un utilisateur", "Create a user"),
    "users.password": M("Mot de passe (12 caractères au moins)", "Password (at least 12 characters)"),
    "users.new_password": M("Nouveau mot de passe pour {name}", "New password for {name}"),
    "users.reset": M("Réinitialiser", "Reset"),
    "users.set_role": M("Rôle de {name}", "Role of {name}"),
    "users.change_role": M("Changer", "Change"),
    "users.disable": M("Désactiver {name}", "Disable {name}"),
    "users.enable": M("Réactiver {name}", "Enable {name}"),
    "users.revoke_tokens": M("Fermer les sessions de {name}", "Sign {name} out everywhere"),
    "users.enabled_done": M("utilisateur {name} réactivé", "user {name} enabled"),
    "users.tokens_revoked": M("sessions de {name} fermées", "{name} signed out everywhere"),
    "users.created": M("utilisateur {name} créé", "user {name} created"),
    "users.disabled": M("utilisateur {name} désactivé", "user {name} disabled"),
    "users.password_reset": M("mot de passe de {name} réinitialisé", "password of {name} reset"),
    "users.role_changed": M("rôle de {name} : {role}", "role of {name}: {role}"),
    # audit
    "audit.title": M("Journal d'audit", "Audit log"),
    "audit.at": M("Date (UTC)", "When (UTC)"),
    "audit.actor": M("Acteur", "Actor"),
    "audit.action": M("Action", "Action"),
    "audit.all_actions": M("Toutes les actions", "All actions"),
    "audit.rows": M("Lignes", "Rows"),
    "audit.sessions": M("Sessions", "Sessions"),
    "audit.detail": M("Détail", "Detail"),
    "audit.session": M("Identifiant de session", "Session id"),
    "audit.birth_dates": M("Dates de naissance", "Birth dates"),
    "audit.older": M("Page suivante (plus anciens)", "Next page (older)"),
    "audit.first": M("Première page", "First page"),
    "audit.pages": M("Pages du journal", "Log pages"),
    "audit.none": M("Aucun évènement pour ce filtre.", "No event for this filter."),
    "audit.more_sessions": M("… et {n} autres", "… and {n} more"),
    # gdpr
    "gdpr.title": M("RGPD : droits des patients", "GDPR: patients' rights"),
    "gdpr.find": M("Trouver une session", "Find a session"),
    "gdpr.session_id": M("Identifiant de session (UUID)", "Session id (UUID)"),
    "gdpr.show": M("Afficher tout ce qui est conservé", "Show everything held"),
    "gdpr.held": M("Données conservées pour la session {id}", "Data held for session {id}"),
    "gdpr.audited": M(
        "Cette consultation est inscrite au journal d'audit.", "This access is written to the audit log."
    ),
    "gdpr.patient": M("Patient", "Patient"),
    "gdpr.initials": M("Initiales", "Initials"),
    "gdpr.birth_date": M("Date de naissance", "Birth date"),
    "gdpr.age": M("Âge à la session", "Age at session"),
    "gdpr.age_band": M("Tranche d'âge", "Age band"),
    "gdpr.session": M("Session", "Session"),
    "gdpr.field": M("Champ", "Field"),
    "gdpr.value": M("Valeur", "Value"),
    "gdpr.answers": M("Réponses", "Answers"),
    "gdpr.scores": M("Scores", "Scores"),
    "gdpr.payload": M("Données reçues telles quelles (JSON)", "Data as received (JSON)"),
    "gdpr.anonymize": M("Anonymiser", "Anonymize"),
    "gdpr.anonymize_help": M(
        "Efface initiales, date de naissance et âge exact ; garde la tranche d'âge.",
        "Erases initials, birth date and exact age; keeps the age band.",
    ),
    "gdpr.anonymized": M("session anonymisée", "session anonymized"),
    "gdpr.already_anonymized": M("session déjà anonymisée", "session already anonymized"),
    "gdpr.delete": M("Supprimer définitivement", "Delete for good"),
    "gdpr.delete_help": M(
        "Retapez l'identifiant de la session pour confirmer la suppression (réponses et scores "
        "compris). C'est irréversible.",
        "Type the session id again to confirm the deletion (answers and scores included). This cannot be undone.",
    ),
    "gdpr.confirm_id": M("Identifiant de la session, retapé", "Session id, typed again"),
    "gdpr.deleted": M("session {id} supprimée", "session {id} deleted"),
    "gdpr.purge": M("Purge de conservation", "Retention purge"),
    "gdpr.purge_help": M(
        "Supprime les sessions dont la date est plus ancienne que N jours. Un essai à blanc "
        "d'abord : il compte sans rien supprimer.",
        "Deletes the sessions whose date is older than N days. A dry run first: it counts without deleting anything.",
    ),
    "gdpr.days": M("Plus anciennes que (jours)", "Older than (days)"),
    "gdpr.dry_run": M("Essai à blanc", "Dry run"),
    "gdpr.dry_run_result": M(
        "Essai à blanc : {n} session(s) de plus de {days} jours seraient supprimées.",
        "Dry run: {n} session(s) older than {days} days would be deleted.",
    ),
    "gdpr.purge_submit": M("Supprimer ces {n} session(s)", "Delete these {n} session(s)"),
    "gdpr.purged": M("{n} session(s) supprimée(s) par la purge", "{n} session(s) deleted by the purge"),
    "gdpr.anonymized_flag": M("Anonymisée", "Anonymized"),
    "gdpr.outcome": M("Issue", "Outcome"),
    "gdpr.session_date": M("Date de la session", "Session date"),
    "gdpr.received_at": M("Reçue le", "Received"),
    "gdpr.device": M("Tablette", "Device"),
    "gdpr.source": M("Source", "Source"),
    "gdpr.status": M("Statut", "Status"),
    "gdpr.method": M("Mode", "Method"),
    "gdpr.confirmed": M("Confirmée", "Confirmed"),
}


def _check(table: dict[str, Message]) -> None:
    for key, message in table.items():
        for language in LANGUAGES:
            if not getattr(message, language).strip():
                raise ValueError(f"console message {key!r} has no {language} text")


_check(MESSAGES)


def translate(language: Language, key: str, **values: object) -> str:
    text: str = getattr(MESSAGES[key], language)
    return text.format(**values) if values else text


def pick_language(value: str | None) -> Language:
    return "en" if value == "en" else DEFAULT_LANGUAGE
