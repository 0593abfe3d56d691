"""Read a contact file (CSV in any common encoding, or XLSX) into header and text rows.

Row numbers are the ones the user sees in Excel: the header is row 1 (or whichever row holds
it when blank rows come first), the first data row 2. Fully blank rows are skipped but still
counted, so an error report points at the right line of the spreadsheet.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from waihu.domain.errors import ValidationError

__all__ = ["RawTable", "cell_text", "read_table"]

_DELIMITERS = (",", "\t", ";", "|")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, .doc
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_REFUSED_SUFFIXES = (".xls", ".xlsb", ".ods", ".numbers", ".et")


@dataclass
class RawTable:
    """A file's header and its non-blank data rows, every cell as stripped text.

    ``headers`` are as written in the file; ``keys`` are the same names made unique (a blank
    header becomes ``colN`` with N its 1-based column, a repeated one ``name (2)``). Every row
    has exactly ``len(headers)`` cells.
    """

    headers: list[str]
    rows: list[tuple[int, list[str]]]
    encoding: str | None
    format: str
    keys: list[str] = field(default_factory=list)
    header_row: int = 1

    def label(self, column: int) -> str:
        """How to name column ``column`` (0-based) to the user: its header, or ``colN``."""
        return self.headers[column] or self.keys[column]


def _fail(code: str, message: str) -> ValidationError:
    return ValidationError(code=code, message=message)


def read_table(path: Path, *, encoding: str | None = None, sheet: str | None = None) -> RawTable:
    """Read ``path`` (CSV or XLSX, told apart by content) into a ``RawTable``.

    ``encoding`` forces the CSV encoding instead of detecting it; ``sheet`` picks an XLSX
    worksheet by name (default: the first one). Raises ``ValidationError`` with an
    ``import.*`` code when the file as a whole cannot be used.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _fail("import.file_not_found", f"file not found: {path.name}") from None
    except IsADirectoryError:
        raise _fail("import.file_not_found", f"not a file: {path.name}") from None
    except OSError as exc:
        raise _fail("import.unreadable", f"cannot read {path.name}: {exc.strerror}") from None
    if not data:
        raise _fail("import.empty_file", f"{path.name} is empty (0 bytes)")

    suffix = path.suffix.lower()
    rows: Iterable[tuple[int, list[str]]]
    used: str | None
    if data.startswith(_ZIP_MAGIC):
        rows, fmt, used = _xlsx_rows(data, path.name, sheet), "xlsx", None
    elif data.startswith(_OLE2_MAGIC):
        raise _fail(
            "import.unsupported_format",
            f"{path.name} is an old binary Excel file (.xls); save it as .xlsx or .csv and import that",
        )
    elif suffix in _XLSX_SUFFIXES:
        raise _fail("import.unreadable", f"{path.name} is not a valid .xlsx file (damaged or renamed)")
    elif suffix in _REFUSED_SUFFIXES:
        raise _fail("import.unsupported_format", f"{suffix} files are not supported; use .xlsx or .csv")
    else:
        utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        if encoding is None and not utf16 and b"\x00" in data[:65536]:
            raise _fail(
                "import.unsupported_format",
                f"{path.name} is a binary file (or UTF-16 text without a byte-order mark), not CSV or XLSX",
            )
        text, used = _decode(data, path.name, encoding)
        rows, fmt = _csv_rows(text.removeprefix("\ufeff")), "csv"
    return _build(rows, fmt, used, path.name)


# -- CSV -------------------------------------------------------------------------------------


def _decode(data: bytes, name: str, forced: str | None) -> tuple[str, str]:
    if forced is not None:
        try:
            codecs.lookup(forced)
        except LookupError:
            raise _fail("import.unreadable", f"unknown encoding {forced!r}") from None
        try:
            return data.decode(forced), forced
        except UnicodeDecodeError as exc:
            raise _fail(
                "import.unreadable",
                f"{name} cannot be decoded as {forced} (bad byte at offset {exc.start}); "
                "try another --encoding or leave it out to detect it",
            ) from None
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for candidate in candidates:
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    raise _fail(
        "import.unreadable",
        f"{name} is neither UTF-8 nor GB18030/GBK text; give its encoding with --encoding",
    )


def _delimiter(text: str) -> str:
    """The delimiter that occurs most often in the first non-blank line (comma on a tie)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = [(first.count(d), -i, d) for i, d in enumerate(_DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] > 0 else ","


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for number, record in enumerate(reader, start=1):
            yield number, [cell.strip() for cell in record]
    except csv.Error as exc:
        raise _fail("import.unreadable", f"malformed CSV near record {reader.line_num}: {exc}") from None


# -- XLSX ------------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """An XLSX cell value as the text the user typed.

    Whole numbers lose Excel's float form (13800138000.0 -> '13800138000') and no number is
    written in scientific notation; dates become ISO text.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value).strip()


def _xlsx_rows(data: bytes, name: str, sheet: str | None) -> list[tuple[int, list[str]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = set(archive.namelist())
    except zipfile.BadZipFile:
        raise _fail("import.unreadable", f"{name} is a damaged .xlsx file (not a readable zip)") from None
    if "xl/workbook.xml" not in members:
        raise _fail(
            "import.unsupported_format",
            f"{name} is a zip archive but not an Excel workbook (.xlsx); save it as .xlsx or .csv",
        )
    from openpyxl import load_workbook  # heavy import, only needed here

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises anything from KeyError to XML parse errors
        raise _fail("import.unreadable", f"{name} is a damaged .xlsx file ({type(exc).__name__})") from None
    try:
        if sheet is not None:
            if sheet not in workbook.sheetnames:
                raise _fail(
                    "import.sheet_not_found",
                    f"no sheet named {sheet!r}; the workbook has: {', '.join(workbook.sheetnames)}",
                )
            worksheet: Any = workbook[sheet]
            if not hasattr(worksheet, "iter_rows"):
                raise _fail("import.unsupported_format", f"sheet {sheet!r} is a chart, not a table")
        elif workbook.worksheets:
            worksheet = workbook.worksheets[0]
        else:
            raise _fail("import.empty_file", f"{name} has no worksheet")
        try:
            return _sheet_rows(worksheet.iter_rows())
        except ValidationError:
            raise
        except Exception as exc:
            raise _fail(
                "import.unreadable", f"{name} is a damaged .xlsx file ({type(exc).__name__})"
            ) from None
    finally:
        workbook.close()


def _sheet_rows(rows: Iterable[tuple[Any, ...]]) -> list[tuple[int, list[str]]]:
    out: list[tuple[int, list[str]]] = []
    expected = 1
    for cells in rows:
        # Read-only sheets give real cells (with .row) for stored rows; rows absent from the
        # file come as empty tuples or cells without a row number.
        number = next((c.row for c in cells if getattr(c, "row", None) is not None), expected)
        out.append((number, [cell_text(getattr(c, "value", None)) for c in cells]))
        expected = number + 1
    return out


# -- shared ----------------------------------------------------------------------------------


def _unique_keys(headers: list[str]) -> list[str]:
    keys: list[str] = []
    seen: set[str] = set()
    for i, header in enumerate(headers, start=1):
        base = header or f"col{i}"
        key, n = base, 1
        while key in seen:
            n += 1
            key = f"{base} ({n})"
        seen.add(key)
        keys.append(key)
    return keys


def _build(rows: Iterable[tuple[int, list[str]]], fmt: str, encoding: str | None, name: str) -> RawTable:
    header: list[str] | None = None
    header_row = 1
    data: list[tuple[int, list[str]]] = []
    for number, cells in rows:
        if not any(cells):
            continue
        if header is None:
            header, header_row = cells, number
        else:
            data.append((number, cells))
    if header is None:
        raise _fail("import.empty_file", f"{name} has no content (no header row)")
    if not data:
        raise _fail("import.no_rows", f"{name} has a header row but no data rows")
    width = max(len(header), *(len(cells) for _, cells in data))
    # Trailing empty header cells (an Excel sheet's formatted-but-empty columns) are kept only
    # as far as some row has data in them.
    used = max(
        max((i + 1 for i, h in enumerate(header) if h), default=0),
        *(max((i + 1 for i, c in enumerate(cells) if c), default=0) for _, cells in data),
    )
    width = min(width, used)
    headers = (header + [""] * width)[:width]
    padded = [(n, (cells + [""] * width)[:width]) for n, cells in data]
    return RawTable(
        headers=headers,
        rows=padded,
        encoding=encoding,
        format=fmt,
        keys=_unique_keys(headers),
        header_row=header_row,
    )
