"""The font the cards ask for travels in the .apkg as media, and Anki's Check Media is content."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from anki_helpers import import_apkg, open_collection
from conftest import Project
from deckgen.anki import MODEL_NAME


def test_the_package_carries_the_templates_media_in_name_order(mini: Project) -> None:
    assert mini.build().exit_code == 0
    shipped = sorted(p.name for p in (mini.templates / "anki").glob("_*"))
    assert "_deckgen-SourceSans3.woff2" in shipped and "_deckgen-SourceSans3-OFL.txt" in shipped
    with zipfile.ZipFile(mini.apkg()) as archive:
        media = json.loads(archive.read("media"))
        assert media == {str(i): name for i, name in enumerate(shipped)}
        for number, name in media.items():
            assert archive.read(number) == (mini.templates / "anki" / name).read_bytes()


def test_after_import_the_font_is_in_the_media_folder_and_check_media_is_clean(
    mini: Project, tmp_path: Path
) -> None:
    assert mini.build().exit_code == 0
    col = open_collection(tmp_path / "anki")
    import_apkg(col, mini.apkg())
    note_type = col.models.by_name(MODEL_NAME)
    assert note_type is not None
    css = note_type["css"]
    fonts = re.findall(r'url\("([^"]+)"\)', css)
    assert fonts == ["_deckgen-SourceSans3.woff2", "_deckgen-SourceSans3-Italic.woff2"]
    folder = Path(col.media.dir())
    for name in fonts:
        assert (folder / name).read_bytes() == (mini.templates / "anki" / name).read_bytes()
    check = col.media.check()
    assert list(check.missing) == [] and list(check.unused) == [], check.report
    col.close()
