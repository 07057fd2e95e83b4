"""Bulk paths of a load: a big first load into an empty table, and connection settings for the apply phase.

Maintaining five indexes (and, on SpatiaLite, the R*Tree and its bookkeeping triggers) row by row costs more
than the insert itself; building them once after the rows are in is about twice as fast. So when a dataset's
table is empty, the load drops its secondary indexes (and SpatiaLite's triggers) inside the locked
transaction, inserts everything, recreates them from the definitions it saved and fills the R*Tree in one
statement, before commit.
If anything fails the transaction rolls back and the definitions were never lost.

On PostgreSQL, dropping an index locks the (empty) table until commit, so a reader of a dataset that has no
version yet waits for the first one instead of seeing nothing; on SQLite, readers keep their snapshot.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import sqlalchemy as sa

from core.memory import trim_heap
from publish.db import driver
from publish.store import Store

SQLITE_ANALYSIS_LIMIT = 1000  # rows ANALYZE reads per index on SQLite: enough for the planner, ms on a million
# page cache while applying; SQLite's sorter building an index holds as much again: more speeds index builds, but
# both count in a million-row ingest's peak (issue 21: under 400 MB; 32 MB put it ~10 MB higher)
SQLITE_CACHE_KIB = 16 * 1024
SQLITE_RTREE_CACHE_KIB = 8 * 1024  # while the R*Tree is built (tuned() sets the usual size back afterwards)
PG_MEMORY = "256MB"
# a row's hash is only ever compared with its staged twin, joined by key: its statistics (a sort of 30,000
# random 32-character texts per load) steer no plan
UNANALYZED = frozenset({"_hash"})
# a load's ANALYZE samples 300 × this many rows: 3,000 give the planner row counts, the common values of the
# few-valued fields and n_distinct (for 100,000 rows, 0.05 s instead of 0.6-0.8 s with the server's 100);
# autovacuum's autoanalyze, when it runs, refines them with the server's target after the commit
LOAD_STATISTICS_TARGET = 10


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def is_empty(conn: sa.Connection, table: str) -> bool:
    """No row in the table at all, of any version."""
    if conn.in_transaction():
        return conn.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() is None
    with conn.begin():
        return conn.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() is None


def analyze(conn: sa.Connection, table: str, columns: Iterable[str] | None = None, *,
            statistics_target: int | None = None) -> None:
    """Inside a load's transaction, after its rows: refresh the planner's statistics of `table`, so the first
    queries of the new version are not planned for the table as it was (empty, or a tenth of its size).

    PostgreSQL samples 300 × the statistics target rows whatever the size (30,000 at the default 100) and
    counts this transaction's own rows, and autovacuum may not come by for minutes (its autoanalyze still
    comes: the load's rows count as changed since this ANALYZE once it commits); SQLite keeps statistics only when asked (`sqlite_stat1`), read here from a
    sample of each index. Only this table: SpatiaLite's R*Tree and metadata tables keep their estimates.
    Of `columns` (default: all), PostgreSQL leaves out those no query filters or sorts on (UNANALYZED).
    With `statistics_target` PostgreSQL samples 300 × that many rows (and keeps that many common values)
    instead of the server's default_statistics_target."""
    if conn.dialect.name != "sqlite":
        wanted = [c for c in columns if c not in UNANALYZED] if columns is not None else []
        before = None
        if statistics_target is not None:
            before = conn.exec_driver_sql("SHOW default_statistics_target").scalar()
            conn.exec_driver_sql(f"SET LOCAL default_statistics_target = {int(statistics_target)}")
        conn.exec_driver_sql(f"ANALYZE {table}" + (f" ({', '.join(map(_quoted, wanted))})" if wanted else ""))
        if before is not None:
            conn.exec_driver_sql(f"SET LOCAL default_statistics_target = {int(before)}")
        return
    before = conn.exec_driver_sql("PRAGMA analysis_limit").scalar()
    conn.exec_driver_sql(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
    try:
        conn.exec_driver_sql(f'ANALYZE "{table}"')
    finally:
        conn.exec_driver_sql(f"PRAGMA analysis_limit = {before}")


def truncate_wal(conn: sa.Connection, wait_ms: int = 1000) -> bool:
    """SQLite, after a load committed: copy the write-ahead log into the database and cut it to zero bytes, so a
    large load's WAL (hundreds of MB) does not stay on disk. A reader still holding an older snapshot makes it
    wait up to `wait_ms`, then give up quietly (the next load tries again). Returns whether it was truncated."""
    raw = driver(conn)
    before = raw.execute("PRAGMA busy_timeout").fetchone()[0]
    try:
        raw.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
        busy = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except Exception:  # noqa: BLE001 - housekeeping: never the load's failure
        return False
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(before)}")
    return not busy


@contextmanager
def tuned(conn: sa.Connection) -> Iterator[None]:
    """More memory for sorts, hashes and index builds while one load applies; back to normal afterwards."""
    sqlite = conn.dialect.name == "sqlite"
    with conn.begin():
        if sqlite:
            before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        else:
            conn.exec_driver_sql(f"SET work_mem = '{PG_MEMORY}'")
            conn.exec_driver_sql(f"SET maintenance_work_mem = '{PG_MEMORY}'")
    try:
        yield
    finally:
        try:
            if conn.in_transaction():
                conn.rollback()
            with conn.begin():
                if sqlite:
                    conn.exec_driver_sql(f"PRAGMA cache_size = {before}")
                else:
                    conn.exec_driver_sql("RESET work_mem")
                    conn.exec_driver_sql("RESET maintenance_work_mem")
        except sa.exc.SQLAlchemyError:
            pass


@contextmanager
def indexes_deferred(conn: sa.Connection, store: Store, table: sa.Table) -> Iterator[None]:
    """Inside the load's transaction: drop the table's secondary indexes, let the caller insert, rebuild."""
    if conn.dialect.name == "postgresql":
        with _postgres(conn, table.name):
            yield
    else:
        geometry = "_geom" in table.c
        with _sqlite(conn, table.name, geometry):
            yield


@contextmanager
def _postgres(conn: sa.Connection, table: str) -> Iterator[None]:
    saved = conn.execute(sa.text(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid = CAST(:t AS regclass) AND NOT indisprimary"), {"t": table}).all()
    for name, _ in saved:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    yield
    for _, definition in saved:
        conn.exec_driver_sql(definition)


@contextmanager
def _sqlite(conn: sa.Connection, table: str, geometry: bool) -> Iterator[None]:
    rtree = f"idx_{table}__geom"
    spatial = geometry and conn.exec_driver_sql(
        "SELECT spatial_index_enabled FROM geometry_columns WHERE lower(f_table_name) = lower(?) "
        "AND lower(f_geometry_column) = '_geom'", (table,)).scalar() == 1
    # SpatiaLite's triggers check each geometry, stamp a time table and update the R*Tree, row by row
    saved = conn.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL", (table,)).all()
    for kind, name, _ in saved:
        conn.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
    if spatial:
        conn.exec_driver_sql(f'DELETE FROM "{rtree}"')
    yield
    for _, _, sql in saved:
        conn.exec_driver_sql(sql)
    if geometry:
        conn.exec_driver_sql(
            "UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
            "WHERE lower(f_table_name) = lower(?) AND lower(f_geometry_column) = '_geom'", (table,))
    if spatial:  # the page cache refilled by the R*Tree's scan would stack on its arrays: a smaller one for it
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_RTREE_CACHE_KIB}")
    trim_heap()  # what the index builds freed, back to the system before the R*Tree is built in numpy
    if spatial and not _rtree_packed(conn, rtree, table):  # else what CreateSpatialIndex does, row by row
        conn.exec_driver_sql(
            f'INSERT INTO "{rtree}" (pkid, xmin, xmax, ymin, ymax) SELECT ROWID, MbrMinX(_geom), MbrMaxX(_geom), '
            f'MbrMinY(_geom), MbrMaxY(_geom) FROM "{table}" WHERE MbrMinX(_geom) IS NOT NULL')
    trim_heap()  # the tree's arrays, freed, back to the system before the load is recorded (its report)


# -- SpatiaLite's R*Tree, packed -------------------------------------------------------------------------------
_ROUND_TOWARDS, _ROUND_AWAY = 1.0 - 1.0 / 8388608.0, 1.0 + 1.0 / 8388608.0
_NODES_AT_ONCE = 4096  # R*Tree nodes laid out together (~5 MB of cells)


def _down(values: np.ndarray) -> np.ndarray:
    """float32 of each value rounded towards -inf, exactly as SQLite's rtree stores a lower bound
    (rtreeValueDown in ext/rtree/rtree.c)."""
    out = values.astype(np.float32)
    high = out.astype(np.float64) > values
    out[high] = (values[high] * np.where(values[high] < 0, _ROUND_AWAY, _ROUND_TOWARDS)).astype(np.float32)
    return out


def _up(values: np.ndarray) -> np.ndarray:
    """float32 rounded towards +inf, as rtreeValueUp stores an upper bound."""
    out = values.astype(np.float32)
    low = out.astype(np.float64) < values
    out[low] = (values[low] * np.where(values[low] < 0, _ROUND_TOWARDS, _ROUND_AWAY)).astype(np.float32)
    return out


def _tiles(boxes: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """Sort-Tile-Recursive packing: (order, sizes), the box indexes in groups of at most `capacity` laid end to
    end and each group's size, neighbours together (vertical slices by x centre, then runs by y centre); sizes
    within a slice differ by one at most, so every node is at least about half full. One array of indexes, not
    one per group: a million boxes' ~24,000 small arrays and their joined copy were ~18 MB at a load's peak."""
    count = len(boxes)
    nodes = -(-count // capacity)
    centre = boxes[:, 0].astype(np.float64)  # sums in place: a million boxes' temporaries are 8 MB each
    centre += boxes[:, 1]
    order = np.argsort(centre, kind="stable")
    centre_y = centre  # reused
    np.add(boxes[:, 2], boxes[:, 3], out=centre_y, dtype=np.float64)
    sizes: list[int] = []
    for column in np.array_split(order, math.ceil(math.sqrt(nodes))):  # views of `order`, sorted in place
        column[:] = column[np.argsort(centre_y[column], kind="stable")]
        runs = -(-len(column) // capacity)
        small, larger = divmod(len(column), runs)  # np.array_split's sizes: the first `larger` one more
        sizes += [small + 1] * larger + [small] * (runs - larger)
    return order, np.array(sizes, dtype=np.int64)


def _node_rows(ids: np.ndarray | None, boxes: np.ndarray, order: np.ndarray, numbers: np.ndarray,
               starts: np.ndarray, sizes: np.ndarray, depth: int, node_size: int,
               cell: np.dtype) -> Iterator[tuple[int, bytes]]:
    """(node number, node blob) of one level: a 4-byte head (depth, cell count), the cells, zero padding. The
    cells (entries `order` of ids and boxes; ids None: each entry's position + 1) are laid out a few thousand
    nodes at a time: a million entries' cells at once would be 24 MB more at the load's peak."""
    for first in range(0, len(numbers), _NODES_AT_ONCE):
        last = min(first + _NODES_AT_ONCE, len(numbers))
        begin, end = int(starts[first]), int(starts[last - 1] + sizes[last - 1])
        cells = np.empty(end - begin, dtype=cell)
        cells["id"] = order[begin:end] + 1 if ids is None else ids[order[begin:end]]
        cells["box"] = boxes[order[begin:end]]
        for node, start, count in zip(numbers[first:last].tolist(), starts[first:last].tolist(),
                                      sizes[first:last].tolist(), strict=True):
            body = cells[start - begin:start - begin + count].tobytes()
            yield node, struct.pack(">HH", depth, count) + body + bytes(node_size - 4 - len(body))


def _rtree_packed(conn: sa.Connection, rtree: str, table: str) -> bool:
    """Fill SpatiaLite's R*Tree of `table` (2-D, empty) in one go: build the tree packed in numpy and write
    SQLite's rtree shadow tables (`_node`, `_parent`, `_rowid`) directly, in the rtree's own format (see
    "The data for each node" in ext/rtree/rtree.c). Inserting a million boxes through the rtree module one by
    one takes about 15 seconds (it chooses a leaf and may split for each); this about one. False, having
    changed nothing, when the R*Tree is not of the expected shape; then the caller inserts row by row."""
    columns = [row[1] for row in conn.exec_driver_sql(f'PRAGMA table_info("{rtree}_rowid")')]
    size = conn.exec_driver_sql(f'SELECT length(data) FROM "{rtree}_node" WHERE nodeno = 1').scalar()
    cell = np.dtype([("id", ">i8"), ("box", ">f4", 4)])
    dimensions = len(conn.exec_driver_sql(f'PRAGMA table_info("{rtree}")').all()) - 1
    if columns != ["rowid", "nodeno"] or dimensions != 4 or not size or (size - 4) // cell.itemsize < 4:
        return False
    capacity = (size - 4) // cell.itemsize
    # filled in place, in slices (a million rows as Python tuples would cost ~200 MB at once): the table's row
    # count bounds the boxes, and pages of the arrays left unfilled are never touched (not resident)
    bound = int(conn.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar() or 0)
    entries, boxes, filled = np.empty(bound, dtype=np.int64), np.empty((bound, 4), dtype=np.float32), 0
    cursor = driver(conn).cursor()
    try:
        cursor.execute(f'SELECT ROWID, MbrMinX(_geom), MbrMaxX(_geom), MbrMinY(_geom), MbrMaxY(_geom) FROM "{table}" '
                       f"WHERE MbrMinX(_geom) IS NOT NULL")
        while chunk := cursor.fetchmany(10_000):
            found = np.array(chunk, dtype=np.float64)
            end = filled + len(found)
            entries[filled:end] = found[:, 0]
            for k, bound_of in enumerate((_down, _up, _down, _up)):
                boxes[filled:end, k] = bound_of(found[:, k + 1])
            filled = end
    finally:
        cursor.close()
    entries, boxes = entries[:filled], boxes[:filled]
    # a first load's ROWIDs are 1, 2, ... n: then they are not kept, each is its position + 1 (8 MB less at the peak)
    numbered = bool(filled and entries[0] == 1 and entries[-1] == filled and (entries[1:] > entries[:-1]).all())
    ids: np.ndarray | None = None if numbered else entries
    rowids = ids  # the leaves' entries (ids is each level's in turn)
    del entries
    trim_heap()  # the fetched rows' Python floats, freed, back to the system before the tree is built
    count = len(boxes)
    raw = driver(conn)
    raw.execute(f'DELETE FROM "{rtree}_node"')
    raw.execute(f'DELETE FROM "{rtree}_parent"')
    raw.execute(f'DELETE FROM "{rtree}_rowid"')
    parents: list[tuple[int, int]] = []
    leaf_of = np.empty(0, dtype=np.int64)
    depth, number = 0, 1  # the root is node 1 and says how many levels lie below it
    while True:
        if count > capacity:
            order, sizes = _tiles(boxes, capacity)
        else:
            order, sizes = np.arange(count), np.array([count], dtype=np.int64)
        root = len(sizes) == 1
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        numbers = np.array([1], dtype=np.int64) if root else np.arange(number + 1, number + 1 + len(sizes))
        number = int(numbers[-1]) if not root else number
        # one level's nodes are written as they are made: a million entries' nodes never sit in memory twice
        raw.executemany(f'INSERT INTO "{rtree}_node" (nodeno, data) VALUES (?, ?)',
                        _node_rows(ids, boxes, order, numbers, starts, sizes, depth if root else 0, size, cell))
        if depth == 0:
            leaf_of = np.empty(len(order), dtype=np.int64)
            leaf_of[order] = np.repeat(numbers, sizes)  # the leaf of each entry
        else:
            assert ids is not None  # the level below's node numbers
            parents.extend(zip(ids[order].tolist(), np.repeat(numbers, sizes).tolist(), strict=True))
        if root:
            break
        # the parents' boxes, one bound at a time (a copy of one column, not of all four)
        boxes = np.column_stack([reduce.reduceat(boxes[order, k], starts)
                                 for k, reduce in enumerate((np.minimum, np.maximum, np.minimum, np.maximum))])
        ids, depth, count = numbers, depth + 1, len(numbers)
    raw.executemany(f'INSERT INTO "{rtree}_parent" (nodeno, parentnode) VALUES (?, ?)', sorted(parents))
    if rowids is not None and len(rowids) > 1 and not (rowids[1:] > rowids[:-1]).all():  # read in ROWID order:
        by_rowid = np.argsort(rowids, kind="stable")  # sorted already
        rowids, leaf_of = rowids[by_rowid], leaf_of[by_rowid]
    for start in range(0, len(leaf_of), 50_000):  # in slices, for the same reason
        end = min(start + 50_000, len(leaf_of))
        numbers_of = range(start + 1, end + 1) if rowids is None else rowids[start:end].tolist()
        raw.executemany(f'INSERT INTO "{rtree}_rowid" (rowid, nodeno) VALUES (?, ?)',
                        zip(numbers_of, leaf_of[start:end].tolist(), strict=True))
    return True


class CopyStream:
    """One `COPY table (columns) FROM STDIN` kept open across batches inside the connection's open transaction:
    in PostgreSQL's text format (publish.staging.COPY_DELIMITER between columns) or, with `binary`, its binary
    format (publish/copy_binary.py; the signature goes first, the trailer at a successful finish). A writer
    thread sends the data, so the server stores one batch while Python builds the next."""

    def __init__(self, conn: sa.Connection, table: str, columns: list[str], *, binary: bool = False) -> None:
        from psycopg.copy import QueuedLibpqWriter

        from publish.staging import COPY_DELIMITER

        cols = ", ".join(f'"{c}"' for c in columns)
        options = "FORMAT binary" if binary else f"FORMAT text, DELIMITER E'\\x{ord(COPY_DELIMITER):02x}'"
        self._binary = binary
        self._cursor = driver(conn).cursor()
        self._context = self._cursor.copy(f"COPY {table} ({cols}) FROM STDIN ({options})",
                                          writer=QueuedLibpqWriter(self._cursor))
        self._copy = self._context.__enter__()
        if binary:
            from publish.copy_binary import SIGNATURE

            self._copy.write(SIGNATURE)

    def write(self, data: bytes) -> None:
        self._copy.write(data)

    def finish(self, error: BaseException | None = None) -> None:
        """End the COPY (before any other statement on the connection); with `error`, abandon it."""
        try:
            if self._binary and error is None:
                from publish.copy_binary import TRAILER

                self._copy.write(TRAILER)
            self._context.__exit__(type(error) if error else None, error, None)
        finally:
            self._cursor.close()

