"""French vocabulary for understanding a spoken QLQ-C30 answer, as data, and how French words sound.

Every phrase is written *normalised* (lowercase, no accents, apostrophes and hyphens as spaces), exactly as
:func:`kiosk.domain.answers.normalise` produces it, so that it can be looked up token for token. The parser
(:mod:`kiosk.domain.answers`) owns the rules; this module only says which words mean what, so that a linguist
or a support engineer can extend it without reading the parsing code. (A few English labels
lived here before :mod:`kiosk.domain.answer_lexicon_en`; English is now its own lexicon.)

Weak entries (``*_WEAK``, ``*_VARIANTS``, ``ORDINALS``, ``NUMBER_HOMOPHONES``) are never accepted without the
patient's confirmation; the parser's ``reason`` names them for support staff.

:func:`phonetic_key` is a deliberately rough French pronunciation (rules in ``PHONETIC_RULES``), used only to
recognise *unseen* mishearings of the labels ("bocoups", "pas du toue"), always with confirmation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

LANGUAGE: Final[str] = "fr"

# --- Answers on the 4-point scale (items 1-28) ----------------------------------------------------------
#: The validated labels (and exact paraphrases of them): accepted as they are.
LIKERT: Final[dict[str, int]] = {
    "pas du tout": 1,
    "pas du tout du tout": 1,
    "un peu": 2,
    "un petit peu": 2,
    "un tout petit peu": 2,
    "assez": 3,
    "beaucoup": 4,
}

#: Paraphrases that probably mean a scale point but are not its label: confirmed.
LIKERT_WEAK: Final[dict[str, tuple[int, str]]] = {
    "du tout": (1, "partial phrase 'du tout' for 'pas du tout'"),
    "rien du tout": (1, "paraphrase 'rien du tout' for 'pas du tout'"),
    "point du tout": (1, "paraphrase 'point du tout' for 'pas du tout'"),
    "absolument pas": (1, "paraphrase 'absolument pas' for 'pas du tout'"),
    "peu": (2, "'peu' without 'un' (truncated 'un peu'?)"),
    "tres peu": (2, "paraphrase 'tres peu' for 'un peu'"),
    "legerement": (2, "paraphrase 'legerement' for 'un peu'"),
    "enormement": (4, "paraphrase 'enormement' for 'beaucoup'"),
}

#: Known recogniser mishearings of the labels: confirmed. Unseen ones are caught by the phonetic fuzzy match.
LIKERT_VARIANTS: Final[dict[str, int]] = {
    "pas du tou": 1,
    "pas du toux": 1,
    "pas du tous": 1,
    "pas de tout": 1,
    "pas du tour": 1,
    "pas du to": 1,
    "un peut": 2,
    "un peux": 2,
    "un pneu": 2,
    "un pneus": 2,
    "in peu": 2,
    "hein peu": 2,
    "un pe": 2,
    "impeu": 2,
    "un pet": 2,
    "un peu peu": 2,
    "hum peu": 2,
    "asse": 3,
    "assee": 3,
    "asser": 3,
    "asset": 3,
    "assai": 3,
    "assay": 3,
    "hassez": 3,
    "ace": 3,
    "a c": 3,
    "a ces": 3,
    "a ses": 3,
    "a se": 3,
    "a ce": 3,
    "as c": 3,
    "ah c": 3,
    "ha c": 3,
    "beau coup": 4,
    "bocou": 4,
    "bocoup": 4,
    "beaucou": 4,
    "bo cou": 4,
    "beau cou": 4,
    "boucoup": 4,
    "beaucoups": 4,
    "baucoup": 4,
    "bo coup": 4,
}

#: Labels the phonetic fuzzy match compares unknown words with (French only; numbers are never fuzzy).
FUZZY_TARGETS: Final[tuple[str, ...]] = (
    "pas du tout",
    "un peu",
    "un petit peu",
    "assez",
    "beaucoup",
    "tres mauvais",
    "excellent",
)

#: The old prototype's label for 3. Alone it is taken as 3 *with confirmation*; next to another answer it is
#: just "rather" (a filler); between two answers it marks a self-correction ("un peu, plutot assez").
LEGACY_PLUTOT: Final[str] = "plutot"

# --- End labels of the 1-7 scale (items 29-30) -----------------------------------------------------------
LABELS_7: Final[dict[str, int]] = {
    "tres mauvais": 1,
    "tres mauvaise": 1,
    "excellent": 7,
    "excellente": 7,
}
LABELS_7_VARIANTS: Final[dict[str, int]] = {
    "tres mauve": 1,
    "tres mauvai": 1,
    "tre mauvais": 1,
    "tres mauvaises": 1,
    "excellant": 7,
    "exelent": 7,
    "excelent": 7,
    "ex cellent": 7,
    "excellents": 7,
    "excellentes": 7,
}

# --- Numbers ----------------------------------------------------------------------------------------------
#: Number words accepted as they are ("un"/"une" are special: see ARTICLE_LIKE and the parser's docstring).
NUMBERS: Final[dict[str, int]] = {
    "zero": 0,
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
    "dix sept": 17,
    "dix huit": 18,
    "dix neuf": 19,
    "vingt": 20,
    "trente": 30,
    "cent": 100,
    "mille": 1000,
}

#: Words that sound like a number (or are a mishearing of one): always confirmed.
NUMBER_HOMOPHONES: Final[dict[str, int]] = {
    "in": 1,
    "hein": 1,
    "de": 2,
    "d": 2,
    "deu": 2,
    "deus": 2,
    "d eux": 2,
    "troi": 3,
    "troie": 3,
    "troy": 3,
    "trwa": 3,
    "quatres": 4,
    "quatr": 4,
    "katre": 4,
    "katr": 4,
    "cat": 4,
    "catre": 4,
    "quattre": 4,
    "kat": 4,
    "saint": 5,
    "sein": 5,
    "sain": 5,
    "seing": 5,
    "cinque": 5,
    "sinq": 5,
    "sink": 5,
    "scie": 6,
    "si": 6,
    "sis": 6,
    "cis": 6,
    "ci": 6,
    "cice": 6,
    "cette": 7,
    "set": 7,
    "sete": 7,
    "cet": 7,
    "sette": 7,
    "seth": 7,
    "sets": 7,
}

#: Ordinals ("la troisieme"): the meaning is clear but the word is not a scale label, so confirmed.
ORDINALS: Final[dict[str, int]] = {
    "premier": 1,
    "premiere": 1,
    "deuxieme": 2,
    "second": 2,
    "seconde": 2,
    "troisieme": 3,
    "quatrieme": 4,
    "cinquieme": 5,
    "sixieme": 6,
    "septieme": 7,
    "huitieme": 8,
}

#: Number words that are also articles, prepositions or determiners ("un mal de tete", "beaucoup de
#: douleur", "cette semaine"): they count as a number only when no ordinary word follows them.
ARTICLE_LIKE: Final[frozenset[str]] = frozenset({"un", "une", "de", "d", "cette", "cet", "si", "in"})
#: Articles that, right before a number, are not the answer 1 ("c'est un six", "je dirais un cinq").
INDEFINITE_ARTICLES: Final[frozenset[str]] = frozenset({"un", "une"})
#: The words for 1 that an introducer ("numero un", "le un") makes a plain number.
ONE_WORDS: Final[frozenset[str]] = frozenset({"un", "une", "1"})
#: Digits as the recogniser writes them, read like the words ("1 peu" is "un peu", "3" is "trois").
DIGIT_WORDS: Final[dict[str, str]] = {
    str(n): w
    for n, w in enumerate(
        [
            "zero",
            "un",
            "deux",
            "trois",
            "quatre",
            "cinq",
            "six",
            "sept",
            "huit",
            "neuf",
            "dix",
            "onze",
            "douze",
            "treize",
            "quatorze",
            "quinze",
            "seize",
            "dix sept",
            "dix huit",
            "dix neuf",
            "vingt",
        ]
    )
}

#: Fillers that may follow a number said as an answer ("un, euh...", "un ou deux", "sept, voila"). Any other
#: following word makes an ARTICLE_LIKE word an ordinary word ("si je...", "de plus", "une fois").
NUMBER_FOLLOWERS: Final[frozenset[str]] = frozenset(
    {
        "ou",
        "et",
        "euh",
        "heu",
        "hein",
        "quoi",
        "voila",
        "oui",
        "non",
        "nan",
        "bon",
        "ben",
        "bah",
        "hmm",
        "hm",
        "mmh",
        "merci",
        "s il vous plait",
        "svp",
        "enfin",
        "pardon",
        "mais",
        "je crois",
        "je pense",
        "peut etre",
        "sur",
        "ou plutot",
        "en fait",
        "je veux dire",
        "plutot",
        "ok",
        "d accord",
    }
)

#: Words that introduce a number ("numero trois", "le un"): the number after them is meant as a number,
#: so even "un" is accepted without confirmation.
INTRODUCERS: Final[frozenset[str]] = frozenset(
    {
        "numero",
        "le numero",
        "chiffre",
        "le chiffre",
        "la reponse",
        "reponse",
        "ma reponse",
        "ma reponse est",
        "la note",
        "note",
        "le",
        "la",
        "je mets",
        "je mettrais",
        "je choisis",
        "je choisirais",
        "je prends",
        "je donne",
        "je donnerais",
        "je vais mettre",
        "je dis",
    }
)

# --- Commands ---------------------------------------------------------------------------------------------
COMMANDS: Final[dict[str, str]] = {
    **dict.fromkeys(
        [
            "repeter",
            "repetez",
            "repete",
            "repetes",
            "pouvez vous repeter",
            "vous pouvez repeter",
            "pourriez vous repeter",
            "tu peux repeter",
            "peux tu repeter",
            "est ce que vous pouvez repeter",
            "encore une fois",
            "une autre fois",
            "redites",
            "redire",
            "redis",
            "vous pouvez redire",
            "relisez",
            "relire",
            "j ai pas compris",
            "je n ai pas compris",
            "pas compris",
            "j ai rien compris",
            "j ai pas bien compris",
            "je n ai pas bien compris",
            "je comprends pas",
            "je ne comprends pas",
            "j ai pas entendu",
            "je n ai pas entendu",
            "pas entendu",
            "j ai pas bien entendu",
            "je n ai pas bien entendu",
            "c est quoi la question",
            "quelle est la question",
            "qu est ce que vous avez dit",
            "plait il",
        ],
        "repeat",
    ),
    **dict.fromkeys(
        [
            "retour",
            "revenir",
            "reviens",
            "revenez",
            "revient",
            "retourner",
            "retournez",
            "precedent",
            "precedente",
            "question precedente",
            "la question precedente",
            "en arriere",
            "arriere",
            "revenir en arriere",
            "retour en arriere",
            "la question d avant",
            "question d avant",
            "celle d avant",
            "je me suis trompe",
            "je me suis trompee",
            "changer ma reponse",
            "modifier ma reponse",
            "corriger",
            "je veux corriger",
            "je voudrais corriger",
        ],
        "back",
    ),
    **dict.fromkeys(
        [
            "je ne sais pas",
            "je sais pas",
            "sais pas",
            "j sais pas",
            "chais pas",
            "chai pas",
            "ne sais pas",
            "je ne sais pas trop",
            "je sais pas trop",
            "je ne sais vraiment pas",
            "je sais vraiment pas",
            "je ne sais plus",
            "je sais plus",
            "j en sais rien",
            "je n en sais rien",
            "aucune idee",
            "pas d idee",
            "je ne sais pas quoi dire",
            "je sais pas quoi dire",
            "je ne peux pas dire",
            "je peux pas dire",
            "je ne saurais pas dire",
            "je ne saurais dire",
            "je saurais pas dire",
            "difficile a dire",
            "dur a dire",
            "sans opinion",
            "je ne veux pas repondre",
            "je veux pas repondre",
            "je prefere ne pas repondre",
            "je prefere pas repondre",
            "je ne souhaite pas repondre",
            "je ne peux pas repondre",
            "je peux pas repondre",
            "pas de reponse",
            "sans reponse",
        ],
        "dont_know",
    ),
    **dict.fromkeys(
        [
            "passer",
            "je passe",
            "on passe",
            "passons",
            "question suivante",
            "suivante",
            "suivant",
            "passer la question",
            "passez",
            "je veux passer",
            "on peut passer",
        ],
        "skip",
    ),
}

#: Command words that are also ordinary words ("un peu, quoi", "encore un peu", "pardon, beaucoup"): they are
#: a command only when the utterance holds no answer at all.
WEAK_COMMANDS: Final[dict[str, str]] = {
    "encore": "repeat",
    "quoi": "repeat",
    "comment": "repeat",
    "pardon": "repeat",
    "excusez moi": "repeat",
    "excuse moi": "repeat",
}

# --- Words that carry no answer ---------------------------------------------------------------------------
#: Hesitations and discourse words, ignored.
FILLERS: Final[frozenset[str]] = frozenset(
    {
        "euh",
        "heu",
        "eh",
        "ah",
        "oh",
        "ha",
        "hm",
        "hmm",
        "hum",
        "mmh",
        "mh",
        "mm",
        "um",
        "uh",
        "bah",
        "ben",
        "bon",
        "alors",
        "donc",
        "bref",
        "voila",
        "ouais",
        "ouai",
        "oui",
        "non",
        "nan",
        "ok",
        "okay",
        "d accord",
        "allez",
        "je dirais",
        "j dirais",
        "je dirai",
        "dirais",
        "je dirais que",
        "je pense",
        "je pense que",
        "disons",
        "disons que",
        "je crois",
        "je crois que",
        "c est",
        "ce serait",
        "ca serait",
        "ce sera",
        "c etait",
        "ca",
        "cela",
        "je",
        "j",
        "s il vous plait",
        "s il te plait",
        "svp",
        "merci",
        "tout a fait",
        "bien sur",
        "eh bien",
        "et bien",
        "je vais dire",
        "on va dire",
        "je reponds",
        "madame",
        "monsieur",
        "docteur",
        "comment dire",
        "comment dirais je",
        "comment je dirais",
        "en fait",
        "enfin",
        "mais",
        "je veux dire",
        "ou plutot",
        "la question",
        "ou",
        "et",
    }
)

#: Yes/no words: an utterance of only these is not an answer to an item ("oui" to "Avez-vous mal ?").
YES_NO_WORDS: Final[frozenset[str]] = frozenset({"oui", "non", "ouais", "nan", "si"})
#: "No" after an answer casts doubt on it ("beaucoup, non").
NO_WORDS: Final[frozenset[str]] = frozenset({"non", "nan"})

#: Fillers that, placed between two different answers, mark a self-correction ("un peu, non, beaucoup").
CORRECTION_MARKERS: Final[frozenset[str]] = frozenset(
    {
        "non",
        "nan",
        "pardon",
        "enfin",
        "mais",
        "en fait",
        "je veux dire",
        "ou plutot",
        "plutot",
        "si",
    }
)

#: Ordinary words that do not change the meaning of an answer ("j'ai eu un peu mal", "ma sante est
#: excellente"). Any *other* word next to an answer makes the parser ask for confirmation.
NEUTRAL: Final[frozenset[str]] = frozenset(
    {
        "j ai",
        "ai",
        "a",
        "eu",
        "avais",
        "avoir",
        "suis",
        "etais",
        "ete",
        "me",
        "m",
        "moi",
        "mal",
        "douleur",
        "douleurs",
        "des",
        "du",
        "la",
        "le",
        "les",
        "l",
        "au",
        "aux",
        "en",
        "y",
        "tres",
        "vraiment",
        "quand meme",
        "tout de meme",
        "il",
        "elle",
        "est",
        "etait",
        "ce",
        "qu",
        "que",
        "fatigue",
        "fatiguee",
        "fatigues",
        "nausee",
        "nausees",
        "souci",
        "soucis",
        "difficulte",
        "difficultes",
        "probleme",
        "problemes",
        "gene",
        "genee",
        "ma",
        "mon",
        "sante",
        "qualite",
        "vie",
        "de vie",
        "semaine",
        "cette semaine",
        "la semaine",
        "derniere",
        "passee",
        "aussi",
        "franchement",
        "honnetement",
        "sincerement",
        "oui vraiment",
        "sur",
        "question",
        "pour",
        "celle",
    }
)

# --- Words that make an answer uncertain ------------------------------------------------------------------
#: A negation before an answer turns it into something else ("pas beaucoup" is not 4), except before a
#: "not at all" answer, which it agrees with ("non, jamais, pas du tout"; "je ne suis pas du tout fatigue").
NEGATIONS: Final[frozenset[str]] = frozenset(
    {
        "pas",
        "ne",
        "n",
        "jamais",
        "guere",
        "nullement",
        "aucunement",
        "sans",
        "pas trop",
        "pas vraiment",
        "pas tellement",
        "pas tres",
        "pas specialement",
        "pas particulierement",
        "pas enormement",
        "pas forcement",
        "pas si",
        "pas plus",
        "pas plus que ca",
        "pas tant",
        "pas tant que ca",
        "plus vraiment",
    }
)

#: Hedges and degree words: an answer next to them is confirmed.
HEDGES: Final[frozenset[str]] = frozenset(
    {
        "peut etre",
        "peut etre que",
        "environ",
        "a peu pres",
        "presque",
        "quasiment",
        "genre",
        "plus",
        "moins",
        "trop",
        "mieux",
        "pire",
        "bien",
        "tres bien",
        "mauvais",
        "mauvaise",
        "bof",
        "moyen",
        "moyennement",
        "comme ci comme ca",
        "pas mal",
        "je suppose",
        "j imagine",
        "sans doute",
        "probablement",
        "parfois",
        "des fois",
        "quelquefois",
        "de temps en temps",
        "souvent",
        "rarement",
        "toujours",
        "tellement",
        "plus ou moins",
        "je ne suis pas sur",
        "je ne suis pas sure",
        "je suis pas sur",
        "je suis pas sure",
        "beau",
    }
)
#: Homophones that are mostly a tag ("beaucoup, hein"): ignored next to any other answer.
TAG_HOMOPHONES: Final[frozenset[str]] = frozenset({"hein"})

#: Words that put the answer between two scale points ("trois et demi", "entre les deux"): never an answer.
BETWEEN: Final[frozenset[str]] = frozenset(
    {
        "demi",
        "et demi",
        "virgule",
        "entre",
        "entre les deux",
        "a moitie",
        "moitie",
    }
)

#: "sur" + number is a denominator ("six sur sept"), not a second answer.
DENOMINATOR_WORD: Final[str] = "sur"

# --- Replies to "Vous avez répondu : assez. Est-ce bien cela ?" (kiosk.domain.confirmation) ------------
#: A clear yes. Only these confirm (with nothing but CONFIRM_POLITE words around them).
CONFIRM_YES: Final[frozenset[str]] = frozenset(
    {
        "oui",
        "ouais",
        "ouai",
        "oui oui",
        "oui c est ca",
        "c est ca",
        "c est bien ca",
        "c est exact",
        "exact",
        "exactement",
        "tout a fait",
        "absolument",
        "bien sur",
        "d accord",
        "c est juste",
        "juste",
        "voila",
        "c est bien cela",
        "oui c est bien ca",
        "oui c est bien cela",
        "correct",
        "c est correct",
        "parfait",
        "oui madame",
        "oui monsieur",
        "affirmatif",
        "ok",
        "okay",
        "c est bon",
        "oui c est bon",
        "oui voila",
        "voila c est ca",
        "c est cela",
        "c est ca oui",
    }
)
#: A clear no.
CONFIRM_NO: Final[frozenset[str]] = frozenset(
    {
        "non",
        "nan",
        "non non",
        "pas du tout ca",
        "c est pas ca",
        "ce n est pas ca",
        "ce n est pas cela",
        "pas ca",
        "c est faux",
        "faux",
        "non c est faux",
        "non c est pas ca",
        "non ce n est pas ca",
        "incorrect",
        "pas vraiment",
        "non merci",
        "negatif",
        "absolument pas",
        "surement pas",
        "jamais",
        "erreur",
        "je me suis trompe",
        "je me suis trompee",
        "vous vous trompez",
        "mauvaise reponse",
        "pas exactement",
        "non pas ca",
        "pas tout a fait",
    }
)
#: Words that may surround a yes or a no without changing it ("oui, merci", "euh non").
CONFIRM_POLITE: Final[frozenset[str]] = frozenset(
    {
        "euh",
        "heu",
        "hum",
        "hm",
        "mmh",
        "bah",
        "ben",
        "bon",
        "ah",
        "oh",
        "eh",
        "merci",
        "madame",
        "monsieur",
        "docteur",
        "s il vous plait",
        "svp",
        "alors",
        "bien",
        "tres bien",
        "alors oui",
        "eh bien",
        "et bien",
        "je confirme",
        "confirme",
        "je le confirme",
        "c est ce que j ai dit",
        "c est ce que je voulais dire",
    }
)
#: Doubt: a yes said with these is not clear ("oui, je crois", "peut-etre").
CONFIRM_DOUBT: Final[frozenset[str]] = frozenset(
    {
        "peut etre",
        "je crois",
        "je pense",
        "je suppose",
        "probablement",
        "sans doute",
        "plus ou moins",
        "a peu pres",
        "enfin",
        "mais",
        "quoique",
        "bof",
        "je sais pas",
        "je ne sais pas",
        "je ne suis pas sur",
        "je ne suis pas sure",
        "je suis pas sur",
        "je suis pas sure",
        "on va dire",
        "disons",
        "j imagine",
        "pas sur",
        "pas sure",
        "possible",
        "c est possible",
        "ou",
        "presque",
        "en partie",
        "oui et non",
    }
)

#: Phrase hints for the recogniser, written as spoken text (with accents): commands and yes/no (the item's
#: own answer labels are added from the instrument).
HINT_PHRASES: Final[tuple[str, ...]] = (
    "répéter",
    "répétez",
    "pardon",
    "comment",
    "retour",
    "question précédente",
    "je ne sais pas",
    "passer",
    "oui",
    "non",
    "c'est ça",
    "tout à fait",
)

# --- French phonetic key for the fuzzy match ----------------------------------------------------------------
#: Letters said alone ("a c" for "assez", "un p" for "un peu").
LETTER_NAMES: Final[dict[str, str]] = {"c": "se", "b": "be", "d": "de", "p": "pe", "t": "te", "k": "ka"}

#: Rewrite rules applied in order to one normalised word, after its silent final consonants are dropped.
#: Upper-case letters are nasal vowels (A = an/en, O = on, I = in/un/ain). Rough, but enough to make
#: "bocou" = "beaucoup", "a ces" = "assez", "un peut" = "un peu", "exelent" = "excellent".
PHONETIC_RULES: Final[tuple[tuple[str, str], ...]] = (
    (r"er$", "e"),
    (r"eau", "o"),
    (r"(?<=[aeiouy])s(?=[aeiouy])", "z"),
    (r"x", "ks"),
    (r"ph", "f"),
    (r"qu", "k"),
    (r"ch", "S"),
    (r"c(?=[eiy])", "s"),
    (r"c", "k"),
    (r"g(?=[eiy])", "j"),
    (r"(ain|ein|aim|in|im|un|um|yn|ym)(?![aeiouynm])", "I"),
    (r"(an|am|en|em)(?![aeiouynm])", "A"),
    (r"(on|om)(?![aeiouynm])", "O"),
    (r"oi", "wa"),
    (r"oeu|eu|oe", "e"),
    (r"au", "o"),
    (r"ou", "u"),
    (r"ai|ei", "e"),
    (r"y", "i"),
    (r"h", ""),
)
#: A final mute "e" after a consonant is dropped in words of at least this many letters ("beaucoupe",
#: "mauvaise", "excellente"); shorter words keep it because accents are gone ("asse" is "assé").
MUTE_E_MIN_LENGTH: Final[int] = 5
#: Final letters that are usually silent in French ("tout", "beaucoup", "assez", "mauvais").
SILENT_FINALS: Final[str] = "stdpxz"
_COMPILED_RULES = tuple((re.compile(pattern), replacement) for pattern, replacement in PHONETIC_RULES)


@lru_cache(maxsize=4096)
def phonetic_key(word: str) -> str:
    """A rough French pronunciation of one normalised word, for the fuzzy match (not a real phonetiser)."""
    if word in LETTER_NAMES:
        return LETTER_NAMES[word]
    if len(word) >= MUTE_E_MIN_LENGTH and word[-1] == "e" and word[-2] not in "aeiouy":
        word = word[:-1]
    for _ in range(2):
        if len(word) > 2 and word[-1] in SILENT_FINALS:
            word = word[:-1]
    for pattern, replacement in _COMPILED_RULES:
        word = pattern.sub(replacement, word)
    return re.sub(r"(.)\1+", r"\1", word)


def phrase_key(words: Sequence[str]) -> str:
    """The phonetic key of several words said together ("beau coup" sounds like "beaucoup")."""
    return re.sub(r"(.)\1+", r"\1", "".join(phonetic_key(w) for w in words))
