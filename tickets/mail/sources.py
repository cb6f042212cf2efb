"""Raw messages from files: a single .eml/.box file, a directory of them, or an mbox."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

# An mbox separator line: "From sender@example.com Thu May  3 12:04:29 2012".
_MBOX_FROM = re.compile(
    rb"^From \S+\s+\w{3} \w{3}\s+\d{1,2} \d{1,2}:\d{2}(:\d{2})? .*\d{4}\s*$", re.M
)
MESSAGE_SUFFIXES = {".eml", ".box", ".msg", ".txt", ".mail"}


def _is_mbox(path: Path, head: bytes) -> bool:
    if path.suffix.lower() in (".mbox", ".mbx"):
        return True
    # A single saved message may start with one "From " line; an mbox has several.
    return path.suffix.lower() not in MESSAGE_SUFFIXES and len(_MBOX_FROM.findall(head)) > 1


def _split_mbox(data: bytes) -> Iterator[bytes]:
    starts = [m.start() for m in _MBOX_FROM.finditer(data)]
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(data)
        chunk = data[start:end]
        # Undo mboxrd/mboxo quoting of body lines that began with "From ".
        yield re.sub(rb"(?m)^>(>*From )", rb"\1", chunk)


def iter_path(
    path: Path, *, skipped: Callable[[Path], None] | None = None
) -> Iterator[tuple[str, bytes]]:
    """(label, raw bytes) for every message under `path`, in a stable order. A file in a
    directory whose name says it is no mail (a .pdf, a .json) is passed to `skipped`."""
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            # Saved messages often have no extension at all (maildir files, test suites).
            if child.suffix.lower() in {*MESSAGE_SUFFIXES, ".mbox", ".mbx", ""}:
                yield from iter_path(child)
            elif skipped is not None:
                skipped(child)
        return
    data = path.read_bytes()
    if _is_mbox(path, data):
        for index, raw in enumerate(_split_mbox(data), start=1):
            yield f"{path}#{index}", raw
    else:
        yield str(path), data
