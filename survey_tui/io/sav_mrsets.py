"""Multiple-response sets written into an SPSS system file after pyreadstat has written the rest.

pyreadstat (ReadStat) cannot write multiple-response sets, but a .sav can hold them: an extension record
(record type 7, subtype 7) in the dictionary, before the dictionary termination record (type 999). The
layout follows PSPP's "System File Format" appendix: each set is one line,
``$name=D<len> <counted value> <len> <label> <short names, lower case>``. The dictionary is read only as
far as the termination record (the variable records give the short names the set line must use).

No copy of the data is needed: `write_sav` asks pyreadstat for `reserve_lines(sets)` extra document
(note) lines, and `fill_reserved` then rewrites the dictionary tail in place, in the same number of
bytes: the document record without the placeholder lines, the extension records as they were, the sets
record (padded with the leading line feeds the format allows) and the termination record. Everything
after it, the data, stays where it is. `add_mrsets` (a streamed copy with the record inserted) is the
fallback for a file written without the reserve.
"""

from __future__ import annotations

import os
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

HEADER_BYTES = 176


class SavFormatError(ValueError):
    """The file is not an SPSS system file this module can extend."""


@dataclass(frozen=True)
class MrSet:
    """One multiple dichotomy set: `variables` are long (file) names, `counted` the value that means chosen."""

    name: str  # without the leading "$"
    label: str
    variables: list[str]
    counted: int = 1


def _counted(text: str) -> str:
    """A length-prefixed string as the record spells it: decimal byte count, space, the bytes."""
    return f"{len(text.encode('utf-8'))} {text}"


def mrsets_payload(sets: list[MrSet], short_names: dict[str, str]) -> bytes:
    """The subtype-7 record body: one line per set, variables by their (lower-case) short names."""
    lines = []
    for mrset in sets:
        members = " ".join(short_names[v].lower() for v in mrset.variables)
        lines.append(f"${mrset.name}=D{_counted(str(mrset.counted))} {_counted(mrset.label)} {members}\n")
    return "".join(lines).encode("utf-8")


RESERVED_NOTE = "(reserved for the multiple-response sets record)"


def reserve_lines(sets: list[MrSet]) -> int:
    """80-byte document lines enough to hold the sets record, whatever short names the writer picks."""
    bound = 16 + sum(
        len(f"${m.name}=D{_counted(str(m.counted))} {_counted(m.label)} \n".encode()) + 9 * len(m.variables)
        for m in sets
    )
    return -(-bound // 80)


def _dictionary(handle: object) -> tuple[str, int, dict[str, str], tuple[int, int] | None]:
    """(byte order, offset of the termination record, long name -> short name, (offset, lines) of the
    document record) of an open .sav file."""
    read = handle.read  # type: ignore[attr-defined]
    header = read(HEADER_BYTES)
    if len(header) < HEADER_BYTES or header[:4] not in (b"$FL2", b"$FL3"):
        raise SavFormatError("not an SPSS system file (no $FL2 header)")
    order = "<" if struct.unpack("<i", header[64:68])[0] in (2, 3) else ">"
    if struct.unpack(f"{order}i", header[64:68])[0] not in (2, 3):
        raise SavFormatError("unknown layout code in the system file header")

    def ints(count: int) -> tuple[int, ...]:
        raw = read(4 * count)
        if len(raw) < 4 * count:
            raise SavFormatError("system file dictionary ends early")
        return struct.unpack(f"{order}{count}i", raw)

    offset = HEADER_BYTES
    document: tuple[int, int] | None = None
    short: list[str] = []
    long_names: dict[str, str] = {}
    while True:
        (rec_type,) = ints(1)
        if rec_type == 2:
            var_type, has_label, n_missing, _print, _write = ints(5)
            name = read(8).decode("utf-8", errors="replace").rstrip()
            size = 4 + 20 + 8
            if has_label:
                (length,) = ints(1)
                read((length + 3) // 4 * 4)
                size += 4 + (length + 3) // 4 * 4
            read(8 * abs(n_missing))
            size += 8 * abs(n_missing)
            if var_type != -1:
                short.append(name)
        elif rec_type == 3:
            (count,) = ints(1)
            size = 8
            for _ in range(count):
                value = read(9)
                length = value[8]
                pad = (length + 1 + 7) // 8 * 8 - 1
                read(pad)
                size += 9 + pad
        elif rec_type == 4:
            (count,) = ints(1)
            ints(count)
            size = 8 + 4 * count
        elif rec_type == 6:
            (count,) = ints(1)
            read(80 * count)
            size = 8 + 80 * count
            document = (offset, count)
        elif rec_type == 7:
            subtype, elem, count = ints(3)
            body = read(elem * count)
            size = 16 + elem * count
            if subtype == 13:  # long variable names: SHORT=Long pairs separated by tabs
                for pair in body.decode("utf-8").split("\t"):
                    if "=" in pair:
                        s, long = pair.split("=", 1)
                        long_names[s.upper()] = long
        elif rec_type == 999:
            return order, offset, {long_names.get(s.upper(), s): s for s in short}, document
        else:
            raise SavFormatError(f"unexpected record type {rec_type} in the system file dictionary")
        offset += size


def _copy_rest(src: object, dst: object, offset: int, total: int) -> None:
    """Copy bytes offset..total of src to dst's current position, in the kernel when possible."""
    src_fd, dst_fd = src.fileno(), dst.fileno()  # type: ignore[attr-defined]
    remaining = total - offset
    if hasattr(os, "copy_file_range"):
        try:
            position = offset
            while remaining > 0:
                done = os.copy_file_range(src_fd, dst_fd, min(remaining, 1 << 30), position)
                if done == 0:
                    break
                position += done
                remaining -= done
            return
        except OSError:
            if remaining != total - offset:
                raise
    src.seek(offset)  # type: ignore[attr-defined]
    shutil.copyfileobj(src, dst, 1 << 22)  # type: ignore[arg-type]


def add_mrsets(source: Path, target: Path, sets: list[MrSet]) -> None:
    """Write `source` to `target` with the sets' record inserted before the dictionary termination record."""
    with open(source, "rb") as src:
        order, end, short_names, _ = _dictionary(src)
        unknown = [v for s in sets for v in s.variables if v not in short_names]
        if unknown:
            raise SavFormatError(f"multiple-response set variable {unknown[0]!r} is not in the file")
        body = mrsets_payload(sets, short_names)
        record = struct.pack(f"{order}4i", 7, 7, 1, len(body)) + body
        total = os.fstat(src.fileno()).st_size
        src.seek(0)
        head = src.read(end)
        with open(target, "wb") as dst:
            dst.write(head)
            dst.write(record)
            dst.flush()
            _copy_rest(src, dst, end, total)


def fill_reserved(path: Path, sets: list[MrSet], reserved: int) -> bool:
    """Put the sets record into the `reserved` placeholder note lines, in place; False if they are not there."""
    with open(path, "r+b") as handle:
        order, end, short_names, document = _dictionary(handle)
        if document is None or document[1] < reserved:
            return False
        start, lines = document
        handle.seek(start + 8)
        notes = handle.read(80 * lines)
        tail = notes[80 * (lines - reserved) :]
        if tail != RESERVED_NOTE.encode("ascii").ljust(80) * reserved:
            return False
        extensions = handle.read(end - start - 8 - 80 * lines)
        unknown = [v for s in sets for v in s.variables if v not in short_names]
        if unknown:
            raise SavFormatError(f"multiple-response set variable {unknown[0]!r} is not in the file")
        body = mrsets_payload(sets, short_names)
        room = 80 * reserved - 16
        if len(body) > room:
            return False
        kept = lines - reserved
        block = b"".join(
            [
                struct.pack(f"{order}2i", 6, kept) + notes[: 80 * kept] if kept else b"",
                extensions,
                struct.pack(f"{order}4i", 7, 7, 1, room) + b"\n" * (room - len(body)) + body,
            ]
        )
        if not kept:  # a document record of no lines is not allowed: give its 8 bytes to the padding
            block = extensions + struct.pack(f"{order}4i", 7, 7, 1, room + 8) + b"\n" * (room + 8 - len(body)) + body
        assert len(block) == end - start, (len(block), end - start)
        handle.seek(start)
        handle.write(block)
    return True
