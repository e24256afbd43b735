"""Parameter values for the workload: pools sampled from the demo data and the named generators."""

from __future__ import annotations

import itertools
import random
import re
import string
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.numeric import Int8

from ...catalog import own_marker
from ...errors import WorkbenchError

_MARK = own_marker("workload")  # the runner's own lookups: statements() leaves them out


_STOPWORDS = frozenset((
    "about", "after", "another", "before", "behind", "does", "each", "every", "from", "have", "inside",
    "into", "never", "often", "over", "some", "that", "their", "them", "then", "there", "they", "this",
    "under", "very", "what", "when", "which", "while", "with", "without", "your",
))


_FIRST = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn")
_LAST = ("Park", "Novak", "Okafor", "Berg", "Moreau", "Costa", "Sato", "Walsh", "Reyes", "Fischer")


@dataclass
class Pools:
    """Values sampled once per run from the demo database, for the generators to draw from."""

    users: list[tuple[Any, str, str]]          # id, email, username
    writer_ids: list[Any]                      # posts.user_id of sampled posts: skewed like writing
    posts: list[tuple[Any, str]]               # id, slug
    hot_post_ids: list[Any]                    # comments.post_id of sampled comments: skewed like comments
    comment_ids: list[Any]
    title_words: list[str]
    content_words: list[str]
    sentences: list[str]
    published: int
    latest: datetime
    nonce: str
    counter: Iterator[int] = field(default_factory=itertools.count)


def _sample(conn: psycopg.Connection[Any], table: str, columns: Sequence[str], want: int,
            seed: int) -> list[tuple[Any, ...]]:
    """About ``want`` rows of ``table``, the same ones for the same seed and data."""
    row = conn.execute(f"SELECT {_MARK} reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table]).fetchone()
    estimate = float(row[0]) if row else -1.0
    percent = 100.0 if estimate <= 0 else min(100.0, 100.0 * want * 3 / estimate)
    query = sql.SQL("SELECT {} {} FROM {} TABLESAMPLE BERNOULLI (%s) REPEATABLE (%s) LIMIT %s").format(
        sql.SQL(_MARK), sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table))
    return conn.execute(query, [percent, float(seed), Int8(want)]).fetchall()


def sample_pools(conn: psycopg.Connection[Any], seed: int) -> Pools:
    """Sample the generators' pools from the demo tables (raises if they are missing or empty)."""
    with conn.transaction() if not conn.autocommit else nullcontext():
        found = conn.execute(
            f"SELECT {_MARK} count(to_regclass(t)) FROM unnest(ARRAY['users', 'posts', 'comments']) AS t").fetchone()
        if not found or found[0] != 3:
            raise WorkbenchError("the demo tables (users, posts, comments) are not in this database: "
                                 "load them first with dbworkbench.datasets.load_demo(conn)")
        users = [(r[0], r[1], r[2]) for r in _sample(conn, "users", ("id", "email", "username"), 2000, seed)]
        posts = _sample(conn, "posts", ("id", "user_id", "slug", "title", "content", "status"), 2000, seed)
        comments = _sample(conn, "comments", ("id", "post_id"), 2000, seed)
        counts = conn.execute(
            f"SELECT {_MARK} (SELECT count(*) FROM users), (SELECT count(*) FROM posts WHERE status = 'published'),"
            " (SELECT count(*) FROM posts), (SELECT max(created_at) FROM users),"
            " (SELECT max(published_at) FROM posts WHERE status = 'published')").fetchone()
    if not users or not posts or not comments or counts is None:
        raise WorkbenchError("the demo tables are empty: load them with dbworkbench.datasets.load_demo(conn)")
    n_users, published, n_posts, last_user, last_post = counts
    title_words = {w for r in posts for w in re.findall(r"\b[a-z]{4,}\b", r[3])} - _STOPWORDS
    content_words = {w for r in posts[:300] for w in re.findall(r"\b[a-z]{4,}\b", r[4].lower())} - _STOPWORDS
    sentences = sorted({s.strip() for r in posts[:300] for s in re.split(r"(?<=[.?!])\s+", r[4]) if s.strip()})
    latest = max(t for t in (last_user, last_post, datetime(2000, 1, 1).astimezone()) if t is not None)
    return Pools(
        users=users,
        writer_ids=[r[1] for r in posts],
        posts=[(r[0], r[2]) for r in posts],
        hot_post_ids=[r[1] for r in comments],
        comment_ids=[r[0] for r in comments],
        title_words=sorted(title_words) or ["post"],
        content_words=sorted(content_words) or ["post"],
        sentences=sentences or ["A comment."],
        published=int(published),
        latest=latest,
        nonce=f"{n_users}x{n_posts}s{seed}".replace("-", "m"),
    )


def _mixed_case(email: str, rng: random.Random) -> str:
    local, _, domain = email.partition("@")
    typed = ".".join(p.capitalize() for p in local.split(".")) + "@" + domain.capitalize()
    return rng.choice([email, email.lower(), email.upper(), typed])


def _text(rng: random.Random, pools: Pools, sentences: int) -> str:
    return " ".join(rng.choice(pools.sentences) for _ in range(sentences))


def _comment_text(pools: Pools, rng: random.Random) -> str:
    if rng.random() < 0.02:                       # an unvalidated wall of text: CHECK rejects it
        text = ""
        while len(text) <= 5000:
            text += _text(rng, pools, 10) + "\n\n"
        return text
    return _text(rng, pools, rng.randint(1, 3))


def _post_text(pools: Pools, rng: random.Random) -> str:
    return "\n\n".join(_text(rng, pools, rng.randint(2, 5)) for _ in range(rng.randint(2, 3)))


def _new_title(pools: Pools, rng: random.Random) -> str:
    a, b = rng.choice(pools.title_words), rng.choice(pools.title_words)
    return f"Notes on {a} and {b}"


def _new_slug(pools: Pools, rng: random.Random) -> str:
    return f"notes-{rng.choice(pools.title_words)}-{pools.nonce}-{next(pools.counter)}"


def _new_email(pools: Pools, rng: random.Random) -> str:
    k = next(pools.counter)
    return rng.choice([f"new.user.{pools.nonce}.{k}@example.net", f"New.User.{pools.nonce}.{k}@Example.net"])


def _deep_offset(pools: Pools, rng: random.Random) -> Int8:
    lo = 1000                                     # page 50 of 20
    hi = max(lo, pools.published // 2)
    return Int8(lo + 20 * rng.randrange((hi - lo) // 20 + 1))


def _recent_time(pools: Pools, rng: random.Random, days: int = 30) -> datetime:
    return pools.latest - timedelta(days=rng.uniform(0, days))


@dataclass(frozen=True)
class _Generator:
    draw: Callable[..., Any]
    check: Callable[[tuple[Any, ...]], str | None]


def _no_args(args: tuple[Any, ...]) -> str | None:
    return "no arguments" if args else None


def _int_range(args: tuple[Any, ...]) -> str | None:
    ok = len(args) == 2 and all(isinstance(a, int) for a in args) and args[0] <= args[1]
    return None if ok else "two integers lo, hi with lo <= hi"


def _words(args: tuple[Any, ...]) -> str | None:
    return None if args else "at least one value"


def _days(args: tuple[Any, ...]) -> str | None:
    ok = not args or (len(args) == 1 and isinstance(args[0], int) and args[0] > 0)
    return None if ok else "nothing, or a number of days > 0"


def _simple(fn: Callable[[Pools, random.Random], Any]) -> _Generator:
    return _Generator(fn, _no_args)


GENERATORS: dict[str, _Generator] = {
    "user_id": _simple(lambda p, r: r.choice(p.writer_ids) if r.random() < 2 / 3 else r.choice(p.users)[0]),
    "any_user_id": _simple(lambda p, r: r.choice(p.users)[0]),
    "post_id": _simple(lambda p, r: r.choice(p.hot_post_ids) if r.random() < 2 / 3 else r.choice(p.posts)[0]),
    "comment_id": _simple(lambda p, r: r.choice(p.comment_ids)),
    "email": _simple(lambda p, r: r.choice(p.users)[1]),
    "email_mixed_case": _simple(lambda p, r: _mixed_case(r.choice(p.users)[1], r)),
    "username": _simple(lambda p, r: r.choice(p.users)[2]),
    "login": _simple(lambda p, r: r.choice(p.users)[r.choice((1, 2))]),
    "slug": _simple(lambda p, r: r.choice(p.posts)[1]),
    "title_word": _simple(lambda p, r: r.choice(p.title_words)),
    "search_terms": _simple(lambda p, r: " ".join(r.sample(p.content_words, min(len(p.content_words),
                                                                                 r.randint(1, 2))))),
    "deep_offset": _simple(_deep_offset),
    "recent_time": _Generator(_recent_time, _days),
    "int": _Generator(lambda p, r, lo, hi: Int8(r.randint(lo, hi)), _int_range),
    "choice": _Generator(lambda p, r, *values: r.choice(values), _words),
    "comment_text": _simple(_comment_text),
    "post_text": _simple(_post_text),
    "new_title": _simple(_new_title),
    "new_slug": _simple(_new_slug),
    "new_email": _simple(_new_email),
    "new_username": _simple(lambda p, r: f"new_{p.nonce}_{next(p.counter)}"),
    "full_name": _simple(lambda p, r: f"{r.choice(_FIRST)} {r.choice(_LAST)}"),
    "avatar_url": _simple(lambda p, r: None if r.random() < 0.3
                          else f"https://cdn.example.com/avatars/{uuid.UUID(int=r.getrandbits(128)).hex}.jpg"),
    "password_hash": _simple(lambda p, r: "$2b$12$" + "".join(r.choices(string.ascii_letters + string.digits + "./",
                                                                        k=53))),
}


def check_args(generator: str, args: tuple[Any, ...]) -> str | None:
    """What ``generator`` expects, when ``args`` don't fit it; None when they do."""
    return GENERATORS[generator].check(args)
