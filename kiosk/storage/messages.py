"""The French texts that storage errors carry for the nurse screen, gathered in one place for review.

Each message says what happened and what to do. None of them contains patient data (initials, birth date):
they may be photographed and sent to the support desk. The database path is included on purpose, so that the
support desk knows which file to look at.
"""

from __future__ import annotations

from pathlib import Path

# Why a database file cannot be opened: the middle of the "illisible" message.
REASON_NOT_SQLITE = "ce n'est pas une base de données SQLite"
REASON_TRUNCATED = "le fichier est tronqué (il est plus court qu'une base de données valide)"
REASON_DAMAGED = "le contrôle d'intégrité a trouvé des pages endommagées"
REASON_NOT_OURS = "c'est une base de données SQLite qui n'appartient pas au kiosque"
REASON_PERMISSION = "l'accès au fichier est refusé (droits insuffisants)"
REASON_READ_ONLY = "le fichier est en lecture seule : le kiosque ne pourrait pas y enregistrer les réponses"
REASON_NOT_A_FILE = "ce chemin désigne un dossier ou un objet qui n'est pas un fichier"
REASON_EMPTY_WITH_JOURNAL = "le fichier est vide alors que son journal d'écriture (-wal) contient des données"
REASON_WRONG_KEY = (
    "la base chiffrée ne s'ouvre pas avec la clé de cette tablette (clé du trousseau remplacée, ou fichier endommagé)"
)


def reason_os_error(detail: str) -> str:
    return f"erreur de lecture du système ({detail})"


def reason_sqlite_error(code: str) -> str:
    return f"erreur SQLite {code}"


def unreadable(path: Path, reason: str) -> str:
    """The database file cannot be used: say so, reassure, and forbid the one harmful reflex (deleting it)."""
    return (
        f"La base de données locale est illisible (fichier {path}) : {reason}. "
        "Les réponses déjà enregistrées ne sont pas effacées. "
        "Ne supprimez pas ce fichier et ne le déplacez pas : appelez le support informatique en lui "
        "communiquant ce message. Le kiosque ne peut pas recueillir de questionnaire en attendant."
    )


def too_new(path: Path, revision: str) -> str:
    return (
        f"La base de données locale (fichier {path}) a été créée par une version plus récente du kiosque "
        f"(révision du schéma « {revision} »). Cette version-ci ne peut pas l'utiliser sans risquer de perdre "
        "des réponses. Les réponses déjà enregistrées ne sont pas effacées. "
        "Ne supprimez pas ce fichier : installez la dernière version du kiosque ou appelez le support informatique."
    )


def cannot_create(path: Path, detail: str) -> str:
    return (
        f"La base de données locale ne peut pas être créée (fichier {path}) : {detail}. "
        "Le kiosque ne peut pas recueillir de questionnaire en attendant. Appelez le support informatique."
    )


def upgrade_failed(path: Path, detail: str) -> str:
    return (
        f"La mise à jour de la base de données locale a échoué (fichier {path}) : {detail}. "
        "Les réponses déjà enregistrées ne sont pas effacées : la base est restée dans son état précédent. "
        "Ne supprimez pas ce fichier : appelez le support informatique."
    )


def unsafe_settings(path: Path, detail: str) -> str:
    return (
        f"La base de données locale (fichier {path}) ne peut pas être ouverte en mode d'écriture sûr ({detail}). "
        "Aucune réponse n'a été modifiée. Appelez le support informatique."
    )


KEY_NO_KEYRING = (
    "La base de données locale est chiffrée et sa clé doit être gardée dans le trousseau de clés du système, "
    "mais aucun trousseau sécurisé n'est disponible sur cette tablette. Le kiosque ne peut pas recueillir de "
    "questionnaire en attendant. Prévenez le service informatique (trousseau « Secret Service » sous Linux, "
    "Gestionnaire d'identification sous Windows)."
)
KEY_NOT_KEPT = (
    "Le trousseau de clés de la tablette n'a pas gardé la clé de chiffrement de la base de données locale. "
    "Aucune réponse n'a été enregistrée ni effacée. Prévenez le service informatique."
)


def key_lost(path: Path) -> str:
    return (
        f"La base de données locale (fichier {path}) est chiffrée, mais sa clé est introuvable dans le trousseau "
        "de clés de la tablette (trousseau réinitialisé ou autre compte utilisateur ?). Les réponses déjà "
        "enregistrées ne sont pas effacées. Ne supprimez pas ce fichier : appelez le support informatique, qui "
        "peut restaurer la clé. Le kiosque ne peut pas recueillir de questionnaire en attendant."
    )


def key_malformed(where: str) -> str:
    return (
        f"La clé de chiffrement de la base de données locale lue dans {where} n'est pas valide (64 chiffres "
        "hexadécimaux attendus). Aucune réponse n'a été modifiée. Appelez le support informatique."
    )


def encryption_failed(path: Path) -> str:
    return (
        f"Le chiffrement de la base de données locale a échoué (fichier {path}). La base est restée telle "
        "quelle : les réponses déjà enregistrées ne sont pas effacées. Ne supprimez pas ce fichier : appelez le "
        "support informatique."
    )


def write_failed(detail: str) -> str:
    return (
        f"L'enregistrement a échoué ({detail}). Les réponses enregistrées auparavant sont conservées. "
        "Réessayez ; si le problème continue, appelez le support informatique."
    )


DETAIL_DISK_FULL = "le stockage de la tablette est plein"
DETAIL_IO = "erreur d'écriture sur le stockage de la tablette"
DETAIL_BUSY = "la base de données est occupée par un autre programme"
DETAIL_READ_ONLY = "la base de données est en lecture seule"
DETAIL_OTHER = "erreur de la base de données locale"

SESSION_NOT_FOUND = (
    "La session à reprendre est introuvable dans la base de données locale. "
    "Commencez une nouvelle session ; si cela se reproduit, appelez le support informatique."
)

SESSION_UNREADABLE = (
    "La session enregistrée ne peut pas être relue. Elle n'est pas effacée. "
    "Commencez une nouvelle session et appelez le support informatique."
)

INSTRUMENT_MISMATCH = (
    "Cette session a été commencée avec une autre version du questionnaire : elle ne peut pas être reprise "
    "sur ce kiosque. Elle n'est pas effacée. Commencez une nouvelle session et appelez le support informatique."
)

SESSION_ALREADY_FINISHED = (
    "Cette session est déjà terminée et placée dans la file d'envoi : elle ne peut plus être modifiée. "
    "Rien n'a été changé."
)

SUBMISSION_CONFLICT = (
    "Cette session a déjà été placée dans la file d'envoi avec un contenu différent. Rien n'a été modifié. "
    "Appelez le support informatique."
)

STORE_CLOSED = (
    "La base de données locale a été fermée. Redémarrez le kiosque ; si cela se reproduit, appelez le "
    "support informatique."
)
