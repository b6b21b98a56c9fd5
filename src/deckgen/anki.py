"""The guide as an Anki package: stable ids, per-note modification times, byte-identical output."""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import json
import sqlite3
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import genanki
import jinja2
from markupsafe import escape

from deckgen.cache import Slot, digest
from deckgen.media import figures_in
from deckgen.model import Category, Entry, Guide
from deckgen.render import environment, inline_html, markdown_html
from deckgen.resources import Templates
from deckgen.stamps import NOTE_PREFIX, Stamp, Stamps, fingerprint

# Written once, never derived: Anki matches note types by id, and a changed id or field list makes
# every re-imported note "conflicting". If the fields must ever change, pick a new id on purpose.
# The first note type (LEGACY_*) had a Category field; it was dropped so that renaming or
# renumbering a category changes no note: the card shows its subdeck from Anki's own {{Subdeck}}.
MODEL_ID = 1_764_547_201
MODEL_NAME = "deckgen Q&A v2"
FIELDS = ("Question", "Answer", "Gist", "References", "Id")
LEGACY_MODEL_ID = 1_730_862_401
LEGACY_FIELDS = ("Question", "Answer", "Gist", "Category", "References", "Id")
GUID_NAMESPACE = "deckgen/entry"
ADVANCED_TAG = "advanced"  # entries beyond the core curriculum: study the core with -tag:advanced

# The zip entries carry this fixed time so that the same notes give the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def note_guid(entry_id: str, attempt: int = 0) -> str:
    """The GUID a note made for `entry_id` gets when nothing recorded says otherwise.

    From the id alone, so editing the text keeps the note and its reviews; `attempt` > 0 gives
    other GUIDs for the rare id whose own GUID an earlier renamed entry already holds.
    """
    if attempt:
        return str(genanki.guid_for(GUID_NAMESPACE, entry_id, attempt))
    return str(genanki.guid_for(GUID_NAMESPACE, entry_id))


def assign_guids(guide: Guide, stamps: Stamps, known: Mapping[str, str] | None = None
                 ) -> dict[str, str]:
    """Each entry's note GUID: the one its note already has, so renames keep the note.

    In order: the GUID the lock file recorded for the entry's own id; else the one recorded for
    the first id in its `was` list that has a record; else, with no record at all, the GUID of
    the first `was` id (the original id: list it first), or of its own id. When an entry absorbs
    several old ids, only that one's note is kept; the others' notes are left over (removed).
    `known` may hold, by entry id, that last GUID (note_guid of the first `was` id or the id),
    worked out before.
    """
    guids: dict[str, str] = {}
    taken: set[str] = set()
    for entry in guide.entries:  # recorded GUIDs first: a note that exists keeps its GUID
        for key in (entry.id, *entry.was):
            stamp = stamps.record(f"{NOTE_PREFIX}{key}")
            if stamp is not None and stamp.guid is not None and stamp.guid not in taken:
                guids[entry.id] = stamp.guid
                taken.add(stamp.guid)
                break
    for entry in guide.entries:
        if entry.id in guids:
            continue
        origin = entry.was[0] if entry.was else entry.id
        guid = known[entry.id] if known and entry.id in known else note_guid(origin)
        attempt = 0
        while guid in taken:
            attempt += 1
            guid = note_guid(origin, attempt)
        guids[entry.id] = guid
        taken.add(guid)
    return guids


def deck_id(name: str) -> int:
    """A deck id derived from the deck's full name (Anki matches decks by name anyway)."""
    digest = hashlib.sha256(f"deckgen/deck/{name}".encode()).digest()
    return 1 << 30 | int.from_bytes(digest[:4], "big") >> 2


@dataclass(frozen=True)
class CardTemplates:
    """What the note type looks like: anki/ of the effective templates.

    `media` holds the files the templates and CSS use (a font and its licence), by name: every
    file in anki/ whose name starts with `_`, the prefix Anki's Check Media leaves alone in files
    no note refers to.
    """

    front: str
    back: str
    css: str
    media: dict[str, bytes]

    @classmethod
    def read(cls, templates: Path) -> CardTemplates:
        """The card templates and CSS: the project's `templates` folder over deckgen's defaults."""
        effective = Templates(templates)
        return cls(
            front=effective.read_text("anki/front.html"),
            back=effective.read_text("anki/back.html"),
            css=effective.read_text("anki/card.css"),
            media={name.removeprefix("anki/"): effective.read_bytes(name)
                   for name in sorted(effective.files)
                   if name.startswith("anki/_") and "/" not in name.removeprefix("anki/")},
        )


class _StampedModel(genanki.Model):  # type: ignore[misc]
    def __init__(self, mod: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mod = mod

    def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
        data: dict[str, Any] = super().to_json(self.mod, deck_id)
        return data


def note_fields(entry: Entry, references: jinja2.Template,
                figures: dict[str, str] | None = None) -> list[str]:
    """The note's fields as HTML, in FIELDS order; every piece of user text escaped, figures
    shown from their Anki media names."""
    return [
        str(inline_html(entry.question)),
        str(markdown_html(entry.answer, figures=figures)),
        str(inline_html(entry.gist)),
        references.render(refs=entry.refs).strip(),
        str(escape(entry.id)),
    ]


def legacy_digest(fields: list[str], tags: list[str], label: str) -> str:
    """The digest the same note had under the legacy note type, its Category field `label`."""
    return fingerprint([*fields[:3], str(escape(label)), *fields[3:]], tags)


def question_digest(question_html: str) -> str:
    """A short digest of a note's question, to notice an entry renamed without `was`."""
    return fingerprint(question_html)[:12]


class _RenderedNote(NamedTuple):
    """One entry's note as rendered, and what it was rendered from."""

    entry_id: str
    inputs: str  # a digest of everything the note is rendered from
    fields: list[str]
    tags: list[str]
    digest: str  # of the fields and tags: what the note's modification time follows
    question: str  # question_digest of the question's HTML
    guid: str  # the GUID of the entry's original id (note_guid), for assign_guids


class _RenderedNotes:
    """Notes kept from earlier builds, so a rebuild renders only the entries that changed.

    Kept by category: a category read from the same file bytes (its `digest`) showing the same
    figures has the same notes, taken as they are with no work per entry. In a category that
    changed, each entry's note is kept when a digest of what it is rendered from is the same.
    The cache holds only plain values (NamedTuples of strings): they read back fast.
    """

    def __init__(self, guide: Guide, template: bytes) -> None:
        owner = str(guide.categories[0].path.parent.resolve()) if guide.categories else ""
        self._slot = Slot("notes", owner)
        self._key = digest(template)  # deckgen's version and the references template
        old = self._slot.get(self._key)
        self._old: dict[str, tuple[_RenderedNote, ...]] = old if isinstance(old, dict) else {}
        self._new: dict[str, tuple[_RenderedNote, ...]] = {}
        self._by_id: dict[str, _RenderedNote] | None = None

    def get(self, category: Category, references: jinja2.Template, figures: dict[str, str]
            ) -> tuple[_RenderedNote, ...]:
        """The notes of the category's entries, in order."""
        shown = sorted({(t, figures[t]) for e in category.entries if "![" in e.answer
                        for _, t in figures_in(e.answer) if t in figures})
        key = digest(category.digest, *(f"{t}\0{name}" for t, name in shown))
        notes = self._old.get(key) if category.digest else None
        if notes is None:
            notes = tuple(self._note(e, category, references, figures) for e in category.entries)
        if category.digest:
            self._new[key] = notes
        return notes

    def _note(self, entry: Entry, category: Category, references: jinja2.Template,
              figures: dict[str, str]) -> _RenderedNote:
        shown = tuple(sorted((t, figures[t]) for _, t in figures_in(entry.answer) if t in figures))
        inputs = digest(repr((entry.id, entry.question, entry.answer, entry.gist, entry.refs,
                              entry.tags, entry.level, entry.was[:1], category.slug, shown)))
        if self._by_id is None:
            self._by_id = {n.entry_id: n for notes in self._old.values() for n in notes}
        kept = self._by_id.get(entry.id)
        if kept is not None and kept.inputs == inputs:
            return kept
        fields = note_fields(entry, references, figures)
        genanki.Note(fields=fields)._check_invalid_html_tags_in_fields()  # genanki's warning
        tags = [category.slug, *(t for t in entry.tags if t != category.slug)]
        if entry.advanced and ADVANCED_TAG not in tags:
            tags.append(ADVANCED_TAG)
        return _RenderedNote(entry.id, inputs, fields, tags, fingerprint(fields, tags),
                             question_digest(fields[0]),
                             note_guid(entry.was[0] if entry.was else entry.id))

    def save(self) -> None:
        if self._new != self._old:
            self._slot.put(self._key, self._new)


def deck_label(category: Category) -> str:
    """The category's subdeck name. Anki shows a deck's name on the card as HTML ({{Subdeck}}),
    so the angle brackets of user text become look-alike quotes there: text stays text."""
    return category.label.replace("<", "\u2039").replace(">", "\u203a")


def _label_before(stamps: Stamps, entry: Entry, category: Category) -> str:
    """The subdeck the entry's note was last built in, as far as the lock file knows."""
    for key in (entry.id, *entry.was):
        stamp = stamps.record(f"{NOTE_PREFIX}{key}")
        if stamp is not None and stamp.deck is not None:
            return stamp.deck
    return deck_label(category)


def _legacy_digest(note: _RenderedNote, stamps: Stamps, entry: Entry, category: Category) -> str:
    return legacy_digest(note.fields, note.tags, _label_before(stamps, entry, category))


# A note as the package holds it: modification time, GUID, fields, tags.
_NoteRow = tuple[int, str, list[str], list[str]]


class _Deck(genanki.Deck):  # type: ignore[misc]
    """A deck whose notes are written as genanki writes a Note's, row for row, without making
    a Note object (and its checks, done when the note was rendered) for each of thousands."""

    def __init__(self, deck_id: int, name: str, description: str, model: _StampedModel) -> None:
        super().__init__(deck_id, name, description)
        self.model = model
        self.rows: list[_NoteRow] = []

    def write_to_db(self, cursor: Any, timestamp: float, id_gen: Any) -> None:
        if self.rows:
            self.add_model(self.model)  # genanki adds the model of each of the deck's notes
        super().write_to_db(cursor, timestamp, id_gen)  # the deck and note type: no Note here
        model = self.model
        requirements = [(order, all if kind == "all" else any, fields)
                        for order, kind, fields in model._req]
        mid, sort_index, deck = model.model_id, model.sort_field_index, self.deck_id
        note_sql = "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);"
        card_sql = "INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);"
        execute = cursor.execute
        for mod, guid, fields, tags in self.rows:
            note_id = next(id_gen)
            execute(note_sql, (note_id, guid, mid, mod, -1, f" {' '.join(tags)} ",
                               "\x1f".join(fields), fields[sort_index], 0, 0, ""))
            for order, test, required in requirements:
                if test(fields[i] for i in required):
                    execute(card_sql, (next(id_gen), note_id, deck, order, mod, -1, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 0, ""))


def build_package(guide: Guide, templates: Path, stamps: Stamps, now: int) -> bytes:
    """The .apkg bytes for `guide`; the same guide, templates and stamps give the same bytes."""
    looks = CardTemplates.read(templates)
    model_mod = stamps.mod("notetype", fingerprint(FIELDS, looks.front, looks.back, looks.css), now)
    model = _StampedModel(
        model_mod,
        model_id=MODEL_ID,
        name=MODEL_NAME,
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": "Question > Answer", "qfmt": looks.front, "afmt": looks.back}],
        css=looks.css,
    )
    env = environment(templates)
    description = env.get_template("anki/description.html.j2").render(
        guide=guide, markdown=markdown_html
    ).strip()
    references = env.get_template("anki/references.html.j2")
    rendered = _RenderedNotes(guide, Templates(templates).read_bytes("anki/references.html.j2"))
    figures = {m.name: m.anki_name for m in guide.media}
    notes = {c.path: rendered.get(c, references, figures) for c in guide.categories}
    rendered.save()
    root = genanki.Deck(deck_id(guide.title), guide.title, description=description)
    decks = [root]
    guids = assign_guids(guide, stamps, {n.entry_id: n.guid for ns in notes.values() for n in ns})
    stamps.title = guide.title
    for category in guide.categories:
        label = deck_label(category)
        name = f"{guide.title}::{label}"
        deck = _Deck(deck_id(name), name, str(escape(category.guide)), model)
        for entry, note in zip(category.entries, notes[category.path], strict=True):
            guid = guids[entry.id]
            mod = stamps.mod(f"{NOTE_PREFIX}{entry.id}", note.digest, now, guid=guid, deck=label,
                             question=note.question,
                             legacy=partial(_legacy_digest, note, stamps, entry, category))
            deck.rows.append((mod, guid, note.fields, note.tags))
        decks.append(deck)
    root.add_model(model)
    media = {m.anki_name: m.path.read_bytes() for m in guide.media}
    media.update(looks.media)
    return _write_apkg(genanki.Package(decks), media)


def _write_apkg(package: genanki.Package, media: dict[str, bytes]) -> bytes:
    """The package as zip bytes: the collection, then `media` as numbered entries in name order."""
    timestamp = max(
        [mod for d in package.decks if isinstance(d, _Deck) for mod, *_ in d.rows]
        + [m.mod for m in _models(package)]
    )
    conn = sqlite3.connect(":memory:")
    try:
        cursor = conn.cursor()
        package.write_to_db(cursor, timestamp, itertools.count(timestamp * 1000))
        conn.commit()
        database = conn.serialize()
    finally:
        conn.close()
    buffer = io.BytesIO()
    names = sorted(media)
    media_map = json.dumps({str(i): name for i, name in enumerate(names)}).encode()
    entries = [("collection.anki2", database), ("media", media_map),
               *((str(i), media[name]) for i, name in enumerate(names))]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _models(package: genanki.Package) -> list[_StampedModel]:
    return [m for d in package.decks for m in d.models.values()]


@dataclass(frozen=True)
class PackagedNote:
    """One note as an .apkg holds it."""

    guid: str
    entry_id: str
    mod: int
    fields: list[str]
    tags: list[str]
    deck: str  # the full name of its card's deck, "Title::NN Name"


@dataclass(frozen=True)
class PackageContents:
    """What a deckgen .apkg holds: its notes and note type (fields, templates, css, time)."""

    notes: list[PackagedNote]
    notetype_fields: list[str]
    notetype_looks: tuple[str, str, str]  # front, back, css
    notetype_mod: int
    notetype_id: int

    @property
    def title(self) -> str | None:
        """The root deck's name, or None for a package without notes."""
        return self.notes[0].deck.split("::")[0] if self.notes else None


def read_package(path: Path) -> PackageContents:
    """The notes and note type of an .apkg deckgen wrote. Raises ValueError if it is not one."""
    with zipfile.ZipFile(path) as archive:
        database = archive.read("collection.anki2")
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(database)
        (models_json, decks_json), = conn.execute("select models, decks from col").fetchall()
        models = json.loads(models_json)
        decks = {int(k): v["name"] for k, v in json.loads(decks_json).items()}
        model = models.get(str(MODEL_ID)) or models.get(str(LEGACY_MODEL_ID))
        if model is None:
            raise ValueError(f"{path} holds no deckgen note type")
        names = [f["name"] for f in model["flds"]]
        rows = conn.execute(
            "select n.guid, n.mod, n.tags, n.flds, min(c.did) from notes n "
            "join cards c on c.nid = n.id where n.mid = ? group by n.id", (model["id"],)
        ).fetchall()
    finally:
        conn.close()
    notes = []
    for guid, mod, tags, flds, did in rows:
        fields = str(flds).split("\x1f")
        notes.append(PackagedNote(str(guid), html.unescape(fields[names.index("Id")]), int(mod),
                                  fields, str(tags).split(), decks[int(did)]))
    template = model["tmpls"][0]
    return PackageContents(notes, names, (template["qfmt"], template["afmt"], model["css"]),
                           int(model["mod"]), int(model["id"]))


def stamps_from_package(path: Path) -> tuple[dict[str, Stamp], str | None]:
    """The lock file's stamps and title as they were when `path` was built (for a lost lock)."""
    contents = read_package(path)
    stamps: dict[str, Stamp] = {}
    for note in contents.notes:
        question = note.fields[contents.notetype_fields.index("Question")]
        stamps[f"{NOTE_PREFIX}{note.entry_id}"] = Stamp(
            fingerprint(note.fields, note.tags), note.mod, note.guid,
            note.deck.split("::", 1)[-1], question_digest(question))
    stamps["notetype"] = Stamp(fingerprint(contents.notetype_fields, *contents.notetype_looks),
                               contents.notetype_mod)
    return stamps, contents.title
