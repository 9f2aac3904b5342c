"""Realistic SQL statements: a few dozen query shapes with varying literals, so that
fingerprints group (same shape, different values) while the text looks like an application's."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TypeVar

Shape = Callable[[random.Random, str], str]
T = TypeVar("T")


def ri(r: random.Random, a: int, b: int) -> int:
    """`randint` without its argument checks: generation spends most of its time here."""
    return a + int(r.random() * (b - a + 1))


def pick(r: random.Random, seq: Sequence[T]) -> T:
    return seq[int(r.random() * len(seq))]


_STATUSES = ("pending", "paid", "shipped", "cancelled", "refunded")
_NAMES = ("O'Brien", "Zoë", "Smith, John", "Müller", "d'Artagnan", "Nguyen", "Lee")
_WORDS = ("red", "blue", "kettle", "café", "lamp, desk", "charger", "cable")


def _q(dialect: str, name: str) -> str:
    return f"`{name}`" if dialect == "mysql" else f'"{name}"'


def _s(dialect: str, text: str) -> str:
    """A SQL string literal, escaped the way each server's log shows it."""
    if dialect == "mysql":
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + text.replace("'", "''") + "'"


def _ids(r: random.Random) -> str:
    return ", ".join(str(ri(r, 1, 999_999)) for _ in range(ri(r, 1, 12)))


def _by_id(r: random.Random, d: str) -> str:
    return f"SELECT id, email, created_at FROM users WHERE id = {ri(r, 1, 2_000_000)}"


def _orders_join(r: random.Random, d: str) -> str:
    return (
        "SELECT o.id, o.total, c.name\n"
        "  FROM orders o\n"
        "  JOIN customers c ON c.id = o.customer_id\n"
        f" WHERE o.status = {_s(d, pick(r, _STATUSES))}\n"
        f"   AND o.created_at > '2026-{ri(r, 1, 12):02d}-{ri(r, 1, 28):02d} 00:00:00'\n"
        " ORDER BY o.created_at DESC\n"
        f" LIMIT {pick(r, (10, 20, 50, 100))}"
    )


def _in_list(r: random.Random, d: str) -> str:
    return f"SELECT sku, qty FROM {_q(d, 'inventory')} WHERE item_id IN ({_ids(r)})"


def _insert(r: random.Random, d: str) -> str:
    rows = ", ".join(
        f"({ri(r, 1, 10**6)}, {_s(d, pick(r, _WORDS))}, {ri(r, 1, 500)}.{ri(r, 0, 99):02d})"
        for _ in range(ri(r, 1, 5))
    )
    return f"INSERT INTO order_items (order_id, label, price) VALUES {rows}"


def _update(r: random.Random, d: str) -> str:
    return (
        f"UPDATE accounts SET balance = balance - {ri(r, 1, 900)}, updated_at = NOW() "
        f"WHERE id = {ri(r, 1, 500_000)} AND version = {ri(r, 1, 40)}"
    )


def _delete(r: random.Random, d: str) -> str:
    return (
        f"DELETE FROM sessions WHERE expires_at < '2026-11-{ri(r, 1, 28):02d} 00:00:00' LIMIT 1000"
    )


def _customer_name(r: random.Random, d: str) -> str:
    return f"SELECT id FROM customers WHERE name = {_s(d, pick(r, _NAMES))} AND active = 1"


def _report(r: random.Random, d: str) -> str:
    return (
        "/* reports:daily-revenue */ SELECT DATE(created_at) AS day,\n"
        "       COUNT(*) AS orders,\n"
        "       SUM(total) AS revenue\n"
        "  FROM orders\n"
        f" WHERE created_at >= '2026-{ri(r, 1, 11):02d}-01'\n"
        " GROUP BY DATE(created_at)\n"
        " HAVING COUNT(*) > " + str(ri(r, 1, 50))
    )


def _like(r: random.Random, d: str) -> str:
    return f"SELECT id, title FROM products WHERE title LIKE {_s(d, '%' + pick(r, _WORDS) + '%')} LIMIT 25"


def _count(r: random.Random, d: str) -> str:
    return f"SELECT COUNT(*) FROM events WHERE tenant_id = {ri(r, 1, 300)} AND kind = {ri(r, 1, 9)}"


def _subquery(r: random.Random, d: str) -> str:
    return (
        "SELECT c.id, c.email\n"
        "FROM customers c\n"
        "WHERE c.id IN (\n"
        f"    SELECT customer_id FROM orders WHERE total > {ri(r, 100, 5000)}\n"
        ")\n"
        f"AND c.country = {_s(d, pick(r, ('FR', 'DE', 'US', 'JP')))}"
    )


def _call(r: random.Random, d: str) -> str:
    if d == "mysql":
        return f"CALL refresh_stats({ri(r, 1, 30)}, {_s(d, pick(r, _WORDS))})"
    return f"SELECT refresh_stats({ri(r, 1, 30)}, {_s(d, pick(r, _WORDS))})"


def _upsert(r: random.Random, d: str) -> str:
    key = ri(r, 1, 10**5)
    if d == "mysql":
        return (
            f"INSERT INTO counters (id, hits) VALUES ({key}, 1) "
            "ON DUPLICATE KEY UPDATE hits = hits + 1"
        )
    return f"INSERT INTO counters (id, hits) VALUES ({key}, 1) ON CONFLICT (id) DO UPDATE SET hits = counters.hits + 1"


def _create_user(r: random.Random, d: str) -> str:
    pw = f"S3cr3t-{ri(r, 1000, 9999)}"
    if d == "mysql":
        return f"CREATE USER 'svc_{ri(r, 1, 99)}'@'%' IDENTIFIED BY '{pw}'"
    return f"CREATE USER svc_{ri(r, 1, 99)} WITH PASSWORD '{pw}'"


SHAPES: tuple[tuple[Shape, int], ...] = (
    (_by_id, 30),
    (_orders_join, 8),
    (_in_list, 10),
    (_insert, 10),
    (_update, 10),
    (_delete, 3),
    (_customer_name, 6),
    (_report, 2),
    (_like, 5),
    (_count, 8),
    (_subquery, 3),
    (_call, 2),
    (_upsert, 5),
    (_create_user, 1),
)
_FUNCS = [s for s, _ in SHAPES]
_WEIGHTS = [w for _, w in SHAPES]
_CUM: list[int] = []
_total = 0
for _w in _WEIGHTS:
    _total += _w
    _CUM.append(_total)


def statement(r: random.Random, dialect: str) -> str:
    """One statement of a weighted random shape; may span several lines."""
    shape = r.choices(_FUNCS, cum_weights=_CUM)[0]
    return shape(r, dialect)
