"""Find, parse and validate source/: every problem is collected, then reported in one go."""

from __future__ import annotations

import difflib
import hashlib
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from deckgen.cache import Slot, digest
from deckgen.errors import Problem, SourceError
from deckgen.media import FIGURE, MEDIA_DIR, MediaFile, check_figure, figures_in, media_files
from deckgen.model import Category, Entry, Guide, Reference
from deckgen.stamps import LOCK_FILE

DECK_FILE = "deck.yaml"
CATEGORY_FILE = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.yaml$")
YAML_NAME = re.compile(r"\.ya?ml$", re.I)
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MATH_SPAN = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.S)

DECK_KEYS = {"title": True, "description": True, "intro": False, "closing": False, "author": False}
CATEGORY_KEYS = {"name": True, "guide": True, "entries": True}
ENTRY_KEYS = {
    "id": True,
    "term": True,
    "question": True,
    "answer": True,
    "gist": True,
    "point": False,
    "level": False,
    "was": False,
    "tags": False,
    "refs": False,
}
LEVELS = ("core", "advanced")
REF_KEYS = {"title": True, "author": True, "year": True}
TEXT_FIELDS = ("term", "question", "answer", "gist")

# libyaml's parser, where PyYAML was built with it, reads the guide ~20x faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

GIST_WORD_LIMIT = 20
ANSWER_WORD_LIMIT = 80
FAR_OVER = 1.5  # a build warns past this multiple of a limit; `deckgen check` at the limit

# Limits no real guide comes near (its largest file is 28 KB, its longest field 806 characters,
# its deepest Markdown 4 levels and formula 4 braces) and every hostile file meets, so that such
# a file is refused in well under a second before anything is rendered.
MAX_FILE_BYTES = 1_000_000
MAX_TEXT_CHARS = 1_000_000  # a file's text with YAML aliases expanded
MAX_FIELD_CHARS = 10_000
MAX_MARKDOWN_DEPTH = 16
MAX_FORMULA_DEPTH = 20
_TAB_INDENT = re.compile(r"^ *\t")
_FORMULA_NESTING = re.compile(r"\\[{}]|\\left\b|\\right\b|[{}]")


def word_count(text: str) -> int:
    """Words in a field, counting each formula as one word and a figure as none."""
    return len(FIGURE.sub(" ", MATH_SPAN.sub(" formula ", text)).split())


def math_delimiter_problem(text: str) -> str | None:
    """Why the \\( \\) and \\[ \\] delimiters in text do not pair up, or None when they do."""
    open_at: str | None = None
    closing = {"(": ")", "[": "]"}
    for match in re.finditer(r"\\([()\[\]])", text):
        mark = match.group(1)
        if mark in closing:
            if open_at is not None:
                return f"'\\{mark}' opened inside '\\{open_at}' that is not closed"
            open_at = mark
        elif open_at is None:
            return f"'\\{mark}' closes a formula that was never opened"
        elif closing[open_at] != mark:
            return f"'\\{open_at}' is closed by '\\{mark}'"
        else:
            open_at = None
    if open_at is not None:
        return f"'\\{open_at}' is never closed with '\\{closing[open_at]}'"
    return None


def formula_depth(latex: str) -> int:
    """How deeply a formula's groups nest: {...} and \\left...\\right, escaped braces aside."""
    depth = deepest = 0
    for match in _FORMULA_NESTING.finditer(latex):
        mark = match.group(0)
        if mark in ("{", "\\left"):
            depth += 1
            deepest = max(deepest, depth)
        elif mark in ("}", "\\right"):
            depth -= 1
    return deepest


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _nesting_problem(text: str) -> str | None:
    """Why a field nests too deeply to be shown in full on cards and paper, or None."""
    from deckgen.render import markdown_depth_over  # render imports this module

    for match in MATH_SPAN.finditer(text):
        latex = match.group(1) if match.group(1) is not None else match.group(2)
        depth = formula_depth(latex)
        if depth > MAX_FORMULA_DEPTH:
            return (f"formula {_shorten(match.group(0))} nests {depth} groups ({{...}} or "
                    f"\\left...\\right) inside one another, over the limit of "
                    f"{MAX_FORMULA_DEPTH}: simplify it")
    markdown_depth = markdown_depth_over(text, MAX_MARKDOWN_DEPTH)
    if markdown_depth is not None:
        # Past 20 levels markdown-it stops reading, so the true depth is not known.
        levels = str(markdown_depth) if markdown_depth < 20 else "20 or more"
        return (f"Markdown nested {levels} levels deep (lists, quotes or emphasis inside "
                f"one another), over the limit of {MAX_MARKDOWN_DEPTH}: flatten it")
    return None


@dataclass
class _Reader:
    """Collects problems while turning YAML nodes of one file into checked values."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(
        self, message: str, *, entry: str | None = None, key: str | None = None,
        node: yaml.Node | None = None,
    ) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(Problem(self.path, message, entry, key, line))

    def warn(
        self, message: str, *, entry: str | None = None, key: str | None = None,
        node: yaml.Node | None = None,
    ) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.warnings.append(Problem(self.path, message, entry, key, line))

    def mapping(
        self, node: yaml.Node, spec: dict[str, bool], what: str, entry: str | None = None
    ) -> dict[str, yaml.Node] | None:
        """The keys of a mapping node, after checking required, unknown and repeated keys."""
        if not isinstance(node, yaml.MappingNode):
            self.error(f"{what} must be a mapping of keys to values, not {_kind(node)}",
                       entry=entry, node=node)
            return None
        keys: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.error(f"{what} has a key that is not a plain name", entry=entry, node=key_node)
                continue
            if key in keys:
                self.error("key appears twice", entry=entry, key=key, node=key_node)
                continue
            if key not in spec:
                hint = difflib.get_close_matches(key, list(spec), n=1, cutoff=0.6)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                allowed = ", ".join(spec)
                self.error(f"unknown key (allowed: {allowed}){suggestion}",
                           entry=entry, key=key, node=key_node)
                continue
            keys[key] = value_node
        for key, required in spec.items():
            if required and key not in keys:
                self.error(f"required key is missing from {what}", entry=entry, key=key, node=node)
        return keys

    def text(self, node: yaml.Node, entry: str | None, key: str, *, one_line: bool = False
             ) -> str | None:
        """A non-empty string value."""
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            self.error(f"must be text, not {_kind(node)}", entry=entry, key=key, node=node)
            return None
        value = str(node.value).strip()
        if not value:
            self.error("must not be empty", entry=entry, key=key, node=node)
            return None
        if len(value) > MAX_FIELD_CHARS:
            self.error(f"{len(value):,} characters, over the limit of {MAX_FIELD_CHARS:,}: "
                       "shorten it or split the entry", entry=entry, key=key, node=node)
            return None
        if one_line and "\n" in value:
            self.error("must be a single line", entry=entry, key=key, node=node)
            return None
        problem = math_delimiter_problem(value)
        problem = f"unbalanced math delimiters: {problem}" if problem else _nesting_problem(value)
        if problem:
            self.error(problem, entry=entry, key=key, node=node)
            return None
        return value

    def sequence(self, node: yaml.Node, entry: str | None, key: str) -> list[yaml.Node] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.error(f"must be a list, not {_kind(node)}", entry=entry, key=key, node=node)
            return None
        return list(node.value)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = str(node.tag).rsplit(":", 1)[-1]
    names = {"int": "a number", "float": "a number", "bool": "true/false", "null": "empty",
             "str": "text", "timestamp": "a date"}
    return names.get(tag, "a value")


def _parse(path: Path, raw: bytes, reader: _Reader) -> yaml.Node | None:
    """The YAML node tree of one file's bytes, or None after recording why it cannot be read."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        reader.problems.append(Problem(path, f"not valid UTF-8 (byte {exc.start})", line=bad_line))
        return None
    if not text.strip():
        reader.error("file is empty")
        return None
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        # An unclosed quote or bracket is found at the end of the file; the line that opened it
        # (the "context") is the one to fix.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        tab_line = _tab_indented_line(text, exc.problem_mark)
        if tab_line is not None:
            reader.problems.append(Problem(
                path, "YAML syntax error: this line is indented with a tab; indent with spaces",
                line=tab_line))
            return None
        what = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark is not None:
            what += f" {exc.context} that starts here"
        reader.problems.append(Problem(path, f"YAML syntax error: {what}", line=line))
        return None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        reader.problems.append(Problem(
            path, f"character U+{exc.character:04X} is not allowed in YAML; delete it", line=line))
        return None
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML raises the two kinds above
        reader.problems.append(Problem(path, "YAML error: " + " ".join(str(exc).split())))
        return None
    if node is None:
        reader.error("file is empty")
    elif _expanded_size(node, MAX_TEXT_CHARS) > MAX_TEXT_CHARS:
        reader.error(f"YAML aliases (*name) repeat text until the file holds over "
                     f"{MAX_TEXT_CHARS:,} characters: write each text out where it is used")
        return None
    return node


def _tab_indented_line(text: str, mark: yaml.Mark | None) -> int | None:
    """The line (from 1) where the parser stopped, or the next, when a tab indents it."""
    if mark is None:
        return None
    lines = text.splitlines()
    for number in (mark.line, mark.line + 1):
        if number < len(lines) and _TAB_INDENT.match(lines[number]):
            return number + 1
    return None


def _expanded_size(node: yaml.Node, limit: int) -> int:
    """Characters in a node tree with every alias expanded, counted up to just past `limit`."""
    size = 0
    pending = [node]
    while pending and size <= limit:
        current = pending.pop()
        if isinstance(current, yaml.ScalarNode):
            size += 1 + len(current.value)
        elif isinstance(current, yaml.SequenceNode):
            size += 1
            pending.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            size += 1
            for key, value in current.value:
                pending += (key, value)
    return size


def _scalar_value(node: yaml.Node) -> Any:
    return yaml.SafeLoader("").construct_object(node, deep=True)


def _read_deck(path: Path, raw: bytes, reader: _Reader) -> dict[str, str] | None:
    node = _parse(path, raw, reader)
    if node is None:
        return None
    keys = reader.mapping(node, DECK_KEYS, "deck.yaml")
    if keys is None:
        return None
    values: dict[str, str] = {}
    for key, value_node in keys.items():
        value = reader.text(value_node, None, key, one_line=key == "title")
        if value is not None:
            values[key] = value
    return values


def _read_refs(node: yaml.Node, reader: _Reader, entry: str) -> tuple[Reference, ...]:
    items = reader.sequence(node, entry, "refs")
    refs: list[Reference] = []
    for item in items or []:
        keys = reader.mapping(item, REF_KEYS, "a reference", entry)
        if keys is None or set(REF_KEYS) - set(keys):
            continue
        title = reader.text(keys["title"], entry, "refs.title", one_line=True)
        author = reader.text(keys["author"], entry, "refs.author", one_line=True)
        year_node = keys["year"]
        year = _scalar_value(year_node) if isinstance(year_node, yaml.ScalarNode) else None
        if not isinstance(year, int) or isinstance(year, bool) or not 1700 <= year <= 2100:
            reader.error("must be a year such as 2017", entry=entry, key="refs.year",
                         node=year_node)
            continue
        if title is not None and author is not None:
            refs.append(Reference(title=title, author=author, year=year))
    return tuple(refs)


def _read_tags(node: yaml.Node, reader: _Reader, entry: str) -> tuple[str, ...]:
    items = reader.sequence(node, entry, "tags")
    tags: list[str] = []
    for item in items or []:
        tag = reader.text(item, entry, "tags", one_line=True)
        if tag is None:
            continue
        if not SLUG.match(tag):
            reader.error(f"tag {tag!r} must be lowercase letters, digits and '-', no spaces",
                         entry=entry, key="tags", node=item)
            continue
        tags.append(tag)
    return tuple(tags)


def _read_was(node: yaml.Node, reader: _Reader, entry: str) -> tuple[str, ...]:
    """The ids an entry had before: one slug or a list of them."""
    items = [node] if isinstance(node, yaml.ScalarNode) else reader.sequence(node, entry, "was")
    ids: list[str] = []
    for item in items or []:
        old = reader.text(item, entry, "was", one_line=True)
        if old is None:
            continue
        if not SLUG.match(old):
            reader.error(f"{old!r} is not an entry id (a lowercase slug)", entry=entry,
                         key="was", node=item)
            continue
        if old == entry:
            reader.error("an entry cannot have been itself", entry=entry, key="was", node=item)
            continue
        ids.append(old)
    return tuple(ids)


def _read_entry(node: yaml.Node, reader: _Reader, index: int) -> Entry | None:
    fallback = f"#{index + 1}"
    entry_id = fallback
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == "id" and isinstance(value_node, yaml.ScalarNode):
                entry_id = str(value_node.value) or fallback
    before = len(reader.problems)
    keys = reader.mapping(node, ENTRY_KEYS, "an entry", entry_id)
    if keys is None:
        return None
    values: dict[str, str] = {}
    for key in (*TEXT_FIELDS, "id", "point"):
        if key in keys:
            value = reader.text(keys[key], entry_id, key, one_line=key in ("id", "term", "gist"))
            if value is not None:
                values[key] = value
    if "id" in values and not SLUG.match(values["id"]):
        reader.error("id must be a slug: lowercase letters, digits and '-' (e.g. 'kv-cache')",
                     entry=entry_id, key="id", node=keys["id"])
    tags = _read_tags(keys["tags"], reader, entry_id) if "tags" in keys else ()
    was = _read_was(keys["was"], reader, entry_id) if "was" in keys else ()
    level = "core"
    if "level" in keys:
        value = reader.text(keys["level"], entry_id, "level", one_line=True)
        if value is not None and value not in LEVELS:
            reader.error(f"must be one of {', '.join(LEVELS)}, not {value!r}", entry=entry_id,
                         key="level", node=keys["level"])
        elif value is not None:
            level = value
    refs = _read_refs(keys["refs"], reader, entry_id) if "refs" in keys else ()
    if len(reader.problems) > before:
        return None
    for key, limit in (("gist", GIST_WORD_LIMIT), ("answer", ANSWER_WORD_LIMIT)):
        words = word_count(values[key])
        if words > limit * FAR_OVER:
            reader.warn(f"{words} words, far over the limit of {limit}",
                        entry=entry_id, key=key, node=keys[key])
    return Entry(
        id=values["id"], term=values["term"], question=values["question"],
        answer=values["answer"], gist=values["gist"], tags=tags, refs=refs,
        point=values.get("point"), line=node.start_mark.line + 1, was=was, level=level,
    )


# A figure an entry shows: (entry id, field, the entry's line, alt text, target).
_FigureUse = tuple[str, str, int | None, str, str]


def _read_category(path: Path, number: int, slug: str, raw: bytes, reader: _Reader
                   ) -> tuple[Category, tuple[_FigureUse, ...]] | None:
    """The category in one file and the figures its entries show (found here, so that the
    parse cache keeps them: looking for them in every field of every entry takes a while)."""
    node = _parse(path, raw, reader)
    if node is None:
        return None
    keys = reader.mapping(node, CATEGORY_KEYS, "a category file")
    if keys is None:
        return None
    name = reader.text(keys["name"], None, "name", one_line=True) if "name" in keys else None
    if name is not None and "::" in name:
        reader.error("'::' would make Anki put this category in a deck inside a deck: write it "
                     "another way (e.g. ': ' or ' - ')", key="name", node=keys["name"])
        name = None
    guide = reader.text(keys["guide"], None, "guide") if "guide" in keys else None
    entries: list[Entry] = []
    if "entries" in keys:
        items = reader.sequence(keys["entries"], None, "entries")
        if items is not None and not items:
            reader.error("has no entries", key="entries", node=keys["entries"])
        for index, item in enumerate(items or []):
            entry = _read_entry(item, reader, index)
            if entry is not None:
                entries.append(entry)
    if name is None or guide is None:
        return None
    category = Category(number=number, slug=slug, name=name, guide=guide,
                        entries=tuple(entries), path=path, digest=digest(str(path), raw))
    return category, _figure_uses(category)


def _figure_uses(category: Category) -> tuple[_FigureUse, ...]:
    """Every figure shown in the category's entries, in the order of entries and fields."""
    return tuple((entry.id, field_name, entry.line, alt, target)
                 for entry in category.entries for field_name in TEXT_FIELDS
                 for alt, target in figures_in(MATH_SPAN.sub(" ", getattr(entry, field_name))))


@dataclass(frozen=True)
class SourceFiles:
    """The bytes of every file of the guide in a source folder, read once, and what was wrong
    with the files that could not be read."""

    folder: Path
    files: dict[Path, bytes]
    problems: list[Problem]

    def digest(self) -> str:
        """A digest of the files' names and bytes, and of the problems."""
        h = hashlib.sha256()
        for path, data in sorted(self.files.items()):
            h.update(f"{path.name}\0{len(data)}\0".encode())
            h.update(data)
        for problem in self.problems:
            h.update(f"{problem}\0".encode())
        return h.hexdigest()


def read_source(source: Path) -> SourceFiles:
    """deck.yaml and every YAML file beside it, as bytes; a file that cannot be part of the
    guide (a dangling link, a link leaving the folder, a device, too big) is a problem.

    Hidden files and the lock file are not read; nor is anything that is not named like YAML.
    """
    files: dict[Path, bytes] = {}
    problems: list[Problem] = []
    if not source.is_dir():
        return SourceFiles(source, files, [Problem(source, "source folder does not exist")])
    root = source.resolve()
    for path in sorted(source.iterdir()):
        if path.name.startswith(".") or path.name == LOCK_FILE or not YAML_NAME.search(path.name):
            continue
        problem = _unreadable(path, root)
        if problem is None:
            try:
                with path.open("rb") as stream:
                    data = stream.read(MAX_FILE_BYTES + 1)
            except OSError as exc:
                problem = f"cannot read file: {exc.strerror}"
            else:
                if len(data) > MAX_FILE_BYTES:
                    problem = _too_big()
                else:
                    files[path] = data
        if problem is not None:
            problems.append(Problem(path, problem))
    return SourceFiles(source, files, problems)


def _too_big() -> str:
    return (f"file is over the limit of {MAX_FILE_BYTES:,} bytes (the guide's largest is ~30 KB): "
            "split it into several category files")


def _unreadable(path: Path, root: Path) -> str | None:
    """Why a YAML-named entry of the source folder cannot be read as part of the guide."""
    try:
        if path.is_symlink():
            target = path.resolve()
            if not target.exists():
                return f"is a link to {target}, which does not exist: fix or delete the link"
            if not target.is_relative_to(root):
                return (f"is a link to {target}, outside the source folder: copy the file "
                        "into the source folder instead")
        info = path.stat()
    except OSError as exc:
        return f"cannot read file: {exc.strerror}"
    if stat.S_ISDIR(info.st_mode):
        return "is a folder, not a YAML file"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file (a device, pipe or socket): only YAML files belong here"
    if info.st_size > MAX_FILE_BYTES:
        return _too_big()
    return None


def load_guide(source: Path, files: SourceFiles | None = None) -> tuple[Guide, list[Problem]]:
    """Read and validate every file in `source` (or the bytes in `files`, read from it before);
    return the guide and its warnings.

    Raises SourceError listing every problem found, so one run reports them all.
    """
    if files is None:
        files = read_source(source)
    problems: list[Problem] = list(files.problems)
    warnings: list[Problem] = []
    if not source.is_dir():
        raise SourceError(problems)

    def read(path: Path, fn: Callable[[bytes, _Reader], Any]) -> Any:
        # A file whose bytes were read before gives the same result: take it from the cache.
        raw = files.files[path]
        slot = Slot("parsed", str(path.resolve()))
        key = digest(str(path), raw)
        cached = slot.get(key)
        if cached is None:
            reader = _Reader(path)
            cached = (fn(raw, reader), reader.problems, reader.warnings)
            slot.put(key, cached)
        result, file_problems, file_warnings = cached
        problems.extend(file_problems)
        warnings.extend(file_warnings)
        return result

    deck_path = source / DECK_FILE
    deck: dict[str, str] | None = None
    if deck_path in files.files:
        deck = read(deck_path, partial(_read_deck, deck_path))
    elif not any(p.file == deck_path for p in files.problems):
        problems.append(Problem(deck_path, "missing: the deck's title and description go here"))

    categories: list[Category] = []
    figure_uses: list[tuple[Path, tuple[_FigureUse, ...]]] = []
    numbers: dict[int, Path] = {}
    for path in sorted(files.files):
        if path == deck_path:
            continue
        match = CATEGORY_FILE.match(path.name)
        if match is None:
            hint = ""
            if CATEGORY_FILE.match(path.name.lower()):
                hint = f"; rename it {path.name.lower()}"
            problems.append(Problem(path, "category files are named NN-slug.yaml, "
                                    f"e.g. 01-transformer-architecture.yaml{hint}"))
            continue
        number = int(match.group(1))
        if number in numbers:
            problems.append(Problem(path, f"number {number:02d} is also used by "
                                    f"{numbers[number].name}"))
            continue
        numbers[number] = path
        read_category = read(path, partial(_read_category, path, number, match.group(2)))
        if read_category is not None:
            categories.append(read_category[0])
            figure_uses.append((path, read_category[1]))
    if not numbers and not any(CATEGORY_FILE.match(p.file.name) for p in files.problems):
        problems.append(Problem(source, "no category files (NN-slug.yaml) in the source folder"))
    seen: dict[str, Path] = {}
    for category in categories:
        for entry in category.entries:
            if entry.id in seen:
                problems.append(Problem(category.path, f"id is also used in {seen[entry.id]}",
                                        entry.id, "id", entry.line))
            else:
                seen[entry.id] = category.path
    former: dict[str, str] = {}
    for category in categories:
        for entry in category.entries:
            for old in entry.was:
                if old in seen:
                    problems.append(Problem(category.path, f"{old!r} is still the id of an entry "
                                            f"in {seen[old]}; an id can live in one place only",
                                            entry.id, "was", entry.line))
                elif old in former:
                    problems.append(Problem(category.path, f"{old!r} is also claimed by entry "
                                            f"{former[old]!r}", entry.id, "was", entry.line))
                else:
                    former[old] = entry.id
    media, media_problems = _check_figures(source / MEDIA_DIR, figure_uses)
    problems.extend(media_problems)
    if problems:
        raise SourceError(problems)
    assert deck is not None
    guide = Guide(
        title=deck["title"], description=deck["description"], intro=deck.get("intro", ""),
        closing=deck.get("closing", ""), author=deck.get("author", ""),
        categories=tuple(sorted(categories, key=lambda c: c.number)),
        media=tuple(media),
    )
    return guide, warnings


def _check_figures(media: Path, uses: list[tuple[Path, tuple[_FigureUse, ...]]]
                   ) -> tuple[list[MediaFile], list[Problem]]:
    """The media files the entries show, checked; figures anywhere but in answers are errors."""
    used: dict[str, MediaFile] = {}
    problems: list[Problem] = []
    for path, file_uses in uses:
        for entry_id, field_name, line, alt, target in file_uses:
            if field_name != "answer":
                problems.append(Problem(path, "figures can only be shown in the answer",
                                        entry_id, field_name, line))
                continue
            found, why = check_figure(alt, target, media)
            if found is None:
                problems.append(Problem(path, str(why), entry_id, field_name, line))
            else:
                used[found.name] = found
    return sorted(used.values(), key=lambda m: m.name), problems


def unused_media(source: Path, guide: Guide) -> list[Path]:
    """Figure files in source/media/ that no entry shows."""
    shown = {m.name for m in guide.media}
    return [p for p in media_files(source / MEDIA_DIR) if p.name not in shown]
