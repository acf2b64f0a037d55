"""CSV files, read with one strict dialect by both ingest engines.

Whichever engine reads a CSV log, it is read alike: a header row; the
delimiter the file's name gives (a tab for ``.tsv``, else a comma); double
quotes, a doubled quote standing for one; and every record holding as many
fields as the header. Empty lines are skipped, and one more field that is
empty (a delimiter at the end of the line, as some exporters write) is read
as if absent, as DuckDB reads it.

Before, the pandas engine's reader padded a short record with nulls (a
truncated line became a request without a time) and, where every record had
one more field than the header, took the first column for an index, which
shifted every column by one: a log with a trailing comma on each line came
out as one account named after the first attribute kind. DuckDB's sniffer
kept an unclosed quote as a character. Now both refuse such a file, naming
the line.

Both engines' readers name the faulty record by quoting it, a raw identifier
that must not reach a log. :func:`csv_fault` finds the first such record
again with Python's csv module and names only its line, so both engines
raise the same :class:`~acctgraph.exceptions.InputFileError`.
"""

from __future__ import annotations

import csv
import gzip
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from .exceptions import InputFileError

__all__ = ["csv_delimiter", "csv_fault", "csv_header", "read_csv_strictly"]


def csv_delimiter(path: Path) -> str | None:
    """The delimiter of a CSV file by its name (``.csv``, ``.csv.gz``,
    ``.txt``: a comma; ``.tsv``: a tab), or None where it is no CSV file."""
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return ","
    if name.endswith(".tsv"):
        return "\t"
    return None


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _text_lines(binary: IO[bytes]) -> Iterator[str]:
    """The file's lines, each decoded on its own, so that text that is not
    UTF-8 fails at its own line (a decoding reader fails a chunk ahead)."""
    for i, raw in enumerate(binary):
        # utf-8-sig: a byte-order mark is not part of the first column's
        # name, as neither pyarrow nor DuckDB reads it so.
        yield raw.decode("utf-8-sig" if i == 0 else "utf-8")


def csv_header(path: Path, delimiter: str, name: str) -> list[str]:
    """The column names of a CSV file's header row; an empty name becomes
    ``"Unnamed: i"`` (``i`` its position), as pandas names it.

    Raises
    ------
    InputFileError
        The file cannot be read, its first line is empty, or its header
        names a column twice (the engines would rename one, each its own way).
    """
    try:
        with _open_binary(path) as f:
            header = next(csv.reader(_text_lines(f), delimiter=delimiter), [])
    except (OSError, UnicodeDecodeError, EOFError, csv.Error) as exc:
        raise InputFileError(
            f"{name}: cannot read {str(path)!r} as CSV ({type(exc).__name__}: {exc})"
        ) from None
    if not header:
        raise InputFileError(
            f"{name}: {str(path)!r} has no header row: its first line is empty or missing"
        )
    columns = [c if c else f"Unnamed: {i}" for i, c in enumerate(header)]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise InputFileError(
            f"{name}: {str(path)!r} names column(s) {repeated} more than once in its header"
        )
    return columns


def csv_fault(path: Path, delimiter: str) -> str | None:
    """Where a CSV file breaks the dialect, as ``"line N: what"``: the first
    record of the wrong width, or a quote not closed; None where every record
    reads. Lines count from 1, the header's; a record spanning lines (a quoted
    line break) is named by its first."""
    # A quote never closed makes the rest of the file one field, longer than
    # the csv module's default limit allows.
    limit = csv.field_size_limit(sys.maxsize)
    with _open_binary(path) as f:
        reader = csv.reader(_text_lines(f), delimiter=delimiter, strict=True)
        line = 1
        try:
            width = len(next(reader, []))
            line = reader.line_num + 1
            for record in reader:
                n = len(record)
                trailing = n == width + 1 and record[-1] == ""
                if n and n != width and not trailing:
                    return f"line {line}: {_fields(n)} where the header has {width}"
                line = reader.line_num + 1
        except csv.Error as exc:
            if "end of data" in str(exc):
                return f"line {line}: a quote is opened and never closed"
            return f"line {line}: not CSV ({exc})"
        except UnicodeDecodeError:
            return f"line {line}: not UTF-8 text"
        finally:
            csv.field_size_limit(limit)
    return None


def _fields(n: int) -> str:
    return "1 field" if n == 1 else f"{n} fields"


def faulty_csv_error(paths: list[Path], name: str) -> InputFileError | None:
    """The error naming the first faulty line among CSV ``paths``
    (:func:`csv_fault`), or None where every file reads."""
    for path in paths:
        delimiter = csv_delimiter(path)
        fault = None if delimiter is None else csv_fault(path, delimiter)
        if fault:
            return InputFileError(f"{name}: {str(path)!r} {fault}")
    return None


def read_csv_strictly(path: Path, delimiter: str, name: str) -> pd.DataFrame:
    """A CSV file as a frame of text columns, empty fields null, read with
    the dialect of this module (pyarrow's reader, which refuses a record of
    the wrong width where pandas' pads or shifts it).

    Raises
    ------
    InputFileError
        Naming the first faulty line (:func:`csv_fault`).
    """
    columns = csv_header(path, delimiter, name)
    try:
        table = _read_with_pyarrow(path, delimiter, columns)
    except pa.ArrowInvalid:
        # Not chained: pyarrow's message quotes the record.
        error = faulty_csv_error([path], name)
        if error is not None:
            raise error from None
        # No fault but the one leniency, records ending in an empty field
        # beyond the header, which pyarrow refuses. Where every record has
        # it (the usual export), pyarrow reads it as one more column; where
        # only some do, the csv module reads the file (8.1 s against 0.8 s
        # for 3.1M rows).
        try:
            trailing = _read_with_pyarrow(path, delimiter, [*columns, _TRAILING])
        except pa.ArrowInvalid:
            return _read_with_csv_module(path, delimiter, columns)
        return trailing.drop_columns([_TRAILING]).to_pandas()
    # pyarrow reads two quoting faults DuckDB and the csv module refuse: text
    # after a closing quote ('"x"y' as 'xy') and a quote still open at the
    # end of the file. Only a file holding a quote can have them.
    if _holds_quote(path):
        error = faulty_csv_error([path], name)
        if error is not None:
            raise error
    return table.to_pandas()


# The name of the empty field a trailing delimiter ends each record with.
_TRAILING = "\x00trailing delimiter"


def _read_with_pyarrow(path: Path, delimiter: str, columns: list[str]) -> pa.Table:
    """The file's records (the header row skipped) as text ``columns``;
    raises ``pyarrow.ArrowInvalid`` at a record of another width."""
    return pa_csv.read_csv(
        str(path),
        read_options=pa_csv.ReadOptions(column_names=columns, skip_rows=1),
        parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types={c: pa.string() for c in columns},
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
    )


def _read_with_csv_module(path: Path, delimiter: str, columns: list[str]) -> pd.DataFrame:
    """What :func:`read_csv_strictly` reads, by Python's csv module."""
    with _open_binary(path) as f:
        records = csv.reader(_text_lines(f), delimiter=delimiter)
        next(records)
        rows = [record for record in records if record]
    # Through Arrow, for pyarrow's column types; empty fields are null.
    table = pa.table(
        {
            column: pa.array([row[i] or None for row in rows], pa.string())
            for i, column in enumerate(columns)
        }
    )
    return table.to_pandas()


def _holds_quote(path: Path) -> bool:
    with _open_binary(path) as f:
        return any(b'"' in chunk for chunk in iter(lambda: f.read(1 << 20), b""))
