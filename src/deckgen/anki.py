"""The guide as an Anki package: stable ids, per-note modification times, byte-identical output."""

from __future__ import annotations

import hashlib
import io
import itertools
import sqlite3
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import genanki
import jinja2
from markupsafe import escape

from deckgen.cache import Slot, digest
from deckgen.model import Category, Entry, Guide
from deckgen.render import environment, inline_html, markdown_html
from deckgen.resources import Templates
from deckgen.stamps import Stamps, fingerprint

# Written once, never derived: Anki matches note types by id, and a changed id or field list makes
# every re-imported note "conflicting". If the fields must ever change, pick a new id on purpose.
MODEL_ID = 1_730_862_401
MODEL_NAME = "deckgen Q&A"
FIELDS = ("Question", "Answer", "Gist", "Category", "References", "Id")
GUID_NAMESPACE = "deckgen/entry"
ADVANCED_TAG = "advanced"  # entries beyond the core curriculum: study the core with -tag:advanced

# The zip entries carry this fixed time so that the same notes give the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def note_guid(entry_id: str) -> str:
    """The note's GUID: from the entry id alone, so editing the text keeps the note and reviews."""
    return str(genanki.guid_for(GUID_NAMESPACE, entry_id))


def deck_id(name: str) -> int:
    """A deck id derived from the deck's full name (Anki matches decks by name anyway)."""
    digest = hashlib.sha256(f"deckgen/deck/{name}".encode()).digest()
    return 1 << 30 | int.from_bytes(digest[:4], "big") >> 2


@dataclass(frozen=True)
class CardTemplates:
    """What the note type looks like: anki/ of the effective templates."""

    front: str
    back: str
    css: str

    @classmethod
    def read(cls, templates: Path) -> CardTemplates:
        """The card templates and CSS: the project's `templates` folder over deckgen's defaults."""
        effective = Templates(templates)
        return cls(
            front=effective.read_text("anki/front.html"),
            back=effective.read_text("anki/back.html"),
            css=effective.read_text("anki/card.css"),
        )


class _StampedModel(genanki.Model):  # type: ignore[misc]
    def __init__(self, mod: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mod = mod

    def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
        data: dict[str, Any] = super().to_json(self.mod, deck_id)
        return data


class _StampedNote(genanki.Note):  # type: ignore[misc]
    """A note (and its cards) stamped with its own modification time, not the package's."""

    def __init__(self, mod: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mod = mod

    def write_to_db(self, cursor: Any, timestamp: float, deck_id: int, id_gen: Any) -> None:
        super().write_to_db(cursor, self.mod, deck_id, id_gen)


def note_fields(entry: Entry, category: Category, references: jinja2.Template) -> list[str]:
    """The note's fields as HTML, in FIELDS order; every piece of user text escaped."""
    return [
        str(inline_html(entry.question)),
        str(markdown_html(entry.answer)),
        str(inline_html(entry.gist)),
        str(escape(category.label)),
        references.render(refs=entry.refs).strip(),
        str(escape(entry.id)),
    ]


@dataclass(frozen=True)
class _RenderedNote:
    fields: list[str]
    tags: list[str]
    guid: str
    digest: str  # of the fields and tags: what the note's modification time follows


class _RenderedNotes:
    """Notes kept from earlier builds, so a rebuild renders only the entries that changed.

    Kept by entry id with everything the note is rendered from; comparing those is cheaper than
    hashing them, which matters at thousands of entries.
    """

    def __init__(self, guide: Guide, template: bytes) -> None:
        owner = str(guide.categories[0].path.parent.resolve()) if guide.categories else ""
        self._slot = Slot("notes", owner)
        self._key = digest(template)  # deckgen's version and the references template
        old = self._slot.get(self._key)
        self._old: dict[str, tuple[tuple[object, ...], _RenderedNote]] = old or {}
        self._new: dict[str, tuple[tuple[object, ...], _RenderedNote]] = {}

    def get(self, entry: Entry, category: Category, references: jinja2.Template) -> _RenderedNote:
        inputs = (entry.question, entry.answer, entry.gist, entry.refs, entry.tags,
                  entry.level, category.label, category.slug)
        kept = self._old.get(entry.id)
        if kept is not None and kept[0] == inputs:
            note = kept[1]
        else:
            fields = note_fields(entry, category, references)
            tags = [category.slug, *(t for t in entry.tags if t != category.slug)]
            if entry.advanced and ADVANCED_TAG not in tags:
                tags.append(ADVANCED_TAG)
            note = _RenderedNote(fields, tags, note_guid(entry.id), fingerprint(fields, tags))
        self._new[entry.id] = (inputs, note)
        return note

    def save(self) -> None:
        if self._new != self._old:
            self._slot.put(self._key, self._new)


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
    root = genanki.Deck(deck_id(guide.title), guide.title, description=description)
    decks = [root]
    for category in guide.categories:
        name = f"{guide.title}::{category.label}"
        deck = genanki.Deck(deck_id(name), name, description=str(escape(category.guide)))
        for entry in category.entries:
            note = rendered.get(entry, category, references)
            mod = stamps.mod(f"note:{entry.id}", note.digest, now)
            deck.add_note(_StampedNote(mod, model=model, fields=note.fields, tags=note.tags,
                                       guid=note.guid))
        decks.append(deck)
    root.add_model(model)
    rendered.save()
    return _write_apkg(genanki.Package(decks))


def _write_apkg(package: genanki.Package) -> bytes:
    timestamp = max(
        [n.mod for d in package.decks for n in d.notes] + [m.mod for m in _models(package)]
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
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in (("collection.anki2", database), ("media", b"{}")):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _models(package: genanki.Package) -> list[_StampedModel]:
    return [m for d in package.decks for m in d.models.values()]
