"""The translations (docs/i18n.md): every customer-facing string marked, every marked
string in each catalogue, translated, not fuzzy, and compiled into the committed .mo."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
LANGUAGES = ["de", "fr", "es"]
# The pages and mails customers read: every word in them goes through i18n.
CUSTOMER_TEMPLATES = [
    "templates/portal",
    "templates/kb/home.html",
    "templates/kb/search.html",
    "templates/kb/category.html",
    "templates/kb/article.html",
    "templates/kb/_hits.html",
    "templates/kb/_search_form.html",
    "templates/metrics/survey.html",
    "templates/metrics/survey_answered.html",
    "templates/metrics/survey_base.html",
    "templates/metrics/survey_done.html",
    "templates/metrics/survey_invalid.html",
    "templates/metrics/email",
    "templates/tickets/email/auto_ack-body.html",
    "templates/tickets/email/auto_ack-body.txt",
    "templates/tickets/email/auto_ack-subject.txt",
    "templates/feedback/roadmap.html",
    "templates/feedback/roadmap_item.html",
    "templates/feedback/changelog.html",
    "templates/feedback/portal.html",
    "templates/widget/frame.html",
]
# Every other template is read by agents or admins (the agent app, the settings area, the
# error pages, the Django admin's additions) and is held to the same rule; the widget's
# script is no template of words (its strings come from the server: docs/i18n.md).
NOT_TEMPLATES_OF_WORDS = ("templates/widget/v1.js",)
# The source makemessages reads (the same ignores as the Makefile's `make messages`).
SOURCE_DIRS = ["accounts", "assist", "audit", "console", "demo", "feedback", "helpdesk"]
SOURCE_DIRS += ["importer", "kb", "metrics", "portal", "privacy", "tickets", "templates"]
SOURCE_DIRS += ["service", "webhooks", "widget"]
KEYWORDS = [
    "gettext_noop",
    "gettext_lazy",
    "ngettext_lazy:1,2",
    "pgettext:1c,2",
    "npgettext:1c,2,3",
    "pgettext_lazy:1c,2",
    "npgettext_lazy:1c,2,3",
]


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))


def template_files(names: list[str]) -> list[Path]:
    files: list[Path] = []
    for name in names:
        path = ROOT / name
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [path for path in files if str(path.relative_to(ROOT)) not in NOT_TEMPLATES_OF_WORDS]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(language: str) -> None:
    po = catalogue(language)
    assert len(po) > 150
    problems = [
        f"{'fuzzy' if 'fuzzy' in e.flags else 'untranslated'}: {e.msgid!r}"
        for e in po
        if "fuzzy" in e.flags or not e.translated() or not all(e.msgstr_plural.values() or [1])
    ]
    assert not problems, "\n".join(problems)
    # Every plural has as many forms as the language's Plural-Forms header says (a form
    # missing falls back to English for the counts that take it).
    forms = int(re.search(r"nplurals=(\d+)", po.metadata["Plural-Forms"]).group(1))
    short = [e.msgid for e in po if e.msgid_plural and len(e.msgstr_plural) != forms]
    assert not short, f"{forms} plural forms needed: {short}"
    # Placeholders survive translation (a missing %(name)s would raise at render time).
    for entry in po:
        wanted = set(re.findall(r"%\(\w+\)s", entry.msgid))
        for text in [entry.msgstr, *entry.msgstr_plural.values()]:
            if text:
                assert set(re.findall(r"%\(\w+\)s", text)) == wanted, entry.msgid


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_its_po(language: str) -> None:
    """The committed .mo is what `make messages` compiles from the .po (run it)."""
    po = catalogue(language)
    mo = polib.mofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.mo"))

    def entries(catalog: polib._BaseFile) -> dict[tuple[str | None, str], object]:
        return {
            (e.msgctxt, e.msgid): e.msgstr or tuple(sorted(e.msgstr_plural.items()))
            for e in catalog
            if e.msgid and not e.obsolete and "fuzzy" not in e.flags
        }

    assert entries(mo) == entries(po), f"locale/{language}: the .mo is stale; run make messages"


def extracted_msgids(tmp_path: Path) -> set[tuple[str | None, str]]:
    """What makemessages would extract now: templates through Django's templatize, then
    GNU xgettext over them and the Python source."""
    inputs: list[str] = []
    for directory in SOURCE_DIRS:
        for path in sorted((ROOT / directory).rglob("*")):
            if path.suffix == ".py" and "migrations" not in path.parts:
                inputs.append(str(path))
            elif path.suffix in (".html", ".txt") and directory == "templates":
                out = tmp_path / f"{len(inputs)}.py"
                out.write_text(templatize(path.read_text(), origin=str(path)))
                inputs.append(str(out))
    listing = tmp_path / "files.txt"
    listing.write_text("\n".join(inputs))
    pot = tmp_path / "all.pot"
    subprocess.run(
        ["xgettext", "--language=Python", "--from-code=UTF-8", "--output", str(pot)]
        + [f"--keyword={k}" for k in KEYWORDS]
        + ["--files-from", str(listing)],
        check=True,
    )
    return {(e.msgctxt, e.msgid) for e in polib.pofile(str(pot)) if e.msgid}


def test_every_marked_string_is_in_the_catalogues(tmp_path: Path) -> None:
    assert shutil.which("xgettext"), "GNU gettext is needed (apt-get install gettext)"
    extracted = extracted_msgids(tmp_path)
    for language in LANGUAGES:
        known = {(e.msgctxt, e.msgid) for e in catalogue(language) if not e.obsolete}
        missing = sorted(msgid for _, msgid in extracted - known)
        assert not missing, f"locale/{language}: run make messages, then translate {missing}"


# Template syntax and markup whose words are not for people to read.
_TRANSLATED = re.compile(
    r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}|{%\s*translate\s[^%]*%}", re.S
)
_SYNTAX = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}|<!--.*?-->", re.S)
# Comments for the template's readers, a page's body or layout class (a CSS name, not a
# word) and code (the style guide's token names).
_NOT_READ = re.compile(
    r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}"
    r"|{%\s*block (?:body|layout)_class\s*%}.*?{%\s*endblock\s*%}|<code>.*?</code>"
    r"|&[a-z]+;",
    re.S,
)
_TAG = re.compile(r"<[^>]*>", re.S)
_READ_ATTRIBUTES = re.compile(r'\s(?:aria-label|placeholder|title|alt)="([^"]*)"')
_WORD = re.compile(r"[^\W\d_]{2,}")


def unmarked_words(source: str) -> list[str]:
    """The words of a template that would reach a reader without translation."""
    source = _TRANSLATED.sub(" ", _NOT_READ.sub(" ", source))
    attributes = [_SYNTAX.sub(" ", v) for v in _READ_ATTRIBUTES.findall(source)]
    text = _TAG.sub(" ", re.sub(r"<style.*?</style>", " ", source, flags=re.S))
    text = _SYNTAX.sub(" ", text)
    return [word for chunk in [text, *attributes] for word in _WORD.findall(chunk)]


def test_unmarked_words_are_found() -> None:
    assert unmarked_words('<p title="Open">{% translate "Hi" %} {{ x }}</p> Hello') == [
        "Hello",
        "Open",
    ]
    assert unmarked_words("{% blocktranslate %}Hi {{ x }}{% endblocktranslate %}<b>#1</b>") == []
    assert (
        unmarked_words(
            "{% comment %}A note{% endcomment %}{% block body_class %}auth{% endblock %}"
        )
        == []
    )
    assert unmarked_words("{% block layout_class %}layout-wide{% endblock %}<code>--x</code>") == []
    assert unmarked_words("{% comment %}Why{% endcomment %}&ldquo;{% translate 'Hi' %}") == []


def test_customer_facing_templates_are_templates() -> None:
    """The customers' list names what exists (a moved template would drop out unseen)."""
    for name in CUSTOMER_TEMPLATES:
        assert (ROOT / name).exists(), name


def test_every_template_marks_every_string() -> None:
    """Customers', agents' and admins' pages and mails alike: no word outside i18n."""
    files = template_files(["templates"])
    assert len(files) > 150
    found = {
        str(path.relative_to(ROOT)): words
        for path in files
        if (words := unmarked_words(path.read_text()))
    }
    assert not found, f"text outside {{% translate %}}: {found}"
