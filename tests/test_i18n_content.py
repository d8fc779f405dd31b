"""Campaign copy in every language: beside each English file in app/content/ a translation that
covers every word, keeps the slugs, placeholders, headings and links, and adds no key of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from app import content_loader, create_app

CONTENT = content_loader.CONTENT_DIR
# Lists of email domains: data, not words.
DATA_FILES = {"email_domains.yaml", "work_domains.yaml"}

# Keys whose values are data (identifiers, numbers, codes), stated once in the English file: a
# translation must not set them (the loader would let it override them), and they are not words.
DATA_KEYS = {
    "slug",
    "version",
    "goals",
    "total_goals",
    "recommendations_area",
    "sector",
    "col",
    "row",
    "itl1",
    "nation",
    "population",
    "population_year",
}
# Per file, whole subtrees that are data: postcode areas' Royal Mail names, regions and districts.
# A language may still give its own name for a place that has one (Caerdydd for Cardiff): a
# "name" there is allowed, and not required.
DATA_SUBTREES = {"postcode_areas": {("areas",)}}
# Settings each language gives for itself (the widget's locale and number format), and the map's
# tile labels (abbreviations a language may keep): not words that must differ from the English.
NOT_WORDS = {"locale", "thousands_separator", "short"}

# Names and the brand, the same in every language (unions that use no name of their own in Welsh).
SAME_IN_EVERY_LANGUAGE = {
    "Care Don't Share",
    "NEU",
    "UNISON",
    "RCN",
    "BMA",
    "NASUWT",
    "NAHT",
    "National Association of Head Teachers",
    "UCU",
    "University and College Union",
    "Unite",
    "Unite the Union",
    "GMB",
    "PCS",
}
# Words a language spells as English does.
SAME_AS_ENGLISH = {"cy": {"person"}}
# CLDR's plural categories: a dict of plural forms may give its language's own beyond English's
# "one" and "other".
PLURAL_CATEGORIES = {"zero", "one", "two", "few", "many", "other"}

PLACEHOLDER = re.compile(r"\{\w+\}")
LINK = re.compile(r"\[[^\]]*\]\(\s*([^)\s]+)\s*\)|<((?:https?://|mailto:)[^>]+)>")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s", re.MULTILINE)
TABLE_ROW = re.compile(r"^\|", re.MULTILINE)


def english_files(folder: Path, suffix: str) -> list[str]:
    """Names of the English files in a folder: <name><suffix>, not <name>.<code><suffix>."""
    return sorted(
        path.name[: -len(suffix)]
        for path in folder.glob(f"*{suffix}")
        if "." not in path.name[: -len(suffix)] and path.name not in DATA_FILES
    )


YAML_FILES = english_files(CONTENT, ".yaml")
PAGES = english_files(CONTENT / "pages", ".md")


@pytest.fixture(scope="module")
def other_languages() -> tuple[str, ...]:
    """Every language but the default, as the app is configured."""
    return create_app("testing").config["LANGUAGES"][1:]


def localised(target: str, code: str) -> str:
    """Where a link goes in a language: our own pages under /<code>/, anything else as it is."""
    return f"/{code}{target}" if target.startswith("/") and not target.startswith("//") else target


def links(text: str) -> list[str]:
    return sorted(inline or auto for inline, auto in LINK.findall(text))


def compare_text(english: str, translated: str, code: str, where: str) -> list[str]:
    """What a translated text lost or gained: placeholders, links (ours under /<code>/), email addresses."""
    problems = []
    if set(PLACEHOLDER.findall(english)) != set(PLACEHOLDER.findall(translated)):
        problems.append(f"{where}: placeholders {sorted(set(PLACEHOLDER.findall(translated)))}")
    if links(translated) != sorted(localised(target, code) for target in links(english)):
        problems.append(f"{where}: links {links(translated)}")
    if sorted(EMAIL.findall(english)) != sorted(EMAIL.findall(translated)):
        problems.append(f"{where}: email addresses {EMAIL.findall(translated)}")
    return problems


def is_words(path: tuple, name: str) -> bool:
    keys = [step for step in path if isinstance(step, str)]
    in_data_subtree = any(tuple(keys[: len(subtree)]) == subtree for subtree in DATA_SUBTREES.get(name, ()))
    return not in_data_subtree and not (set(keys) & (DATA_KEYS | NOT_WORDS))


def place_name_given(path: tuple, value, name: str) -> bool:
    """A language's own name for a place in a data subtree ("areas" / "CF" / "name"), or the way to one."""
    keys = tuple(step for step in path if isinstance(step, str))
    inside = any(keys[: len(subtree)] == subtree for subtree in DATA_SUBTREES.get(name, ()))
    return inside and (isinstance(value, dict) or keys[-1] == "name")


def needs_translating(text: str, code: str) -> bool:
    """Whether a string has words (not just placeholders and punctuation) that a language would not
    write as English does."""
    same = SAME_IN_EVERY_LANGUAGE | SAME_AS_ENGLISH.get(code, set())
    return text not in same and bool(re.search(r"[^\W\d_]", PLACEHOLDER.sub("", text)))


def shape_problems(english, translated, path: tuple, name: str, code: str) -> list[str]:
    """Keys, slugs and list lengths in a translation file that the English file does not have, and
    data the translation sets (the loader lays a translation over the English, dropping unknown keys)."""
    where = "/".join(map(str, path)) or "(top)"
    if translated is None or english is None:  # nothing given, or a slot the English leaves to each language
        return []
    if isinstance(english, dict):
        if not isinstance(translated, dict):
            return [f"{where}: a {type(translated).__name__} where the English has keys"]
        problems = []
        for key, value in translated.items():
            if key in english:
                continue
            if key in PLURAL_CATEGORIES and isinstance(english.get("other"), str) and isinstance(value, str):
                # A language's own plural forms (Welsh "zero", "two", "few", "many"): app/widget/text.py adds them.
                problems += compare_text(english["other"], value, code, f"{where}/{key}")
            else:
                problems.append(f"{where}/{key}: not in the English file")
        problems += [
            f"{where}/{key}: data, set in the English file only"
            for key in translated
            if key in english
            and key != "slug"
            and not is_words((*path, key), name)
            and key not in NOT_WORDS
            and not place_name_given((*path, key), translated[key], name)
        ]
        for key, value in english.items():
            problems += shape_problems(value, translated.get(key), (*path, key), name, code)
        return problems
    if isinstance(english, list):
        if not isinstance(translated, list):
            return [f"{where}: a {type(translated).__name__} where the English has a list"]
        if english and all(isinstance(item, dict) and "slug" in item for item in english):
            slugs = [item.get("slug") if isinstance(item, dict) else None for item in translated]
            if sorted(map(str, slugs)) != sorted(item["slug"] for item in english):
                return [f"{where}: slugs {slugs}, the English has {[item['slug'] for item in english]}"]
            by_slug = {item["slug"]: item for item in translated}
            return [
                problem
                for item in english
                for problem in shape_problems(item, by_slug[item["slug"]], (*path, item["slug"]), name, code)
            ]
        if len(translated) != len(english):
            return [f"{where}: {len(translated)} items, the English has {len(english)}"]
        return [
            problem
            for i, (item, words) in enumerate(zip(english, translated, strict=True))
            for problem in shape_problems(item, words, (*path, i), name, code)
        ]
    if isinstance(translated, (dict, list)):
        return [f"{where}: a {type(translated).__name__} where the English has a value"]
    return []


def word_problems(english, merged, path: tuple, name: str, code: str) -> list[str]:
    """Strings a person reads that the merged translation leaves in English, or whose placeholders,
    links or email addresses differ from the English."""
    if isinstance(english, dict):
        return [
            problem
            for key, value in english.items()
            for problem in word_problems(value, merged[key], (*path, key), name, code)
        ]
    if isinstance(english, list):
        return [
            problem
            for i, (item, words) in enumerate(zip(english, merged, strict=True))
            for problem in word_problems(
                item, words, (*path, (item.get("slug") if isinstance(item, dict) else None) or i), name, code
            )
        ]
    if not isinstance(english, str) or not is_words(path, name):
        return []
    where = "/".join(map(str, path))
    if not isinstance(merged, str):
        return [f"{where}: {merged!r} is not text"]
    problems = compare_text(english, merged, code, where)
    if merged == english and needs_translating(english, code):
        problems.append(f"{where}: still in English ({english[:60]!r})")
    return problems


@pytest.mark.parametrize("name", YAML_FILES)
def test_every_content_file_has_a_translation_that_fits_the_english(name, other_languages):
    english = content_loader.load_yaml(name, language="en")
    problems = []
    for code in other_languages:
        path = CONTENT / f"{name}.{code}.yaml"
        if not path.exists():
            problems.append(f"{path.name}: missing")
            continue
        translated = yaml.safe_load(path.read_text(encoding="utf-8"))
        problems += [f"{path.name} {problem}" for problem in shape_problems(english, translated, (), name, code)]
    assert problems == []


@pytest.mark.parametrize("name", YAML_FILES)
def test_every_word_of_the_copy_is_translated(name, other_languages):
    english = content_loader.load_yaml(name, language="en")
    problems = []
    for code in other_languages:
        if (CONTENT / f"{name}.{code}.yaml").exists():  # a missing file fails the test above
            merged = content_loader.load_yaml(name, language=code)
            problems += [f"{name}.{code}.yaml {problem}" for problem in word_problems(english, merged, (), name, code)]
    assert problems == []


@pytest.mark.parametrize("name", PAGES)
def test_every_page_has_a_translation_with_the_same_structure_and_links(name, other_languages):
    english = (CONTENT / "pages" / f"{name}.md").read_text(encoding="utf-8")
    problems = []
    for code in other_languages:
        path = CONTENT / "pages" / f"{name}.{code}.md"
        if not path.exists():
            problems.append(f"{path.name}: missing")
            continue
        translated = path.read_text(encoding="utf-8")
        if not translated.startswith("# "):
            problems.append(f"{path.name}: the first line is not '# Title'")
        if content_loader.page(name, language=code)[0] == content_loader.page(name, language="en")[0]:
            problems.append(f"{path.name}: the title is the English one")
        for what, pattern in (("headings", HEADING), ("list items", LIST_ITEM), ("table rows", TABLE_ROW)):
            counts = len(pattern.findall(translated)), len(pattern.findall(english))
            if counts[0] != counts[1]:
                problems.append(f"{path.name}: {counts[0]} {what}, the English has {counts[1]}")
        problems += compare_text(english, translated, code, path.name)
    assert problems == []


@pytest.mark.parametrize("name", PAGES)
def test_each_page_is_served_in_each_language(client, app, name):
    for code in app.config["LANGUAGES"][1:]:
        title, body = content_loader.page(name, language=code)
        response = client.get(f"/{code}/{name}")
        assert response.status_code == 200
        assert f'lang="{code}"' in response.text
        assert title in response.text.replace("&#39;", "'")
