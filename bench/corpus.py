"""Plausible French text for the content benchmarks (P2, P3), fast and reproducible.

Word frequencies follow a Zipf law, as in real text, so a search for the most frequent
word matches most documents and a rare word a handful: the two cases the search
benchmark must cover. Sentences are built from a small grammar (determiner agreeing
with the noun's gender and initial vowel, an invariable adjective, a verb, a
complement) and kept in a pool; documents draw sentences from the pool, which keeps
generating a million documents within seconds while their length and vocabulary stay
those of real news items, comments and catalogue records.

Pure standard library: the harness imports nothing of the app, and the seeding child
processes use these helpers together with the models.
"""

from __future__ import annotations

import html
import random
from collections.abc import Sequence
from itertools import accumulate

#: The content word ranked first (most frequent). Searches for it match most documents.
FREQUENT_WORD = "projet"

#: Rare words: each is put into exactly ``RARE_COUNT`` documents by the seeders. The
#: first has an accent so a search typed without it ("paletuvier") proves the folding.
RARE_WORDS = ("palétuvier", "ornithorynque", "saxifrage")
RARE_COUNT = 12

# (noun, gender) — the first is the most frequent; the order after it is shuffled once.
NOUNS: list[tuple[str, str]] = [
    (FREQUENT_WORD, "m"),
    *[(w, "f") for w in (
        "association", "coopérative", "agriculture", "eau", "terre", "forêt", "semence",
        "énergie", "mémoire", "culture", "santé", "éducation", "jeunesse", "migration",
        "frontière", "communauté", "économie", "gouvernance", "formation", "rencontre",
        "démarche", "politique", "ressource", "recherche", "enquête", "conférence",
        "campagne", "filière", "souveraineté", "biodiversité", "transition", "mobilisation",
        "solidarité", "ville", "région", "commune", "récolte", "pêche", "coordination",
        "plateforme", "bibliothèque", "méthode", "expérience", "revue", "synthèse", "note",
        "fiche", "charte", "alliance", "assemblée", "mutuelle", "épargne", "monnaie",
        "parcelle", "rivière", "montagne", "vallée", "école", "université", "famille",
        "paysannerie", "pratique", "question", "lutte", "voix", "histoire", "carte")],
    *[(w, "m") for w in (
        "réseau", "territoire", "climat", "village", "atelier", "rapport", "débat", "droit",
        "accès", "partenariat", "savoir", "modèle", "marché", "logement", "quartier",
        "jardin", "outil", "document", "colloque", "programme", "enjeu", "dialogue",
        "mouvement", "collectif", "conseil", "fonds", "budget", "dispositif", "bilan",
        "plaidoyer", "témoignage", "agriculteur", "habitant", "citoyen", "syndicat",
        "festival", "séminaire", "chantier", "sol", "bassin", "littoral", "fleuve", "océan",
        "foncier", "élevage", "compost", "verger", "troupeau", "moulin", "film", "livre",
        "entretien", "guide", "inventaire", "observatoire", "forum", "comité", "accord",
        "contrat", "travail", "emploi", "revenu", "commerce", "transport",
        "archive", "patrimoine", "paysage", "écosystème", "habitat", "apprentissage")],
]

ADJECTIVES = (
    "solidaire", "durable", "agricole", "écologique", "économique", "démocratique",
    "politique", "juridique", "rapide", "large", "riche", "fragile", "utile", "possible",
    "nécessaire", "autonome", "précaire", "critique", "historique", "pratique", "technique",
    "scientifique", "numérique", "civique", "éthique", "pacifique", "climatique",
    "énergétique", "alimentaire", "sanitaire", "humanitaire", "communautaire", "populaire",
    "volontaire", "universitaire", "remarquable", "exemplaire", "libre", "jeune",
)
VERBS = (
    "accompagne", "renforce", "soutient", "interroge", "documente", "défend", "relie",
    "transforme", "valorise", "organise", "propose", "analyse", "partage", "présente",
    "questionne", "protège", "finance", "mobilise", "anime", "développe", "raconte",
    "éclaire", "prolonge", "rassemble", "décrit", "met en lumière", "remet en cause",
)
PREPOSITIONS = ("dans", "pour", "avec", "sur", "entre", "face à", "autour de", "auprès de",
                "en faveur de", "contre", "après", "selon")
PLACES = ("en Bretagne", "au Sénégal", "à Grenoble", "en Occitanie", "au Burkina Faso",
          "dans les Cévennes", "à Marseille", "au Québec", "en Haïti", "à Lyon", "au Maroc",
          "dans le Jura", "à Dakar", "en Normandie", "à Nantes", "au Bénin")
OPENERS = ("Depuis dix ans,", "Cette année,", "Pour la première fois,", "Selon nos partenaires,",
           "En pratique,", "Au fil des rencontres,", "Dans ce cadre,", "Ensuite,",
           "Par ailleurs,", "De plus,")

VOWELS = tuple("aeiouyéèêàâîôh")

#: Pseudo-words (names of people, places, projects) with Zipf weights: real text has a
#: long tail of rare words, which is what the databases' statistics (PostgreSQL's most
#: common elements, the query planner's guesses) are built from.
TAIL_SIZE = 20_000
TAIL_FRAMES = ("avec {}", "à {}", "chez {}", "selon {}", "près de {}")
_ONSETS = ("b", "br", "c", "ch", "d", "f", "g", "gr", "j", "l", "m", "n", "p", "pr", "r", "s",
           "t", "tr", "v")
_NUCLEI = ("a", "e", "i", "o", "ou", "u", "an", "on", "in", "é", "è", "ai", "eau")


def _tail_words(rng: random.Random, count: int) -> list[str]:
    words: set[str] = set()
    while len(words) < count:
        word = "".join(rng.choice(_ONSETS) + rng.choice(_NUCLEI)
                       for _ in range(rng.randint(2, 4)))
        if word not in RARE_WORDS:
            words.add(word + rng.choice(("", "", "s", "t", "l", "ne", "c")))
    return sorted(words)


def _det(noun: str, gender: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        if noun.startswith(VOWELS):
            return "l’" + noun
        return ("le " if gender == "m" else "la ") + noun
    if roll < 0.75:
        return ("un " if gender == "m" else "une ") + noun
    if roll < 0.88:
        return "notre " + noun
    if gender == "f":
        return "cette " + noun
    return ("cet " if noun.startswith(VOWELS) else "ce ") + noun


class FrenchText:
    """A pool of sentences drawn once; documents are cheap combinations of them."""

    def __init__(self, seed: int = 7, pool: int = 40_000, zipf: float = 1.05) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
        nouns = NOUNS[:1] + self.rng.sample(NOUNS[1:], len(NOUNS) - 1)
        self._nouns = nouns
        self._noun_weights = list(accumulate(1 / (rank + 1) ** zipf for rank in range(len(nouns))))
        self._tail = _tail_words(self.rng, TAIL_SIZE)
        self._tail_weights = list(accumulate(1 / (rank + 1) for rank in range(len(self._tail))))
        self.sentences = [self._sentence() for _ in range(pool)]
        self.titles = [self._title() for _ in range(pool // 4)]

    # -- grammar ---------------------------------------------------------------------
    def _noun(self) -> tuple[str, str]:
        return self.rng.choices(self._nouns, cum_weights=self._noun_weights)[0]

    def _group(self) -> str:
        noun, gender = self._noun()
        group = _det(noun, gender, self.rng)
        if self.rng.random() < 0.5:
            group += " " + self.rng.choice(ADJECTIVES)
        return group

    def _sentence(self) -> str:
        rng = self.rng
        words = [self._group(), rng.choice(VERBS), self._group()]
        if rng.random() < 0.7:
            words += [rng.choice(PREPOSITIONS), self._group()]
        if rng.random() < 0.25:
            words.append(rng.choice(PLACES))
        if rng.random() < 0.35:  # the long tail: names of people, places, projects
            tail = rng.choices(self._tail, cum_weights=self._tail_weights)[0]
            words.append(rng.choice(TAIL_FRAMES).format(tail.capitalize()))
        text = " ".join(words).replace(" de le ", " du ").replace(" à le ", " au ")
        if rng.random() < 0.2:
            text = rng.choice(OPENERS) + " " + text
        return text[0].upper() + text[1:] + "."

    def _title(self) -> str:
        noun, gender = self._noun()
        title = _det(noun, gender, self.rng)
        title += " " + self.rng.choice(ADJECTIVES)
        if self.rng.random() < 0.6:
            title += f" {self.rng.choice(PREPOSITIONS)} {self._group()}"
        if self.rng.random() < 0.3:
            title += " " + self.rng.choice(PLACES)
        return title[0].upper() + title[1:]

    # -- what the seeders use ------------------------------------------------------------
    def title(self) -> str:
        return self.rng.choice(self.titles)

    def sentence(self) -> str:
        return self.rng.choice(self.sentences)

    def paragraph(self, low: int = 2, high: int = 4) -> str:
        return " ".join(self.rng.choices(self.sentences, k=self.rng.randint(low, high)))

    def paragraphs(self, low: int = 2, high: int = 5) -> list[str]:
        return [self.paragraph() for _ in range(self.rng.randint(low, high))]


def markdown_and_html(paragraphs: Sequence[str]) -> tuple[str, str]:
    """The source an author would have typed and the clean HTML the app would store."""
    source = "\n\n".join(paragraphs)
    body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
    return source, body


def with_word(text: str, word: str) -> str:
    """``text`` with ``word`` worked into its first sentence (for the rare words)."""
    return f"{text[:-1]} près du {word}." if text.endswith(".") else f"{text} {word}"
