"""Reading the words of a question: every word becomes a fact (a tag with its value), a
person named in the bank's directory, a grouping or ordering, or an unknown word."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ledgerbank.errors import NotUnderstood
from ledgerbank.ledgergpt import vocabulary as vocab
from ledgerbank.ledgergpt.reading import Reading


@dataclass(frozen=True)
class Person:
    username: str
    full_name: str
    role: str


class Directory(Protocol):
    """Finds the bank's people whose username, full name, first or last name is one of the
    given lower-case words."""

    def find(self, words: Sequence[str]) -> list[Person]: ...


@dataclass
class Mention:
    """A person named in the question and the word that introduced them."""

    person: Person
    lead: str  # "from", "to", "by", "for", "_poss" or ""


@dataclass
class Facts:
    """Everything the words said, before deciding what the question is about."""

    tags: dict[str, list[str]] = field(default_factory=dict)
    singular_nouns: list[str] = field(default_factory=list)
    people: list[Mention] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    sort_keys: list[str] = field(default_factory=list)
    ranking_measures: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    negations: list[str] = field(default_factory=list)

    def has(self, kind: str, value: str | None = None) -> bool:
        values = self.tags.get(kind, [])
        return bool(values) if value is None else value in values

    def values(self, kind: str) -> list[str]:
        return list(dict.fromkeys(self.tags.get(kind, [])))

    def add(self, kind: str, value: str) -> None:
        self.tags.setdefault(kind, []).append(value)


_PERSON_LEADS = {
    "for", "of", "from", "to", "into", "by", "involving", "about", "with", *vocab.EXCLUDERS,
}  # fmt: skip
# What an excluder can leave out: these kinds become "not_<kind>" facts.
_EXCLUDABLE = ("ttype", "tstatus", "astatus", "atype")
_EXCLUSION_FILLERS = frozenset({"the", "any", "all", "ones", "those", "a", "an", "of", "and", "or"})


def _people(words: list[str], directory: Directory) -> dict[int, tuple[Person, int]]:
    """Positions of names in `words` -> (person, words used)."""
    candidates = [
        w
        for i, w in enumerate(words)
        if w.isidentifier() or w.replace(".", "").replace("-", "").isalnum()
        if not w.startswith("_")
        and (
            not (vocab.tags(w) or w in vocab.FILLERS or w in vocab.GROUP_WORDS)
            or (i > 0 and words[i - 1] in _PERSON_LEADS)
            or (i + 1 < len(words) and words[i + 1] == "_poss")
        )
    ]
    if not candidates:
        return {}
    known = directory.find(list(dict.fromkeys(candidates))[:12])
    by_username = {p.username.lower(): p for p in known}
    by_full = {p.full_name.lower(): p for p in known}
    by_part: dict[str, list[Person]] = {}
    for person in known:
        for part in person.full_name.lower().split():
            by_part.setdefault(part, []).append(person)
    found: dict[int, tuple[Person, int]] = {}
    index = 0
    while index < len(words):
        word = words[index]
        pair = " ".join(words[index : index + 2])
        tagged = bool(vocab.tags(word) or word in vocab.FILLERS or word in vocab.GROUP_WORDS)
        led = (index > 0 and words[index - 1] in _PERSON_LEADS) or (
            index + 1 < len(words) and words[index + 1] == "_poss"
        )
        if pair in by_full:
            found[index] = (by_full[pair], 2)
            index += 2
            continue
        if word in candidates and (not tagged or led):
            if word in by_username:
                found[index] = (by_username[word], 1)
            elif len(set(by_part.get(word, []))) == 1:
                found[index] = (by_part[word][0], 1)
            elif len(set(by_part.get(word, []))) > 1:
                names = ", ".join(
                    f"{p.username} ({p.full_name})" for p in dict.fromkeys(by_part[word])
                )
                raise NotUnderstood(
                    f"'{word}' could be several people: {names}; ask with the username",
                    suggestions=[f"show all transactions for {p.username}" for p in by_part[word]],
                )
        index += 1
    return found


def read_facts(reading: Reading, directory: Directory) -> Facts:
    words = reading.words
    facts = Facts()
    names = _people(words, directory)
    skip: set[int] = set()
    for index, (person, used) in names.items():
        lead = words[index - 1] if index > 0 and words[index - 1] in _PERSON_LEADS else ""
        if index + used < len(words) and words[index + used] == "_poss":
            lead = "_poss"
            skip.add(index + used)
        facts.people.append(Mention(person, lead))
        skip.update(range(index, index + used))
    excluding = ""
    for index, word in enumerate(words):
        if index in skip:
            continue
        if word in vocab.EXCLUDERS:
            excluding = word
            continue
        if excluding:
            if word in _EXCLUSION_FILLERS:
                continue
            kinds = [(kind, value) for kind, value in vocab.tags(word) if kind in _EXCLUDABLE]
            if kinds:
                for kind, value in kinds:
                    facts.add(f"not_{kind}", value)
                facts.add("excluded", word)
                continue
            if not facts.has("excluded") and not any(m.lead == excluding for m in facts.people):
                facts.negations.append(excluding)  # "not" before something it cannot leave out
            excluding = ""
        if word in ("who", "that") and index > 0 and is_noun(words[index - 1]):
            continue  # "customers who joined": a relative pronoun, not a question
        following = words[index + 1] if index + 1 < len(words) else ""
        if word in ("by", "per", "sort_by") or (word == "each" and following in vocab.GROUP_WORDS):
            if following in vocab.GROUP_WORDS and (following != "account" or word != "sort_by"):
                target = facts.sort_keys if word == "sort_by" else facts.groups
                target.append(vocab.GROUP_WORDS[following])
                skip.add(index + 1)
                if following == "transaction_type":
                    facts.add("noun", "transactions")
                continue
            if index + 1 in names or not following:
                continue
            measure = _measure(following)
            if measure:
                (facts.sort_keys if word == "sort_by" else facts.ranking_measures).append(measure)
                if measure in ("count", "total") and following in ("count_of", "total", "sum"):
                    continue  # "by number of transactions": the noun is read next
                skip.add(index + 1)
                _read_word(following, facts)
                continue
            facts.unknown.append(f"{word} {following}")
            skip.add(index + 1)
            continue
        if word in vocab.GROUP_WORDS and index > 0 and words[index - 1] == "each":
            continue
        _read_word(word, facts)
    if (
        excluding
        and not facts.has("excluded")
        and not any(m.lead == excluding for m in facts.people)
    ):
        facts.negations.append(excluding)
    return facts


def is_noun(word: str) -> bool:
    return any(kind in ("noun", "ttype", "role") for kind, _ in vocab.tags(word))


def _measure(word: str) -> str | None:
    for kind, value in vocab.tags(word):
        if kind == "measure":
            return value
        if kind == "noun" and value in ("balance", "transactions"):
            return "balance" if value == "balance" else "count"
        if kind == "ttype":
            return value
        if kind == "metric":
            return value
        if kind == "extreme":
            return "amount"
    return None


def _read_word(word: str, facts: Facts) -> None:
    if word in vocab.NEGATIONS:
        facts.negations.append(word)
        return
    tags = vocab.tags(word)
    if tags:
        for kind, value in tags:
            facts.add(kind, value)
        if any(kind in ("noun", "ttype") for kind, _ in tags) and vocab.singular(word):
            facts.singular_nouns.append(word)
        facts.add("word", word)
        return
    if word in vocab.FILLERS or word == "_poss":
        return
    if word in vocab.GROUP_WORDS:
        facts.add("group_word", vocab.GROUP_WORDS[word])
        return
    facts.unknown.append(word)
