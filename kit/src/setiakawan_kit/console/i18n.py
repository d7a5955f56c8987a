"""The console's words in Bahasa Indonesia (the default) and English:
one catalog (``messages.yaml`` of the kit, then of the service, whose
entries win), each entry a key with its text per language; formatting of
numbers, Rupiah and dates per language."""
from datetime import date, datetime
from importlib import resources

import yaml
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
from lokal import format_rupiah

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"


class Catalog:
    def __init__(self, entries):
        missing = {key: [lang for lang in LANGUAGES if lang not in texts] for key, texts in entries.items()}
        missing = {key: langs for key, langs in missing.items() if langs}
        if missing:
            raise ValueError(f"console messages without a text in every language: {missing}")
        self.entries = entries

    @classmethod
    def of_packages(cls, *packages):
        entries = {}
        for package in packages:
            path = resources.files(package).joinpath("messages.yaml")
            if path.is_file():
                entries.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        return cls(entries)

    def text(self, key, language, **values):
        """The text of ``key``; an unknown key is an error (tests render every page in both languages)."""
        text = self.entries[key][language]
        return text.format(**values) if values else text


def choose(asked, remembered, accept_language):
    """The page's language: asked in the address (?lang=en), else the one
    the browser's cookie remembers, else the browser's preference, else Indonesian."""
    for candidate in (asked, remembered):
        if candidate in LANGUAGES:
            return candidate
    best = accept_language.best_match(LANGUAGES) if accept_language else None
    return best or DEFAULT_LANGUAGE


def number(value, language):
    return "–" if value is None else format_decimal(value, locale=language)


def percent(value, language):
    return "–" if value is None else format_percent(value, locale=language)


def rupiah(value):
    return "–" if value is None else format_rupiah(value)


def day(value, language):
    if value is None:
        return "–"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, "d MMMM y", locale=language)


def moment(value, language):
    if value is None:
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(value, "d MMMM y HH.mm", locale=language)
