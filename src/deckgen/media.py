"""Figures: image files in source/media/ that an entry's answer shows with `![alt](name.svg)`.

Only a bare file name inside source/media/ is accepted, of a known type whose bytes match it, not
too large, with alt text; an SVG may not run scripts or reach outside itself. Each file gets a flat
Anki media name carrying a short hash of its bytes, so two files can never collide and an edited
figure is a new name (Anki never shows a stale copy).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

MEDIA_DIR = "media"
MAX_BYTES = 2_000_000
KINDS = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
FIGURE = re.compile(r"!\[([^\]\n]*)\]\(([^)\n]*)\)")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Anything in an SVG that runs code or loads another resource.
_SVG_ACTIVE = re.compile(
    r"<\s*(script|foreignObject|iframe|object|embed|image|feImage)\b|\bon[a-z]+\s*=|"
    r"(?:href|src)\s*=\s*[\"']\s*(?!#)|url\(\s*[\"']?\s*(?!#)|@import",
    re.I,
)


@dataclass(frozen=True, slots=True)
class MediaFile:
    """One figure file of the source, as the outputs refer to it."""

    name: str  # as written in the source: a file name in source/media/
    path: Path
    digest: str  # sha256 of the bytes

    @property
    def anki_name(self) -> str:
        """The flat name in Anki's media folder: the stem, a short hash of the bytes, the type."""
        path = Path(self.name)
        stem = re.sub(r"[^A-Za-z0-9-]+", "-", path.stem).strip("-").lower() or "figure"
        return f"deckgen-{stem}-{self.digest[:10]}{path.suffix.lower()}"


def figures_in(text: str) -> list[tuple[str, str]]:
    """The (alt, target) of every `![alt](target)` in `text`."""
    return [(m.group(1), m.group(2).strip()) for m in FIGURE.finditer(text)]


def _content_matches(kind: str, data: bytes) -> bool:
    if kind == ".png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if kind in (".jpg", ".jpeg"):
        return data.startswith(b"\xff\xd8\xff")
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in data[:65536]


def check_figure(alt: str, target: str, media: Path) -> tuple[MediaFile | None, str | None]:
    """The media file a figure refers to, or why it cannot be shown."""
    where = f"![{alt}]({target})"
    if not alt.strip():
        return None, f"{where}: a figure needs alt text, e.g. ![The Transformer block]({target})"
    if (not target or "/" in target or "\\" in target or ":" in target or target.startswith(".")
            or not _NAME.match(target)):
        return None, (f"{where}: only files in {media} can be shown; write the file's name alone, "
                      "e.g. ![alt](decoder-block.svg)")
    suffix = Path(target).suffix.lower()
    if suffix not in KINDS:
        kind = suffix or "no extension"
        return None, f"{where}: {kind} is not a figure type (use SVG, PNG or JPEG)"
    path = media / target
    try:
        if path.is_symlink() or not path.is_file():
            raise FileNotFoundError
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, (f"{where}: the file is {size / 1e6:.1f} MB; figures may be at most "
                          f"{MAX_BYTES / 1e6:.0f} MB")
        data = path.read_bytes()
    except FileNotFoundError:
        return None, f"{where}: there is no file {path}"
    except OSError as exc:
        return None, f"{where}: cannot read {path} ({exc.strerror})"
    if not _content_matches(suffix, data):
        return None, f"{where}: {path} is not a {suffix[1:].upper()} file"
    if suffix == ".svg":
        active = _SVG_ACTIVE.search(data.decode("utf-8", "replace"))
        if active:
            return None, (f"{where}: the SVG contains {active.group(0).strip()!r}; figures may not "
                          "run scripts or load other files")
    return MediaFile(target, path, hashlib.sha256(data).hexdigest()), None


def media_files(media: Path) -> list[Path]:
    """The figure files present in the media folder (by type), in name order."""
    if not media.is_dir():
        return []
    return sorted(p for p in media.iterdir() if p.suffix.lower() in KINDS and p.is_file())
