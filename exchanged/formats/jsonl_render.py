"""The fast JSONL renderer behind ``formats/jsonl.py``: Arrow columns to canonical JSON lines.

polars writes NDJSON in Rust; this module prepares columns so its output is the canonical form
(docs/architecture.md), and renders low-cardinality columns once per distinct value.
"""

from __future__ import annotations

import functools
import io
import json

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from exchanged.formats.jsonl import split_lines
from exchanged.nulls import filled


def ndjson_bytes(table: pa.Table) -> bytes:
    if table.num_rows == 0:
        return b""
    table = pa.Table.from_arrays([_for_polars(column) for column in table.columns], names=table.column_names)
    frame = pl.from_arrow(table, rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.select(_canonical(pl.col(name), dtype).alias(name) for name, dtype in frame.schema.items())
    out = io.BytesIO()
    frame.write_ndjson(out)
    return out.getvalue()


# --- lines assembled column by column (see the module docstring) ------------------------------------

_BLOCK = 1 << 16           # bytes per numpy pass looking for escapes (stays in cache)
_SAMPLE = 2048             # rows looked at to judge whether a column has few distinct values
_FEW_TEXTS = 8             # text is coded when the sample has at most 1 distinct value per 8 rows,
_FEW_VALUES = 2            # other values when at most 1 per 2 rows (rendering distinct values only)
_COMBINED = 1 << 14        # most pieces a run of adjacent coded columns is merged into
_ESCAPES = {**{i: json.dumps(chr(i))[1:-1] for i in range(0x20)}, 0x22: '\\"', 0x5C: "\\\\"}


class _Coded:
    """A piece taking one of a few texts per row: ``tokens[codes[row]]``."""

    def __init__(self, tokens: pl.Series, codes: np.ndarray) -> None:
        self.tokens, self.codes = tokens, codes

    def around(self, before: str = "", after: str = "") -> _Coded:
        frame = self.tokens.alias("t").to_frame()
        tokens = frame.select(pl.concat_str([pl.lit(before), pl.col("t"), pl.lit(after)])).to_series()
        return _Coded(tokens, self.codes)

    def then(self, other: _Coded) -> _Coded | None:
        """The piece of this one followed by ``other``, or None when it would have too many texts."""
        n, m = len(self.tokens), len(other.tokens)
        if n * m > _COMBINED:
            return None
        left = self.tokens.gather(np.repeat(np.arange(n), m)).alias("a")
        right = other.tokens.gather(np.tile(np.arange(m), n)).alias("b")
        tokens = pl.DataFrame([left, right]).select(pl.concat_str([pl.col("a"), pl.col("b")])).to_series()
        return _Coded(tokens, self.codes * m + other.codes)


class _Text:
    """A text column, rendered slice by slice: quoted (the quotes are literals around it) or, when it
    holds nulls, as the whole JSON value (``"..."`` or ``null``)."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        self.column = column
        self.nullable = column.null_count > 0

    def pieces(self) -> list[_Piece]:
        return [self] if self.nullable else ['"', self, '"']

    def series(self, start: int, stop: int) -> pl.Series:
        return _text(self.column.slice(start, stop - start), self.nullable)


_Piece = str | pl.Series | _Coded | _Text


class LineRenderer:
    """The canonical lines of ``table``: columns prepared once, any row range assembled on demand.

    Coded and nested columns are prepared for the whole table; text is escaped per row range, so
    the first lines are ready early (the publisher writes and hashes them while the rest renders).
    """

    def __init__(self, table: pa.Table) -> None:
        pieces: list[_Piece] = []
        for i, (name, column) in enumerate(zip(table.column_names, table.columns)):
            pieces.append("," if i else "{")
            pieces.extend(_field(name, column))
        pieces.append("}\n")
        self.pieces = _merged(pieces)

    def parts(self, start: int, stop: int) -> list[pa.LargeStringArray]:
        """Lines ``start`` to ``stop`` in consecutive parts, without copying polars' result when it
        holds the lines back to back in its buffers (see ``_view_parts``)."""
        lines = self._assemble(start, stop)
        if isinstance(lines, pa.LargeStringArray):
            return [lines]
        if lines.null_count():  # pragma: no cover - every piece is non-null by construction
            raise RuntimeError("a JSON line came out null")
        views = lines.to_arrow(compat_level=pl.CompatLevel.newest())
        parts = _view_parts(views) if isinstance(views, pa.StringViewArray) else None
        return parts if parts is not None else [_large(lines)]

    def _assemble(self, start: int, stop: int) -> pl.Series | pa.LargeStringArray:
        columns: list[pl.Series] = []
        exprs: list[pl.Expr] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                exprs.append(pl.lit(piece))
                continue
            if isinstance(piece, _Coded):
                series = piece.tokens.gather(piece.codes[start:stop])
            elif isinstance(piece, _Text):
                series = piece.series(start, stop)
            else:
                series = piece.slice(start, stop - start)
            name = f"p{len(columns)}"
            columns.append(series.alias(name))
            exprs.append(pl.col(name))
        if not columns:  # every column constant: every line the same text
            text = "".join(p for p in self.pieces if isinstance(p, str)).encode()
            offsets = np.arange(stop - start + 1, dtype=np.int64) * len(text)
            return pa.LargeStringArray.from_buffers(stop - start, pa.py_buffer(offsets),
                                                    pa.py_buffer(text * (stop - start)))
        return pl.DataFrame(columns).select(pl.concat_str(exprs).alias("line")).to_series()


def _large(lines: pl.Series) -> pa.LargeStringArray:
    """polars text as one Arrow ``large_string`` array (a copy into one buffer)."""
    arrow = lines.to_arrow(compat_level=pl.CompatLevel.oldest())
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    return arrow if arrow.type == pa.large_string() else arrow.cast(pa.large_string())


def _view_parts(views: pa.StringViewArray) -> list[pa.LargeStringArray] | None:
    """``views`` as string arrays over its own data buffers, when every line is stored out of line and
    consecutive lines sit back to back in them (as ``concat_str`` builds them); else None.

    Checked on the views themselves (lengths, buffer indices and offsets), so the parts always hold
    exactly the lines: this saves copying the text into a new buffer (≈0.2 s per million products).
    """
    n = len(views)
    if n == 0 or views.null_count:
        return None
    buffers = views.buffers()
    raw = np.frombuffer(buffers[1], np.int32).reshape(-1, 4)[views.offset:views.offset + n]
    lengths, index, offset = raw[:, 0].astype(np.int64), raw[:, 2], raw[:, 3].astype(np.int64)
    if lengths.min() <= 12 or (n > 1 and (np.diff(index) < 0).any()):
        return None
    same = index[1:] == index[:-1]
    if not (offset[1:][same] == (offset[:-1] + lengths[:-1])[same]).all():
        return None
    parts = []
    runs = np.flatnonzero(np.concatenate([[True], ~same, [True]]))
    for first, stop in zip(runs[:-1], runs[1:]):
        which, begin = 2 + int(index[first]), int(offset[first])
        ends = offset[first:stop] + lengths[first:stop] - begin
        if index[first] < 0 or which >= len(buffers) or begin < 0 or begin + int(ends[-1]) > buffers[which].size:
            return None
        offsets = np.concatenate([[0], ends]).astype(np.int64)
        part = pa.LargeStringArray.from_buffers(int(stop - first), pa.py_buffer(offsets),
                                                buffers[which].slice(begin, int(ends[-1])))
        # the first and last lines as Arrow itself reads the views: the buffers are the ones meant
        if part[0].as_py() != views[int(first)].as_py() or part[-1].as_py() != views[int(stop) - 1].as_py():
            return None
        parts.append(part)
    return parts


def _merged(pieces: list[_Piece]) -> list[_Piece]:
    """Adjacent literals joined, coded pieces grown over the literals around them and over each other."""
    out: list[_Piece] = []
    for piece in pieces:
        last = out[-1] if out else None
        if isinstance(piece, str):
            if isinstance(last, str):
                out[-1] = last + piece
            elif isinstance(last, _Coded):
                out[-1] = last.around(after=piece)
            else:
                out.append(piece)
        elif isinstance(piece, _Coded):
            if isinstance(last, str):
                out.pop()
                piece = piece.around(before=last)
                last = out[-1] if out else None
            joined = last.then(piece) if isinstance(last, _Coded) else None
            if joined is not None:
                out[-1] = joined
            else:
                out.append(piece)
        else:
            out.append(piece)
    return out


def _field(name: str, column: pa.ChunkedArray) -> list[_Piece]:
    """Pieces whose concatenation is ``"name":value`` on every row, as ``ndjson_bytes`` writes it."""
    key = _key(name)
    t = column.type
    if pa.types.is_dictionary(t):
        column = column.cast(t.value_type)
        t = column.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        if _few(column, _FEW_TEXTS):
            return [key + ":", _coded(name, key, column)]
        return [key + ":", *_Text(column).pieces()]
    if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_date(t) \
            or pa.types.is_timestamp(t):
        if _few(column, _FEW_VALUES):
            return [key + ":", _coded(name, key, column)]
    elif _all_empty(column):
        return [_single(name, column.slice(0, 1))[0]]
    return [_single(name, column)]


@functools.lru_cache(maxsize=1024)
def _key(name: str) -> str:
    """``name`` as polars writes it as a key (quoted, escaped)."""
    line = ndjson_bytes(pa.table({name: pa.nulls(1)})).decode()
    assert line.startswith("{") and line.endswith(":null}\n"), line
    return line[1:-len(":null}\n")]


def _few(column: pa.ChunkedArray, per: int) -> bool:
    """True when a sample of ``column`` has at most one distinct value per ``per`` rows."""
    sample = column.slice(0, _SAMPLE)
    return len(sample) >= per and pc.count_distinct(sample, mode="all").as_py() * per <= len(sample)


def _coded(name: str, key: str, column: pa.ChunkedArray) -> _Coded:
    """``column`` as codes into the texts ``ndjson_bytes`` writes for its distinct values (plus ``null``)."""
    if pa.types.is_boolean(column.type):  # false, true: no need to hash
        values = pa.array([False, True])
        indices = pc.cast(column, pa.int8())
    else:
        values, indices = _dictionary(column.combine_chunks())
    tokens = _single(name, values).str.strip_prefix(key + ":") if len(values) else pl.Series([], dtype=pl.String)
    tokens = pl.concat([tokens, pl.Series(["null"])])
    codes = filled(indices, len(values)).to_numpy(zero_copy_only=False).astype(np.int64)
    return _Coded(tokens, codes)


def _dictionary(array: pa.Array) -> tuple[pa.Array, pa.Array]:
    """``array``'s distinct values and each row's index into them (null for a null).

    Decimals whose every value fits 64 bits (prices, rates, quantities) are hashed as int64,
    2.5x faster than as 128-bit decimals.
    """
    if pa.types.is_decimal128(array.type) and len(array):
        words = np.frombuffer(array.buffers()[1], np.int64)[2 * array.offset:2 * (array.offset + len(array))]
        low, high = words[0::2], words[1::2]
        if (high == (low >> 63)).all():
            valid = np.asarray(array.is_valid()) if array.null_count else None
            encoded = pc.dictionary_encode(pa.array(low, pa.int64(), mask=None if valid is None else ~valid))
            small = encoded.dictionary.to_numpy()
            pairs = np.column_stack([small, small >> 63]).ravel()
            values = pa.Array.from_buffers(array.type, len(small), [None, pa.py_buffer(pairs)])
            return values, encoded.indices
    encoded = pc.dictionary_encode(array)
    return encoded.dictionary, encoded.indices


def _text(column: pa.ChunkedArray, nullable: bool) -> pl.Series:
    """Text escaped as in a JSON string (when a value holds a byte JSON escapes); with ``nullable``
    the whole JSON value: quoted, or ``null``."""
    series = pl.from_arrow(column)
    assert isinstance(series, pl.Series)
    found = sorted(_escaped_bytes(column))
    if len(found) == 1:
        series = series.str.replace_all(chr(found[0]), _ESCAPES[found[0]], literal=True)
    elif found:
        series = series.str.replace_many([chr(b) for b in found], [_ESCAPES[b] for b in found])
    if not nullable:
        return series
    value = pl.col("v")
    quoted = pl.when(value.is_null()).then(pl.lit("null")).otherwise(pl.concat_str([pl.lit('"'), value, pl.lit('"')]))
    return series.alias("v").to_frame().select(quoted.alias("v")).to_series()


def _escaped_bytes(column: pa.ChunkedArray) -> set[int]:
    """The bytes JSON escapes (control characters, ``"``, ``\\``) found in the values' buffers."""
    found: set[int] = set()
    wide = pa.types.is_large_string(column.type)
    for chunk in column.chunks:
        if len(chunk) == 0 or chunk.buffers()[2] is None:
            continue
        offsets = np.frombuffer(chunk.buffers()[1], np.int64 if wide else np.int32)
        first, last = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
        data = np.frombuffer(chunk.buffers()[2], np.uint8)[first:last]
        for start in range(0, len(data), _BLOCK):
            block = data[start:start + _BLOCK]
            control = block < 0x20
            if control.any():
                found.update(np.unique(block[control]).tolist())
            for byte in (0x22, 0x5C):
                if byte not in found and (block == byte).any():
                    found.add(byte)
    return found


def _all_empty(column: pa.ChunkedArray) -> bool:
    """True for a list or map column without nulls whose every value is empty."""
    t = column.type
    if not (pa.types.is_map(t) or pa.types.is_list(t) or pa.types.is_large_list(t)) or column.null_count \
            or len(column) == 0:
        return False
    return all(len(chunk.values) == 0 or chunk.offsets[0] == chunk.offsets[-1] for chunk in column.chunks
               if len(chunk))


def _single(name: str, column: pa.Array | pa.ChunkedArray) -> pl.Series:
    """``"name":value`` per row, cut out of ``ndjson_bytes`` of the column alone (``{"name":value}\\n``)."""
    lines = pl.from_arrow(split_lines(ndjson_bytes(pa.table({name: column}))))
    assert isinstance(lines, pl.Series)
    return lines.str.strip_prefix("{").str.strip_suffix("}\n")


def _canonical(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """``expr`` with every value polars would not write canonically turned into its JSON string."""
    if not _needs_work(dtype):
        return expr
    if isinstance(dtype, pl.Decimal):
        text = expr.cast(pl.String)  # all `scale` digits: "19.900000"; never an exponent
        if dtype.scale and dtype.scale > 0:
            # "10.000000" -> "10." -> "10": the "." stops the zero stripping before the integer part.
            text = text.str.strip_chars_end("0").str.strip_chars_end(".")
        return text
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return expr.dt.to_string("%Y-%m-%dT%H:%M:%S%.6f").str.strip_suffix(".000000")
        text = expr.dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ")
        return text.str.replace(".000000Z", "Z", literal=True)  # pydantic omits a zero fraction
    if isinstance(dtype, pl.Struct):
        return expr.struct.with_fields(
            _canonical(pl.field(field.name), field.dtype) for field in dtype.fields if _needs_work(field.dtype)
        )
    if isinstance(dtype, pl.List):
        return expr.list.eval(_canonical(pl.element(), dtype.inner))
    raise TypeError(f"no canonical JSON for {dtype}")  # pragma: no cover - _for_polars prevents it


def _needs_work(dtype: pl.DataType) -> bool:
    if isinstance(dtype, (pl.Decimal, pl.Datetime)):
        return True
    if isinstance(dtype, pl.Struct):
        return any(_needs_work(field.dtype) for field in dtype.fields)
    if isinstance(dtype, pl.List):
        return _needs_work(dtype.inner)
    return False


def _for_polars(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Arrow types polars reads badly, made plain first (cheap casts; maps with such values)."""
    if _has_map_work(column.type):
        return pa.chunked_array([_map_contents(chunk) for chunk in column.chunks])
    target = _polars_type(column.type)
    return column if target == column.type else column.cast(target)


def _polars_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(t):
        return _polars_type(t.value_type)
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz=t.tz)  # the safe cast refuses to drop nanoseconds
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_decimal(t) and (t.scale < 0 or t.precision > 38):
        # polars reads decimal128 with a scale >= 0 only; the safe cast refuses what does not fit.
        return pa.decimal128(min(38, t.precision - min(t.scale, 0)), max(t.scale, 0))
    if pa.types.is_map(t):
        return pa.map_(_polars_type(t.key_type), _polars_type(t.item_type))
    if pa.types.is_struct(t):
        return pa.struct([t.field(i).with_type(_polars_type(t.field(i).type)) for i in range(t.num_fields)])
    if pa.types.is_fixed_size_list(t) or pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(_polars_type(t.value_type)))
    if pa.types.is_large_list(t):
        return pa.large_list(t.value_field.with_type(_polars_type(t.value_type)))
    return t


def _has_map_work(t: pa.DataType) -> bool:
    """True for a map whose keys or values are not written canonically by polars as they are."""
    if pa.types.is_map(t):
        return any(_map_value_needs_work(v) for v in (t.key_type, t.item_type))
    if pa.types.is_struct(t):
        return any(_has_map_work(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _has_map_work(t.value_type)
    return False


def _map_value_needs_work(t: pa.DataType) -> bool:
    return not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)
                or pa.types.is_boolean(t) or pa.types.is_date32(t) or pa.types.is_null(t))


def _map_contents(arr: pa.Array) -> pa.Array:
    """Maps cannot be rewritten by polars expressions: convert their keys and values as flat columns."""
    t = arr.type
    if not _has_map_work(t):
        return arr.cast(_polars_type(t))
    mask = arr.is_null() if arr.null_count else None
    if pa.types.is_map(t):
        # .keys/.items are the whole children and .offsets absolute, so slices stay right.
        keys, items = (_flat_canonical(child) for child in (arr.keys, arr.items))
        return pa.MapArray.from_arrays(arr.offsets, keys, items, mask=mask)
    if pa.types.is_struct(t):
        names = [t.field(i).name for i in range(t.num_fields)]
        return pa.StructArray.from_arrays([_map_contents(c) for c in arr.flatten()], names=names, mask=mask)
    if pa.types.is_fixed_size_list(t):
        arr = arr.cast(pa.list_(t.value_field))
    kind = pa.LargeListArray if pa.types.is_large_list(arr.type) else pa.ListArray
    return kind.from_arrays(arr.offsets, _map_contents(arr.values), mask=mask)


def _flat_canonical(arr: pa.Array) -> pa.Array:
    """A flat array (map keys or values) with its values made canonical, through polars."""
    column = _for_polars(pa.chunked_array([arr]))
    frame = pl.from_arrow(pa.table({"v": column}), rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    return frame.select(_canonical(pl.col("v"), frame.schema["v"])).to_arrow()["v"].combine_chunks()
