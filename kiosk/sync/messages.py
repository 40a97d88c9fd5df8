"""French texts of the sync for the nurse and admin screens: what happened, and what to do.

Server error codes (``{"error": {"code", ...}}``, see docs/server.md) get a plain-French explanation here; the
server's own (English) message is kept in the queue for IT.
"""

from __future__ import annotations

from datetime import timedelta

NOT_ENROLLED = (
    "Cette tablette n'est pas encore reliée au serveur du centre : les questionnaires restent "
    "enregistrés sur la tablette. Demandez à l'administrateur de l'enregistrer (Réglages, « Serveur du "
    "centre »)."
)
REENROLL = (
    "Le serveur du centre ne reconnaît plus cette tablette (jeton refusé ou appareil révoqué). Les "
    "questionnaires restent enregistrés sur la tablette. Demandez à l'administrateur de réenregistrer la "
    "tablette (Réglages, « Serveur du centre », « Réenregistrer »)."
)
NETWORK = (
    "Le serveur du centre est injoignable (réseau absent ou serveur arrêté). Les questionnaires restent "
    "enregistrés sur la tablette et seront envoyés automatiquement dès que possible."
)
TIMEOUT = (
    "Le serveur du centre n'a pas répondu à temps. Les questionnaires restent enregistrés sur la tablette et "
    "seront renvoyés automatiquement."
)
SERVER_ERROR = (
    "Le serveur du centre a rencontré un problème. Les questionnaires restent enregistrés sur la "
    "tablette et seront renvoyés automatiquement. Si cela dure, prévenez le service informatique."
)
SERVER_BUSY = (
    "Le serveur du centre est momentanément surchargé ou en maintenance. Les questionnaires restent "
    "enregistrés sur la tablette et seront renvoyés automatiquement."
)
UNEXPECTED_REPLY = (
    "Le serveur a répondu de façon inattendue (adresse du serveur erronée ou proxy du réseau ?). "
    "Les questionnaires restent enregistrés sur la tablette. Prévenez le service informatique."
)
TLS = (
    "Le certificat de sécurité du serveur n'est pas reconnu : la connexion a été refusée pour protéger les "
    "données. Les questionnaires restent enregistrés sur la tablette. Prévenez le service informatique "
    "(certificat du serveur ou autorité de certification de l'hôpital à configurer)."
)
KEYRING = (
    "Le jeton de la tablette ne peut pas être lu dans le trousseau de clés. Les questionnaires restent "
    "enregistrés sur la tablette. Prévenez le service informatique."
)
HTTP_REFUSED = (
    "L'adresse du serveur doit commencer par https:// (connexion chiffrée). Le http:// simple n'est "
    "accepté qu'en développement, avec l'option prévue à cet effet."
)

REJECTED_BY_CODE = {
    "implausible_date": "le serveur juge une date invraisemblable (vérifiez l'horloge de la tablette)",
    "submission_conflict": "le serveur a déjà reçu une autre version de ce questionnaire",
    "invalid_payload": "le questionnaire envoyé est mal formé",
    "invalid_value": "une valeur du questionnaire est refusée",
    "unknown_instrument": "le serveur ne connaît pas cette version du questionnaire",
    "answer_out_of_range": "une réponse est hors des valeurs permises",
    "scores_mismatch": "les scores calculés ne correspondent pas à ceux du serveur",
    "consent_missing": "le consentement du patient manque",
    "payload_too_large": "le questionnaire dépasse la taille acceptée par le serveur",
}


def rejected(code: str | None) -> str:
    """One parked submission, for the admin: why the centre refused it and that it stays on the tablet."""
    reason = REJECTED_BY_CODE.get(code or "", f"le serveur l'a refusé (code {code or 'inconnu'})")
    return (
        f"Questionnaire refusé par le serveur : {reason}. Il est conservé sur la tablette et ne sera pas "
        "renvoyé automatiquement ; prévenez le service informatique."
    )


def _duration(delta: timedelta) -> str:
    seconds = round(abs(delta.total_seconds()) / 60) * 60  # to the nearest minute
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(f"{days} jour{'s' if days > 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if minutes or not parts:
        parts.append(f"{minutes} min")
    return " ".join(parts)


def clock_skew(skew: timedelta) -> str:
    """``skew`` = tablet time minus server time."""
    direction = "avance" if skew > timedelta(0) else "retarde"
    return (
        f"L'horloge de la tablette {direction} de {_duration(skew)} par rapport au serveur du centre. Faites "
        "régler la date et l'heure de la tablette : sinon le serveur risque de refuser les questionnaires "
        "(date invraisemblable)."
    )


_ENROLL_CAUSES = {
    "timeout": "le serveur n'a pas répondu à temps",
    "tls": (
        "le certificat de sécurité du serveur n'est pas reconnu (certificat du serveur ou autorité de "
        "certification de l'hôpital à configurer)"
    ),
    "network": "le serveur est injoignable (adresse, réseau ou serveur arrêté)",
}


def enroll_failed(kind: str) -> str:
    cause = _ENROLL_CAUSES.get(kind, _ENROLL_CAUSES["network"])
    return f"L'enregistrement n'a pas été fait : {cause}. Vérifiez l'adresse du serveur et réessayez."
