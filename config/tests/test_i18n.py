"""Translations: both catalogues complete, compiled and current with the sources; the switcher works."""

import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ("en", "zh_Hans")
# The same ignores as the documented command (README):
#   manage.py makemessages -l en -l zh_Hans --ignore=.venv ... --no-obsolete
MAKEMESSAGES_IGNORE = [".venv", "node_modules", "bench", "e2e", "*/tests/*", "staticfiles", "media", "var"]
# Not sources, or not ours: never copied into the scratch tree the completeness test extracts from.
NOT_SOURCE = {".git", "locale", "test-artifacts", "docs", "__pycache__", "tests", "migrations_backup"}
REGENERATE = (
    "regenerate with: .venv/bin/python manage.py makemessages -l en -l zh_Hans --ignore=.venv "
    "--ignore=node_modules --ignore=bench --ignore=e2e --ignore='*/tests/*' --ignore=staticfiles "
    "--ignore=media --ignore=var --no-obsolete, translate, then compilemessages --ignore=.venv"
)


def _catalogue(language, kind="po"):
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"django.{kind}"
    assert path.exists(), f"{path} is missing; {REGENERATE}"
    return polib.pofile(str(path)) if kind == "po" else polib.mofile(str(path))


def _key(entry):
    return (entry.msgctxt or "", entry.msgid)


def _translation(entry):
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural))
    return entry.msgstr


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_no_untranslated_or_fuzzy_entries(language):
    # Given the committed catalogue
    po = _catalogue(language)

    # When we look for entries that would fall back to the source string
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    empty_plural = [
        entry.msgid for entry in po if entry.msgid_plural and not all(entry.msgstr_plural.values())
    ]

    # Then there are none
    assert not untranslated, f"{language}: untranslated: {untranslated[:20]}"
    assert not fuzzy, f"{language}: fuzzy (ignored at run time): {fuzzy[:20]}"
    assert not empty_plural, f"{language}: plural forms missing: {empty_plural[:20]}"
    assert len(po) > 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_the_po_file(language):
    # Given the .po and the .mo committed next to it
    po, mo = _catalogue(language), _catalogue(language, "mo")

    # When both are read as msgid -> translation
    expected = {_key(entry): _translation(entry) for entry in po.translated_entries() if not entry.obsolete}
    compiled = {_key(entry): _translation(entry) for entry in mo if entry.msgid}

    # Then the .mo says exactly what the .po says (stale or missing compile fails here)
    missing = sorted(key[1] for key in expected.keys() - compiled.keys())
    extra = sorted(key[1] for key in compiled.keys() - expected.keys())
    changed = sorted(key[1] for key in expected.keys() & compiled.keys() if expected[key] != compiled[key])
    assert not (missing or extra or changed), (
        f"{language}: django.mo is out of date (missing {missing[:10]}, extra {extra[:10]}, "
        f"changed {changed[:10]}); run: .venv/bin/python manage.py compilemessages --ignore=.venv"
    )


def test_catalogues_cover_every_string_marked_in_the_sources(tmp_path, monkeypatch):
    # Given a scratch copy of the sources (makemessages writes next to the sources it finds, so it
    # never runs on the working tree here) and an empty locale directory
    if not shutil.which("xgettext") or not shutil.which("msgmerge"):
        pytest.fail("GNU gettext (xgettext, msgmerge) is not installed: apt-get install gettext")
    root = Path(settings.BASE_DIR)
    scratch = tmp_path / "src"
    scratch.mkdir()
    skip = set(MAKEMESSAGES_IGNORE) | NOT_SOURCE
    for item in root.iterdir():
        if (
            item.name.startswith(".")
            or item.name in skip
            or not (item.is_dir() or item.suffix in {".py", ".html", ".txt"})
        ):
            continue
        if item.is_dir():
            shutil.copytree(
                item,
                scratch / item.name,
                ignore=shutil.ignore_patterns(*NOT_SOURCE, "*.pyc", "*.sqlite3", "*.png", "*.jpg", "*.webp"),
            )
        else:
            shutil.copy2(item, scratch / item.name)
    scratch_locale = tmp_path / "locale"
    scratch_locale.mkdir()
    monkeypatch.chdir(scratch)

    # When makemessages extracts every marked string into the empty catalogue
    with override_settings(LOCALE_PATHS=[str(scratch_locale)]):
        call_command(
            "makemessages", locale=["en"], ignore_patterns=MAKEMESSAGES_IGNORE, no_obsolete=True, verbosity=0
        )
    extracted = polib.pofile(str(scratch_locale / "en" / "LC_MESSAGES" / "django.po"))
    assert len(extracted) > 100, "makemessages found almost nothing: is the scratch copy missing the sources?"

    # Then both committed catalogues hold every one of them
    for language in LANGUAGES:
        committed = {_key(entry) for entry in _catalogue(language)}
        missing = sorted(entry.msgid for entry in extracted if _key(entry) not in committed)
        assert not missing, (
            f"{language}: {len(missing)} strings not in the catalogue, e.g. {missing[:15]}; {REGENERATE}"
        )


@pytest.mark.django_db
def test_home_page_is_chinese_by_default(client):
    # Given a visitor with no language preference
    # When they open the home page
    response = client.get("/")

    # Then the chrome is in Simplified Chinese
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in page
    assert "购物车" in page and ">Cart<" not in page


@pytest.mark.django_db
def test_pages_stay_chinese_for_an_english_browser_until_the_switcher_is_used(client):
    # Given a browser that prefers English and has never used the switcher
    # When it opens the home page
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    # Then the shop speaks its default language
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "购物车" in page and ">Cart<" not in page


@pytest.mark.django_db
def test_the_api_follows_the_clients_language(client):
    # Given an app asking for English, and one asking for nothing
    english = client.get("/api/v1/products/unknown-slug/", HTTP_ACCEPT_LANGUAGE="en")
    default = client.get("/api/v1/products/unknown-slug/")

    # Then the same error reads in English for the first and Chinese for the second
    assert english.status_code == default.status_code == 404
    assert english.json()["message"] != default.json()["message"]
    assert english.json()["message"].isascii()


@pytest.mark.django_db
def test_language_switcher_keeps_english_across_pages(client):
    # Given a visitor who picks English in the footer switcher
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"

    # When they open pages afterwards (no Accept-Language header)
    home = client.get("/").content.decode()
    cart = client.get(reverse("shop:cart")).content.decode()

    # Then they stay in English, and switching back gives Chinese again
    assert "Cart" in home and "购物车" not in home
    assert "Cart" in cart
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "购物车" in client.get("/").content.decode()
