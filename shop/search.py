"""Search text: folding (traditional to simplified, width, case), jieba segmentation, pinyin, queries, highlights.

Pure Python (no models, no database): the indexing service and the selectors use it, and so does the
migration that fills the columns, so a row is indexed the same way whichever of them wrote it.

How matching works. A document (a product's name, its brand and category path, its tags, its description)
is folded and becomes a list of lexemes: jieba's search-mode words, every CJK character and every
two-character window of each CJK run (so a word jieba did not know is still found), Latin words and numbers,
and for names, brands and categories the pinyin and the initials of every word-boundary suffix of each CJK run
("wuxianshubiao", "shubiao", "wxsb", "sb"). A query is folded and cut by jieba in precise mode (no HMM, so
an unknown run falls into single characters, which are merged back into one term: "智享鼠标" gives 智享 +
鼠标); each term becomes match units (its two-character windows, or itself), and a product matches when
every unit is a prefix of one of its lexemes. PostgreSQL does that with `to_tsquery('simple', 'u1:* & u2:*')`
over a weighted tsvector (GIN); SQLite with `LIKE '% u1%'` over the same lexemes, so both find the same rows.
"""

import html
import re
import threading
import unicodedata
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

# The query as used: longer input is cut (the page says so); a search box has no use for more.
MAX_QUERY_LENGTH = 100
MAX_TERMS = 8
MAX_UNITS = 16
SUGGEST_MAX_LENGTH = 50
SUGGEST_LIMIT = 8

# ts_rank's weights, D C B A: a match in the name counts most, then brand or category, then a tag,
# then the description. SQLite's ranking uses the same numbers.
WEIGHTS = {"name": 1.0, "meta": 0.4, "tags": 0.2, "body": 0.1}
FIELDS = tuple(WEIGHTS)  # search_name, search_meta, search_tags, search_body

# Words that carry no meaning in a shopping query; dropped when something else is left.
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "是",
        "在",
        "给",
        "有",
        "个",
        "吗",
        "呢",
        "啊",
        "吧",
        "买",
        "要",
        "想",
        "求",
        "一个",
        "the",
        "and",
        "or",
        "for",
        "of",
        "a",
        "an",
    ]
)

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD_RE = re.compile(rf"[0-9a-z]+|[{_CJK}]+")
_NOT_WORD_RE = re.compile(rf"[^0-9a-z{_CJK}]+")
_CJK_RE = re.compile(rf"[{_CJK}]+")
_CJK_CHAR_RE = re.compile(rf"^[{_CJK}]$")

_lock = threading.Lock()
_tools = {}


def _jieba():
    if "jieba" not in _tools:
        with _lock:
            if "jieba" not in _tools:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _tools["jieba"] = jieba
    return _tools["jieba"]


def _converter():
    """OpenCC's Taiwan-to-mainland profile: characters (耳機 → 耳机) and phrases (滑鼠 → 鼠标)."""
    if "opencc" not in _tools:
        with _lock:
            if "opencc" not in _tools:
                import opencc

                _tools["opencc"] = opencc.OpenCC("tw2sp")
    return _tools["opencc"]


def _pinyin(word: str) -> tuple[str, str]:
    """(full pinyin, initials) of a CJK word: 鼠标 → ("shubiao", "sb")."""
    if "pinyin" not in _tools:
        with _lock:
            import pypinyin

            _tools["pinyin"] = pypinyin
    pypinyin = _tools["pinyin"]
    syllables = pypinyin.lazy_pinyin(word, errors="ignore", v_to_u=False)
    syllables = [s for s in syllables if s.isascii() and s.isalpha()]
    return "".join(syllables), "".join(s[0] for s in syllables)


def fold(text: str) -> str:
    """Full-width to half-width, traditional to simplified (with Taiwan phrases), lower case."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    if not text:
        return ""
    return _converter().convert(text).lower()


def clean_query(query) -> str:
    """The query as typed, minus control characters (PostgreSQL refuses NUL), at most MAX_QUERY_LENGTH."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(query or ""))
    return " ".join(text.split())[:MAX_QUERY_LENGTH].strip()


def query_was_cut(query) -> bool:
    text = "".join(ch if ch.isprintable() else " " for ch in str(query or ""))
    return len(" ".join(text.split())) > MAX_QUERY_LENGTH


# --- documents ---------------------------------------------------------------------------------


def _cjk_windows(run: str) -> list[str]:
    """Every character and every two-character window of a CJK run."""
    return list(run) + [run[i : i + 2] for i in range(len(run) - 1)]


def _run_pinyin(words: list[str]) -> list[str]:
    """Pinyin and initials of each word-boundary suffix of a run's words: 无线 鼠标 → wuxianshubiao,
    wxsb, shubiao, sb (so typing the start of any word, or of several in a row, finds it)."""
    out = []
    for i in range(len(words)):
        full, initials = _pinyin("".join(words[i:]))
        if full:
            out.append(full)
        if len(initials) > 1:
            out.append(initials)
    return out


def lexemes(text: str, *, pinyin: bool = False) -> list[str]:
    """The lexemes of one field, in order, without repeats."""
    folded = _NOT_WORD_RE.sub(" ", fold(text))
    out = []
    jieba = _jieba()
    for chunk in folded.split():
        out.extend(w for w in jieba.cut_for_search(chunk) if w.strip())
        for run in _CJK_RE.findall(chunk):
            out.extend(_cjk_windows(run))
            if pinyin:
                out.extend(_run_pinyin([w for w in jieba.cut(run, HMM=False) if w.strip()]))
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class Document:
    """The four weighted fields of a product's index, each a space-padded string of lexemes."""

    name: str
    meta: str
    tags: str
    body: str

    def as_fields(self) -> dict:
        return {f"search_{field}": getattr(self, field) for field in FIELDS}


def _padded(words) -> str:
    return f" {' '.join(words)} " if words else ""


def document(
    *, name: str, brand: str = "", categories=(), tags=(), description: str = "", specs=()
) -> Document:
    """A product's index: name (A), brand and category path (B), tags (C), description and spec values (D)."""
    meta = " ".join([brand or "", *categories])
    body = " ".join([description or "", *(str(v) for v in specs)])
    return Document(
        name=_padded(lexemes(name, pinyin=True)),
        meta=_padded(lexemes(meta, pinyin=True)),
        tags=_padded(lexemes(" ".join(tags))),
        body=_padded(lexemes(body)[:400]),  # a long description must not make the row huge
    )


# --- queries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # the cleaned query as typed (shown back on the page)
    terms: tuple  # folded terms (highlighted in results)
    units: tuple  # prefix-match units: a product matches when every unit starts one of its lexemes
    cut: bool = False  # the input was longer than MAX_QUERY_LENGTH

    def __bool__(self):
        return bool(self.units)

    def tsquery(self) -> str:
        """The raw to_tsquery text: units are only [0-9a-z] or CJK characters, so nothing to escape."""
        return " & ".join(f"{u}:*" for u in self.units)


def _terms_of_chunk(chunk: str) -> list[str]:
    """jieba's precise cut without HMM; runs of single CJK characters (words jieba does not know,
    like a brand) are merged back into one term."""
    terms, pending = [], ""
    for word in _jieba().cut(chunk, HMM=False):
        word = word.strip()
        if not word:
            continue
        if _CJK_CHAR_RE.match(word) and word not in STOPWORDS:
            pending += word
            continue
        if pending:
            terms.append(pending)
            pending = ""
        terms.append(word)
    if pending:
        terms.append(pending)
    return terms


def _units_of_term(term: str) -> list[str]:
    if _CJK_RE.fullmatch(term) and len(term) > 2:
        return [term[i : i + 2] for i in range(len(term) - 1)]
    return [term]


def parse_query(query) -> ParsedQuery:
    text = clean_query(query)
    folded = _NOT_WORD_RE.sub(" ", fold(text))
    terms = []
    for chunk in folded.split():
        terms.extend(_terms_of_chunk(chunk))
    meaningful = [t for t in terms if t not in STOPWORDS]
    terms = list(dict.fromkeys(meaningful or terms))[:MAX_TERMS]
    units = []
    for term in terms:
        units.extend(_units_of_term(term))
    units = list(dict.fromkeys(units))[:MAX_UNITS]
    return ParsedQuery(text=text, terms=tuple(terms), units=tuple(units), cut=query_was_cut(query))


def matches(doc_field: str, unit: str) -> bool:
    """A unit matches a field when it starts one of its lexemes (the SQLite LIKE and PG :* rule)."""
    return f" {unit}" in doc_field


# --- highlights --------------------------------------------------------------------------------


def _folded_same_length(text: str) -> str:
    """The text folded character by character where that keeps positions; else just lower-cased."""
    chars = []
    for ch in text:
        normal = unicodedata.normalize("NFKC", ch).lower()
        chars.append(normal if len(normal) == 1 else ch.lower())
    simple = "".join(chars)
    converted = _converter().convert(simple)
    return converted if len(converted) == len(simple) else simple


def highlight(text: str, terms) -> SafeString:
    """The text, HTML-escaped, with each occurrence of a term wrapped in <mark>. Only escaped
    pieces of the product's own text and our fixed tags reach the page: a query cannot inject markup."""
    text = str(text or "")
    folded = _folded_same_length(text)
    spans = []
    for term in sorted({t for t in terms if t}, key=len, reverse=True):
        for match in re.finditer(re.escape(term), folded):
            spans.append((match.start(), match.end()))
    if not spans:
        return mark_safe(html.escape(text))
    spans.sort()
    merged = [list(spans[0])]
    for start, end in spans[1:]:
        if start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, position = [], 0
    for start, end in merged:
        out.append(html.escape(text[position:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        position = end
    out.append(html.escape(text[position:]))
    return mark_safe("".join(out))


def highlight_terms(parsed: ParsedQuery) -> list[str]:
    """What to mark in a name: the query's terms, and for a term of three or more CJK characters that
    matched by its windows, the windows too (无线鼠标 marks 无线 and 鼠标 in 无线蓝牙鼠标)."""
    out = list(parsed.terms)
    for term in parsed.terms:
        if _CJK_RE.fullmatch(term) and len(term) > 2:
            out.extend(term[i : i + 2] for i in range(len(term) - 1))
    return out
