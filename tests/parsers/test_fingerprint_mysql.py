"""pt-query-digest fingerprints: one case per rule of QueryRewriter::fingerprint, and a comparison
with the installed pt-query-digest over a generated corpus."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from processor.parsers import fingerprint, parser_for
from processor.parsers.fingerprint_mysql import fingerprint_latin1, query_id_short
from tests.parsers.generate import write_slowlog

RULES: list[tuple[str, str, str]] = [
    # 1. mysqldump and percona-toolkit queries
    ("mysqldump", "SELECT /*!40001 SQL_NO_CACHE */ * FROM `orders`", "mysqldump"),
    ("pt-tool", "REPLACE /*foo.bar:3/5*/ INTO checksums VALUES (1)", "percona-toolkit"),
    # 2. administrator commands unchanged, CALL reduced to the procedure
    ("admin", "administrator command: Quit", "administrator command: Quit"),
    ("call", "  CALL Proc_Name(1, 'a')", "call proc_name"),
    # 3. multi-row INSERT/REPLACE cut to the first tuple
    (
        "insert-multi",
        "INSERT INTO t (a,b) VALUES (1,'x'), (2,'y')",
        "insert into t (a,b) values(?+)",
    ),
    ("replace-multi", "REPLACE INTO t VALUES (1),(2),(3)", "replace into t values(?+)"),
    # 4. comments stripped, but not /*! version comments */
    ("mlc", "SELECT /* hint */ 1 FROM t", "select ? from t"),
    ("version-comment", "SELECT /*!50000 1 */ FROM t", "select /*!? ? */ from t"),
    ("olc-dash", "SELECT 1 -- why\nFROM t", "select ? from t"),
    ("olc-hash", "SELECT 1 # why\nFROM t", "select ? from t"),
    # 5. use db
    ("use", "USE mydb", "use ?"),
    # 6. quoted strings and escaped quotes
    ("strings", "SELECT 'a\\'b', \"c\" FROM t", "select ?, ? from t"),
    # 7. booleans
    ("bool", "SELECT * FROM t WHERE a = TRUE OR b = false", "select * from t where a = ? or b = ?"),
    # 8. numbers, no word boundary: tbl1 -> tbl?, hex, floats, signs
    # (the class is matched before lower-casing, so the upper-case F of 0x1F survives, as in pt)
    (
        "numbers",
        "SELECT * FROM tbl1 WHERE x = 0x1F AND y = -1.5e3",
        "select * from tbl? where x = ?f and y = ?",
    ),
    # 9. whitespace trimmed and collapsed, lower-cased
    ("whitespace", "  SELECT\n\ta ,  B\r\nFROM   T", "select a , b from t"),
    # 10. NULL
    ("null", "SELECT * FROM t WHERE a IS NULL", "select * from t where a is ?"),
    # 11. IN lists and VALUES lists
    ("in-list", "SELECT * FROM t WHERE id IN (1, 2, 3)", "select * from t where id in(?+)"),
    ("values", "INSERT INTO t VALUES (1, 'a')", "insert into t values(?+)"),
    # 12. repeated UNION
    (
        "union",
        "SELECT a FROM t WHERE id = 1 UNION SELECT a FROM t WHERE id = 2",
        "select a from t where id = ? /*repeat union*/",
    ),
    # 13. LIMIT forms
    ("limit-comma", "SELECT * FROM t LIMIT 10, 20", "select * from t limit ?"),
    ("limit-offset", "SELECT * FROM t LIMIT 10 OFFSET 20", "select * from t limit ?"),
    # 14. ASC after ORDER BY
    (
        "order-asc",
        "SELECT * FROM t ORDER BY a ASC, b DESC, c ASC",
        "select * from t order by a, b desc, c",
    ),
]


@pytest.mark.parametrize(("rule", "query", "expected"), RULES, ids=[r[0] for r in RULES])
def test_fingerprint_rule(rule: str, query: str, expected: str) -> None:
    fp, qid = fingerprint(query)
    assert fp == expected
    assert qid == hashlib.md5(expected.encode()).hexdigest().upper()


def test_embedded_numbers_option() -> None:
    assert fingerprint_latin1("SELECT * FROM tbl1", embedded_numbers=True) == "select * from tbl1"


def test_lowercasing_is_ascii_only_like_perl() -> None:
    fp, qid = fingerprint("SELECT `ÀÉ` FROM T")
    assert fp == "select `ÀÉ` from t"
    assert qid == hashlib.md5("select `ÀÉ` from t".encode()).hexdigest().upper()


def test_query_id_short_is_the_2x_form() -> None:
    _, qid = fingerprint("SELECT 1")
    assert query_id_short(qid) == qid[-16:]
    assert len(qid) == 32


def test_unterminated_password_is_masked_in_the_fingerprint() -> None:
    data = (
        b"# Time: 2024-01-03T07:15:38.660108Z\n# Query_time: 1.0  Lock_time: 0.0 Rows_sent: 0"
        b"  Rows_examined: 0\nCREATE USER 'a'@'%' IDENTIFIED BY 'cut-short-secret\n"
    )
    parser = parser_for("slowquery")
    [event] = parser.feed(data) + parser.flush()
    assert "cut-short-secret" not in event.fields["statement"]
    assert "cut-short-secret" not in event.fields["fingerprint"]


TRICKY = [
    "select 1",
    "SELECT * FROM t WHERE a IN (NULL, 1) AND b IN ('x')",
    "SELECT * FROM t1 WHERE c = 'a''b' ORDER BY x ASC LIMIT 5",
    "INSERT IGNORE INTO t VALUES(1,2),(3,4)",
    "insert into t select * from u",
    "SELECT /**/ 1",
    "select * from t where a = 1 union all select * from t where a = 2",
    "SELECT x FROM t ORDER BY x ascending",
    "/* leading */ SELECT 1",
    "SELECT 'é' FROM `tbl_ü`",
    "update t set a = -1, b = +2 where c = 1.5e-3 and d = b'101' and e = x'1f'",
    "SELECT * FROM t WHERE a = 1 -- end",
    "call p()",
    "DELETE FROM t WHERE id IN (1,2,3) AND x IN(4)",
]


@pytest.fixture(scope="module")
def pt_query_digest() -> str:
    path = shutil.which("pt-query-digest")
    if path is None:
        pytest.skip(
            "pt-query-digest is not installed (apt-get install percona-toolkit, or `make tools`):"
            " the comparison with percona-toolkit is skipped"
        )
    return path


def _pt_events(tool: str, log: Path) -> list[tuple[str, str, str, str | None]]:
    # The filter runs after pt-query-digest computed the fingerprint and carried the database
    # forward (--inherit-attributes db); it prints, per event, the statement, fingerprint,
    # make_checksum() and db, as hex so newlines and bytes survive ("-" for no db).
    code = (
        'print(STDOUT join("\\t", unpack("H*", $event->{arg}), unpack("H*", $event->{fingerprint}),'
        " Transformers::make_checksum($event->{fingerprint}),"
        ' defined $event->{db} ? unpack("H*", $event->{db}) : "-") . "\\n")'
    )
    res = subprocess.run(
        [tool, "--no-report", "--filter", code, str(log)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    rows = []
    for line in res.stdout.decode().splitlines():
        arg, fp, checksum, db = line.split("\t")
        rows.append(
            (
                bytes.fromhex(arg).decode(),
                bytes.fromhex(fp).decode(),
                checksum,
                None if db == "-" else bytes.fromhex(db).decode(),
            )
        )
    return rows


def test_matches_pt_query_digest_on_a_generated_corpus(
    pt_query_digest: str, tmp_path: Path
) -> None:
    log = tmp_path / "slow.log"
    with log.open("wb") as fh:
        entries = write_slowlog(fh, 400_000, seed=11)
        for i, query in enumerate(TRICKY):
            fh.write(
                f"# Time: 2024-01-03T08:00:{i:02d}.000000Z\n"
                f"# User@Host: t[t] @  [10.0.0.1]  Id: {i}\n"
                "# Query_time: 0.100000  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0\n"
                f"SET timestamp=1704268800;\n{query};\n".encode()
            )
    theirs = _pt_events(pt_query_digest, log)
    parser = parser_for("slowquery")
    ours = parser.feed(log.read_bytes()) + parser.flush()
    assert len(theirs) == len(ours) == entries + len(TRICKY)
    mismatches = [
        (t[0], t[1], o.fields["fingerprint"])
        for t, o in zip(theirs, ours, strict=True)
        if (o.fields["fingerprint"], o.fields["query_id"]) != (t[1], t[2])
        and "***" not in o.fields["fingerprint"]
    ]
    assert mismatches == []
    # Statements we mask keep pt-query-digest's id (it is computed before masking).
    assert [o.fields["query_id"] for o in ours] == [t[2] for t in theirs]
    # 70 % of the generated entries lack `use`: both carry the last one forward.
    assert sum(o.fields.get("db") is None for o in ours) < 10
    assert [o.fields.get("db") for o in ours] == [t[3] for t in theirs]


def test_carried_database_matches_pt_query_digest_when_use_is_rare(
    pt_query_digest: str, tmp_path: Path
) -> None:
    # A single-schema server writes `use` once: keep one `use` line in twenty, and give a few
    # entries a Percona `Schema:` line, which pt-query-digest aliases to db and carries too.
    buf = io.BytesIO()
    write_slowlog(buf, 300_000, seed=17, extra=False)
    lines = buf.getvalue().split(b"\n")
    kept: list[bytes] = []
    uses = 0
    for line in lines:
        if line.startswith(b"use "):
            uses += 1
            if uses % 20:
                continue
        kept.append(line)
        if line.startswith(b"# Query_time:") and len(kept) % 97 == 0:
            kept.append(b"# Thread_id: 8  Schema: crm  QC_hit: No")
    log = tmp_path / "slow.log"
    log.write_bytes(b"\n".join(kept))
    theirs = _pt_events(pt_query_digest, log)
    parser = parser_for("slowquery")
    ours = parser.feed(log.read_bytes()) + parser.flush()
    assert len(ours) == len(theirs)
    assert sum(line.startswith(b"use ") for line in kept) < len(ours) / 10
    assert [o.fields.get("db") for o in ours] == [t[3] for t in theirs]
    # Per query class, the same databases.
    classes_ours: dict[str, set[str | None]] = {}
    classes_theirs: dict[str, set[str | None]] = {}
    for o, t in zip(ours, theirs, strict=True):
        classes_ours.setdefault(o.fields["query_id"], set()).add(o.fields.get("db"))
        classes_theirs.setdefault(t[2], set()).add(t[3])
    assert classes_ours == classes_theirs
    assert {"crm", "shop", "audit", "app_db"} <= {db for dbs in classes_ours.values() for db in dbs}
