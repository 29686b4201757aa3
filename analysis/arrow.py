"""Response frames in Parquet: how they are stored, how they are read back into Arrow, and the
few views of Arrow arrays that the counting needs (dictionary indices and validity as numpy
arrays, without copies).

Storage (`encode_table`): a categorical answer is stored as a small integer code with its
categories in the column's metadata, the way SPSS and Stata files keep value labels, and a
yes/no option column as a 0/1 code. Both decode about twice as fast as Parquet's
dictionary-encoded strings and booleans, which is most of the cost of reading a snapshot;
`decode` turns them back into dictionary and boolean columns, without copying the codes.

Reading: whole (`read_table`, for small campaigns and tests) or row group by row group
(`row_groups`), each decoded by Arrow's threads while the caller works on the previous one.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.signedinteger[Any]]
#: Field metadata of a categorical column stored as codes: its categories, as a JSON list.
CATEGORIES = b"minsheng.categories"
#: Field metadata of categories that are large strings (as pandas 3 writes them).
LARGE = b"minsheng.large"
#: Field metadata of a yes/no column stored as 0/1 codes.
BOOLEAN = b"minsheng.boolean"
#: Where the pandas metadata of an encoded table is kept (pandas would misread the codes).
PANDAS = b"pandas"
ENCODED_PANDAS = b"minsheng.pandas"
#: Row groups decoded ahead of the one being counted: one keeps both cores busy (Arrow's
#: threads decode while numpy counts) without holding more than three row groups in memory.
READ_AHEAD = 1


def use_memory_pool(name: str) -> str:
    """Make ``name`` (jemalloc, mimalloc or system) Arrow's default memory pool for this
    process and return the one in use (Arrow's default where this build lacks ``name``).

    Counting a snapshot row group by row group frees and allocates tens of megabytes per row
    group; with jemalloc that costs about a quarter of the system time of mimalloc, Arrow's
    default, whose purging of freed pages shows up as 0.3-0.5 s of system time per ten million
    responses (bench/analysis.py).
    """
    pools = {
        "jemalloc": pa.jemalloc_memory_pool,
        "mimalloc": pa.mimalloc_memory_pool,
        "system": pa.system_memory_pool,
    }
    try:
        pool = pools[name]()
    except NotImplementedError:  # a build of Arrow without this allocator
        pool = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    return str(pool.backend_name)


def _sources(paths: str | Path | Sequence[str | Path]) -> list[str | Path]:
    return [paths] if isinstance(paths, str | Path) else list(paths)


def _present(names: Sequence[str], columns: Sequence[str] | None) -> list[str] | None:
    """The ``columns`` a file with columns ``names`` has (all of them when ``columns`` is None)."""
    if columns is None:
        return None
    have = set(names)
    return [c for c in columns if c in have]


def _code_type(categories: int) -> Any:
    if categories <= np.iinfo(np.int8).max:
        return pa.int8()
    return pa.int16() if categories <= np.iinfo(np.int16).max else pa.int32()


def encode_table(table: Any) -> Any:
    """``table`` (e.g. ``pyarrow.Table.from_pandas`` of a response frame) in the stored layout:
    dictionary-encoded string columns as integer codes, boolean columns as 0/1 codes."""
    table = table.unify_dictionaries()
    fields, columns = [], []
    for field, column in zip(table.schema, table.columns, strict=True):
        kind = field.type
        if pa.types.is_dictionary(kind) and (
            pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)
        ):
            categories = column.chunk(0).dictionary.to_pylist() if column.num_chunks else []
            width = _code_type(len(categories))
            column = pa.chunked_array([c.indices.cast(width) for c in column.chunks], type=width)
            metadata = {CATEGORIES: json.dumps(categories, ensure_ascii=False).encode()}
            if pa.types.is_large_string(kind.value_type):
                metadata[LARGE] = b"1"
            field = pa.field(field.name, width, nullable=True, metadata=metadata)
        elif pa.types.is_boolean(kind):
            column = column.cast(pa.int8())
            field = pa.field(field.name, pa.int8(), nullable=True, metadata={BOOLEAN: b"1"})
        fields.append(field)
        columns.append(column)
    metadata = dict(table.schema.metadata or {})
    if PANDAS in metadata:
        metadata[ENCODED_PANDAS] = metadata.pop(PANDAS)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=metadata))


def _value_type(large: bool) -> Any:
    return pa.large_string() if large else pa.string()


@lru_cache(maxsize=1024)
def _dictionary(categories: bytes, large: bool) -> Any:
    """The dictionary of stored categories, one object per distinct list (so that row groups
    of one file share it and `analysis.counting` recognises it at once)."""
    return pa.array(json.loads(categories), type=_value_type(large))


def decoded_field(field: Any) -> Any:
    """The field a stored column decodes to (itself when it is not stored as codes)."""
    metadata = field.metadata or {}
    if CATEGORIES in metadata:
        return pa.field(field.name, pa.dictionary(field.type, _value_type(LARGE in metadata)))
    if BOOLEAN in metadata:
        return pa.field(field.name, pa.bool_())
    return field


def decoded_schema(schema: Any) -> Any:
    """The schema of a stored table once decoded."""
    metadata = dict(schema.metadata or {})
    if ENCODED_PANDAS in metadata:
        metadata[PANDAS] = metadata.pop(ENCODED_PANDAS)
    return pa.schema([decoded_field(f) for f in schema], metadata=metadata or None)


def _decode_array(array: Any, field: Any) -> Any:
    metadata = field.metadata or {}
    if CATEGORIES in metadata:
        dictionary = _dictionary(metadata[CATEGORIES], LARGE in metadata)
        return pa.DictionaryArray.from_arrays(array, dictionary)
    if BOOLEAN in metadata:
        return array.cast(pa.bool_())
    return array


def decode(data: Any) -> Any:
    """A stored record batch or table with its codes turned back into dictionary and boolean
    columns (the codes are not copied); anything else comes back unchanged."""
    schema = data.schema
    if not any(f.metadata and (CATEGORIES in f.metadata or BOOLEAN in f.metadata) for f in schema):
        return data
    target = decoded_schema(schema)
    if isinstance(data, pa.RecordBatch):
        arrays = [_decode_array(c, f) for c, f in zip(data.columns, schema, strict=True)]
        return pa.RecordBatch.from_arrays(arrays, schema=target)
    columns = [
        pa.chunked_array([_decode_array(c, f) for c in column.chunks], type=target.field(i).type)
        for i, (column, f) in enumerate(zip(data.columns, schema, strict=True))
    ]
    return pa.Table.from_arrays(columns, schema=target)


def read_schema(path: str | Path) -> Any:
    """The (decoded) schema of a Parquet file of response frames."""
    return decoded_schema(pq.read_schema(path))


def read_table(paths: str | Path | Sequence[str | Path], columns: list[str] | None = None) -> Any:
    """An Arrow table of one or more Parquet files of response frames (only ``columns`` when
    given, skipping those a file lacks), read by several threads, with the dictionaries of
    categorical columns unified so that every chunk of a column shares one dictionary."""
    tables = [
        decode(
            pq.read_table(
                source,
                columns=_present(pq.read_schema(source).names, columns),
                use_threads=True,
                memory_map=True,
            )
        )
        for source in _sources(paths)
    ]
    if not tables:
        return pa.table({})
    table = (
        tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    )
    return table.unify_dictionaries()


def row_groups(
    paths: str | Path | Sequence[str | Path], columns: Sequence[str] | None = None
) -> Iterator[Any]:
    """The record batches of one or more Parquet files, one row group at a time and in file
    order, decoded `READ_AHEAD` row groups ahead in a thread: Arrow decodes without holding
    the GIL, so the caller's counting of one row group overlaps the decoding of the next."""
    jobs = []
    for source in _sources(paths):
        with pq.ParquetFile(source) as handle:
            wanted = _present(handle.schema_arrow.names, columns)
            jobs += [(source, index, wanted) for index in range(handle.num_row_groups)]

    def read(source: str | Path, index: int, wanted: list[str] | None) -> Any:
        # Opened (and mapped) per row group: the mapping of a row group already read is let
        # go, so the file does not stay resident in the process.
        with pq.ParquetFile(source, memory_map=True) as handle:
            return decode(handle.read_row_group(index, columns=wanted, use_threads=True))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="row-groups") as pool:
        pending: deque[Future[Any]] = deque()
        try:
            for job in jobs:
                pending.append(pool.submit(read, *job))
                if len(pending) > READ_AHEAD:
                    yield from pending.popleft().result().to_batches()
            while pending:
                yield from pending.popleft().result().to_batches()
        finally:
            for future in pending:
                future.cancel()


def read_column(paths: str | Path | Sequence[str | Path], name: str) -> Any | None:
    """One column of every file (chunked), or None when no file has it."""
    parts = []
    for source in _sources(paths):
        if name in pq.read_schema(source).names:
            table = decode(pq.read_table(source, columns=[name], memory_map=True))
            parts.extend(table[name].chunks)
    if not parts:
        return None
    kinds = {p.type for p in parts}
    if len(kinds) > 1:
        parts = [p.cast(pa.float64()) for p in parts]
    return pa.chunked_array(parts)


class Categories:
    """The categories of one categorical column in the order first met: maps the dictionary
    of each record batch to positions that hold across batches."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.position: dict[Any, int] = {}
        self._dictionary: Any = None
        self._lookup = np.zeros(0, dtype=np.intp)

    def lookup(self, dictionary: Any) -> npt.NDArray[np.intp]:
        """The position among `values` of each entry of a batch's dictionary (-1 for a null
        entry), adding the categories not met before. The last dictionary is remembered:
        row groups of one file usually share it."""
        if self._dictionary is not None and (
            self._dictionary is dictionary or self._dictionary.equals(dictionary)
        ):
            return self._lookup
        positions = []
        for value in dictionary.to_pylist():
            if value is None:
                positions.append(-1)
                continue
            if value not in self.position:
                self.position[value] = len(self.values)
                self.values.append(value)
            positions.append(self.position[value])
        self._dictionary, self._lookup = dictionary, np.array(positions, dtype=np.intp)
        return self._lookup


def validity(array: Any) -> BoolArray | None:
    """Which slots of ``array`` hold a value, or None when all of them do."""
    if array.null_count == 0:
        return None
    bitmap = array.buffers()[0]
    if bitmap is None:  # a null-type array, or a dictionary array whose nulls sit in its values
        return np.asarray(pc.is_valid(array).to_numpy(zero_copy_only=False), dtype=bool)
    bits = np.unpackbits(
        np.frombuffer(bitmap, dtype=np.uint8), count=len(array) + array.offset, bitorder="little"
    )
    return bits[array.offset :].view(np.bool_)


def dictionary_indices(array: Any) -> tuple[IntArray, BoolArray | None]:
    """The indices of a dictionary array as a numpy view (no copy) and their validity (None when
    nothing is missing). Missing slots hold arbitrary indices: mask them with the validity."""
    indices = array.indices
    if len(indices) == 0:
        return np.zeros(0, dtype=np.int8), None
    dtype = np.dtype(indices.type.to_pandas_dtype())
    raw = np.frombuffer(indices.buffers()[1], dtype=dtype, count=len(indices) + indices.offset)[
        indices.offset :
    ]
    return raw, validity(indices)


def as_dictionary(array: Any) -> Any:
    """``array`` as a dictionary array (categorical answers stored as plain strings)."""
    if pa.types.is_dictionary(array.type):
        return array
    return pc.dictionary_encode(array)


def float_values(array: Any) -> npt.NDArray[np.float64]:
    """A numeric array as float64 with missing values as NaN."""
    if not pa.types.is_floating(array.type):
        array = array.cast(pa.float64())
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)


def codes_against(
    array: Any, names: Sequence[str], cache: dict[str, Any] | None = None
) -> tuple[IntArray, BoolArray | None]:
    """Codes of every slot of a categorical array against ``names`` (0..k-1 in that order) and
    which slots are usable: answered with one of ``names`` (None when every slot is).

    When the array's dictionary is ``names`` itself (as frames write it) the codes are its
    indices, unchanged. ``cache`` (one per column) keeps the last dictionary's lookup.
    """
    array = as_dictionary(array)
    raw, valid = dictionary_indices(array)
    dictionary = array.dictionary
    known = cache.get("dictionary") if cache is not None else None
    if known is not None and (known is dictionary or known.equals(dictionary)):
        lookup = cache["lookup"] if cache is not None else None
    else:
        values = dictionary.to_pylist()
        lookup = None
        if values != list(names):
            position = {name: i for i, name in enumerate(names)}
            lookup = np.array([position.get(v, -1) for v in values] + [-1], dtype=np.int32)
        if cache is not None:
            cache.update(dictionary=dictionary, lookup=lookup)
    if lookup is None:
        return raw, valid
    safe = raw if valid is None else np.where(valid, raw, len(lookup) - 1)
    codes = lookup[safe]
    return codes, codes >= 0
