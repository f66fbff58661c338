"""A long mixed workload with faults: hundreds of simulated users against the whole system.

    .venv/bin/python bench/soak.py           # or: make soak

1. drops and creates the PostgreSQL database `dreamlust_soak`, migrates it and seeds a
   small demo set (`dreamlust seed --scale 2`);
2. starts a private redis-server on a free port (no persistence), `dreamlust serve
   --workers 2` (two API processes) and one `dreamlust worker`, all on 127.0.0.1, with
   production settings, the read cache on and the rate limits on; the server believes
   the soak's `X-Forwarded-For`, so every simulated user has an address of its own;
3. runs `--users` simulated users for `--duration` seconds, each an asyncio task with a
   session of its own: it registers, signs in, some become creators with tiers, then
   each keeps doing a weighted mix of browsing (lists, trending, details, creator
   pages, comments, search, feed), recording views, liking and unliking, commenting,
   following and unfollowing, subscribing, tipping, reporting, opening the link of its
   verification mail, and (creators) reading their earnings and withdrawing, with a
   random pause between steps. Money goes through the sandbox gateway with an
   Idempotency-Key, retried with the same key after a 5xx or a lost answer, as a
   careful client does;
4. meanwhile injects faults (unless `--no-faults`), printing when each happens: kill -9
   of the worker (started again 3 s later), Redis shut down for 20 s (without saving:
   the buffered views of the last flush interval are lost, as docs/DEPLOY.md says), and
   every PostgreSQL connection of the soak database terminated (`pg_terminate_backend`;
   the shared server itself is never stopped);
5. stops the load, stops the worker, lets a `dreamlust worker --once` store the
   buffered views, and checks: every write answered 2xx is in the database (accounts,
   verified addresses, creators, tiers, comments, reports, subscriptions, ledger
   entries, counted views, and likes and follows in their last answered state),
   `dreamlust recount --check` finds no drift, and every ledger balances (each
   creator's balance in the `creator_balances` view equals its entries summed here,
   none is negative, every fee is the platform's share);
6. prints, per operation, the requests, refusals (expected 4xx: 409, 429 …), 503s,
   requests without an answer, errors (any other non-2xx), the error rate, p50 and
   p99, then the checks; exits 1 when a write is lost, a counter drifted, a ledger does
   not balance or any error occurred. Everything started is stopped at the end, on
   Ctrl-C, on `kill` and on errors; the database is dropped unless `--keep-db`.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

import run as bench  # bench/ is the script's directory, hence on sys.path

API = "/api/v1"
PASSWORD_BYTES = 18
CREATOR_EVERY = 10  # every tenth simulated user becomes a creator
SOAK_CREATOR_PICK = 0.6  # how often money goes to a soak creator rather than a seeded one
MONEY_RETRY_SECONDS = 45  # how long a payment is retried (same key) after a 5xx
REDIS_OUTAGE_SECONDS = 20
WORKER_RESTART_SECONDS = 3
CONTENT_POOL = 3_000
VERIFY_LINK = re.compile(r"/verify-email\?token=([A-Za-z0-9_-]+)")
PLATFORM_FEE_BPS = 2000  # the default DREAMLUST_PLATFORM_FEE_BPS, which the soak keeps

# Answers that are the API doing its job, not failing: conflicts (a second open report,
# a withdrawal over the balance, a second subscription, a creator who takes no tips),
# limits, content that turned out not to be there for this viewer.
REFUSED = {404, 409, 429}
EXPECTED_REFUSALS: dict[str, set[int]] = {"comment": {403}}  # comments off on the item


# --- What happened, client side -------------------------------------------------------------


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    ok: int = 0
    refused: int = 0
    unavailable: int = 0
    unavailable_outside_faults: int = 0
    unanswered: int = 0  # no answer within the timeout, or the connection failed
    errors: int = 0
    error_statuses: Counter[str] = field(default_factory=Counter)
    refused_statuses: Counter[int] = field(default_factory=Counter)
    unanswered_by: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return self.ok + self.refused + self.unavailable + self.unanswered + self.errors


@dataclass
class Accepted:
    """Every write the API answered with 2xx, as the client saw it."""

    users: set[uuid.UUID] = field(default_factory=set)
    verified: set[uuid.UUID] = field(default_factory=set)
    creators: dict[uuid.UUID, int] = field(default_factory=dict)  # id -> tiers set
    comments: set[uuid.UUID] = field(default_factory=set)
    reports: set[uuid.UUID] = field(default_factory=set)
    subscriptions: set[uuid.UUID] = field(default_factory=set)
    # id -> (type, status, amount, fee, currency, creator id)
    transactions: dict[uuid.UUID, tuple[str, str, Decimal, Decimal, str, uuid.UUID]] = field(
        default_factory=dict
    )
    # The last answered state of a pair; None once a request's outcome is unknown.
    likes: dict[tuple[uuid.UUID, uuid.UUID], bool | None] = field(default_factory=dict)
    follows: dict[tuple[uuid.UUID, str], bool | None] = field(default_factory=dict)
    views: list[tuple[uuid.UUID, uuid.UUID, float]] = field(default_factory=list)  # counted


@dataclass
class Fault:
    name: str
    started: float  # time.time()
    ended: float = 0.0
    detail: str = ""


@dataclass
class Run:
    """The state the simulated users share."""

    client: httpx.AsyncClient
    deadline: float  # time.monotonic()
    think_seconds: float
    tallies: dict[str, Tally] = field(default_factory=dict)
    accepted: Accepted = field(default_factory=Accepted)
    content: dict[uuid.UUID, str] = field(default_factory=dict)  # id -> creator handle
    handles: dict[str, uuid.UUID] = field(default_factory=dict)  # handle -> creator id
    soak_handles: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    unsettled: set[Any] = field(default_factory=set)
    mail_dir: Path | None = None
    mail_read: set[str] = field(default_factory=set)
    verification_tokens: dict[str, str] = field(default_factory=dict)  # address -> token
    prefix: str = field(default_factory=lambda: secrets.token_hex(3))

    def tally(self, operation: str) -> Tally:
        return self.tallies.setdefault(operation, Tally())

    def learn(self, cards: Sequence[dict[str, Any]]) -> None:
        """Remember the items and creators a page showed, for the steps that need ids."""
        for card in cards:
            creator = card.get("creator") or {}
            if "handle" in creator:
                self.handles[creator["handle"]] = uuid.UUID(creator["id"])
                if len(self.content) < CONTENT_POOL:
                    self.content[uuid.UUID(card["id"])] = creator["handle"]

    def read_mail(self) -> None:
        """Take the verification links out of the mails delivered since the last look (the
        file mail backend writes one .eml per message)."""
        if self.mail_dir is None or not self.mail_dir.is_dir():
            return
        for path in self.mail_dir.iterdir():
            if path.name in self.mail_read or path.suffix != ".eml":
                continue
            self.mail_read.add(path.name)
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            plain = message.get_body(preferencelist=("plain",))
            if plain is None:
                continue
            if match := VERIFY_LINK.search(plain.get_content()):
                self.verification_tokens[str(message["To"])] = match.group(1)

    def in_fault(self, at: float) -> bool:
        """Whether `at` falls in a fault, or in the few seconds after it."""
        return any(f.started - 1 <= at <= (f.ended or at) + 10 for f in self.faults)


# --- One simulated user ----------------------------------------------------------------------


@dataclass
class User:
    run: Run
    number: int
    username: str = ""
    password: str = field(default_factory=lambda: secrets.token_urlsafe(PASSWORD_BYTES))
    address: str = ""
    id: uuid.UUID | None = None
    token: str | None = None
    handle: str | None = None  # set once a creator
    subscribed: set[str] = field(default_factory=set)
    verified: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@soak.dreamlust.example.com"

    def __post_init__(self) -> None:
        self.username = f"soak_{self.run.prefix}_{self.number}"
        n = self.number + 1
        self.address = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"X-Forwarded-For": self.address}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return {**headers, **(extra or {})}

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response | None:
        """One request, tallied under `operation`; None when no answer came."""
        tally = self.run.tally(operation)
        started = time.perf_counter()
        try:
            response = await self.run.client.request(
                method, API + path, json=json, params=params, headers=self.headers(headers)
            )
        except httpx.HTTPError as exc:
            tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            tally.unanswered += 1
            tally.unanswered_by[type(exc).__name__] += 1
            return None
        tally.latencies_ms.append((time.perf_counter() - started) * 1000)
        status = response.status_code
        if status == 401 and self.token and operation != "login":
            self.token = None  # signs in again at the next step
        if 200 <= status < 300:
            tally.ok += 1
        elif status == 503:
            tally.unavailable += 1
            if not self.run.in_fault(time.time()):
                tally.unavailable_outside_faults += 1
        elif status in REFUSED or status in EXPECTED_REFUSALS.get(operation, set()):
            tally.refused += 1
            tally.refused_statuses[status] += 1
        else:
            tally.errors += 1
            tally.error_statuses[str(status)] += 1
        return response

    async def paid(self, operation: str, path: str, body: dict[str, Any]) -> httpx.Response | None:
        """A POST that moves money: one Idempotency-Key, retried after a 5xx or a lost
        answer until the payment is settled one way or the other."""
        key = {"Idempotency-Key": str(uuid.uuid4())}
        give_up = time.monotonic() + MONEY_RETRY_SECONDS
        delay = 0.5
        while True:
            response = await self.call(operation, "POST", path, json=body, headers=key)
            unsettled = response is None or response.status_code >= 500
            if not unsettled or time.monotonic() > give_up:
                return response
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)

    # -- the life of the user --

    async def live(self) -> None:
        if not await self.register():
            return
        if self.number % CREATOR_EVERY == 0:
            await self.become_creator()
        while time.monotonic() < self.run.deadline:
            await asyncio.sleep(random.expovariate(1 / self.run.think_seconds))
            if time.monotonic() >= self.run.deadline:
                break
            if self.token is None and not await self.login():
                continue
            weights, actions = zip(*self.steps(), strict=True)
            await random.choices(actions, weights)[0]()

    def steps(self) -> list[tuple[float, Callable[[], Awaitable[None]]]]:
        creator = 1.0 if self.handle else 0.0
        return [
            (12, self.browse_latest),
            (6, self.browse_trending),
            (15, self.open_detail),
            (5, self.open_creator),
            (6, self.read_comments),
            (8, self.search),
            (4, self.read_feed),
            (14, self.view),
            (7, self.like),
            (2, self.unlike),
            (4, self.comment),
            (4, self.follow),
            (1, self.unfollow),
            (1.5, self.subscribe),
            (2, self.tip),
            (0.7, self.report),
            (8 * creator, self.withdraw),
            (0 if self.verified else 10, self.verify_email),
        ]

    async def register(self) -> bool:
        body = {
            "email": self.email,
            "username": self.username,
            "password": self.password,
            "birth_date": "1990-01-01",
        }
        for _ in range(20):
            response = await self.call("register", "POST", "/auth/register", json=body)
            if response is not None and response.status_code == 201:
                self.id = uuid.UUID(response.json()["id"])
                self.run.accepted.users.add(self.id)
                await self.login()  # else at the next step
                return True
            if response is not None and response.status_code == 409:
                # Taken: an earlier attempt went through without its answer reaching us.
                return await self.login() and await self.read_profile()
            if time.monotonic() >= self.run.deadline:
                return False
            await asyncio.sleep(2)
        return False

    async def read_profile(self) -> bool:
        response = await self.call("profile", "GET", "/users/me")
        if response is None or response.status_code != 200:
            return False
        self.id = uuid.UUID(response.json()["id"])
        return True

    async def login(self) -> bool:
        body = {"login": self.username, "password": self.password}
        response = await self.call("login", "POST", "/auth/login", json=body)
        if response is None or response.status_code != 200:
            return False
        self.token = response.json()["access_token"]
        return True

    async def verify_email(self) -> None:
        """Open the link of the verification mail, once it has come."""
        self.run.read_mail()  # a few new small files: no need for a thread
        token = self.run.verification_tokens.get(self.email)
        if token is None or self.id is None:
            return
        response = await self.call(
            "verify email", "POST", "/auth/verify-email", json={"token": token}
        )
        if response is not None and response.status_code == 200:
            self.verified = True
            self.run.accepted.verified.add(self.id)

    async def become_creator(self) -> None:
        handle = f"soak{self.run.prefix}{self.number}"
        body = {"display_name": f"Soak creator {self.number}", "handle": handle}
        response = await self.call("become creator", "POST", "/creators", json=body)
        if response is None or response.status_code != 201:
            return
        creator_id = uuid.UUID(response.json()["id"])
        self.run.accepted.creators[creator_id] = 0
        tiers = {
            "tiers": [
                {"tier": "BASIC", "price": "4.99", "currency": "USD"},
                {"tier": "PREMIUM", "price": "9.99", "currency": "USD"},
            ]
        }
        response = await self.call("set tiers", "PUT", "/creators/me/tiers", json=tiers)
        if response is not None and response.status_code == 200:
            self.run.accepted.creators[creator_id] = len(tiers["tiers"])
        self.handle = handle
        self.run.handles[handle] = creator_id
        self.run.soak_handles.append(handle)

    # -- reading --

    async def _page(self, operation: str, path: str, params: dict[str, Any]) -> None:
        response = await self.call(operation, "GET", path, params=params)
        if response is not None and response.status_code == 200:
            self.run.learn(response.json()["items"])

    async def browse_latest(self) -> None:
        await self._page("list latest", "/content", {"sort": "latest", "limit": 20})

    async def browse_trending(self) -> None:
        window = random.choice(("24h", "7d", "30d"))
        await self._page("trending", "/content/trending", {"window": window})

    async def open_detail(self) -> None:
        if content_id := self._some_content():
            await self.call("content detail", "GET", f"/content/{content_id}")

    async def open_creator(self) -> None:
        if handle := self._some_handle():
            await self.call("creator page", "GET", f"/creators/{handle}")

    async def read_comments(self) -> None:
        if content_id := self._some_content():
            await self.call("comments list", "GET", f"/content/{content_id}/comments")

    async def search(self) -> None:
        term = random.choice(SEARCH_TERMS)
        await self._page("search", "/search", {"q": term})

    async def read_feed(self) -> None:
        await self._page("feed", "/users/me/feed", {"limit": 20})

    # -- writing --

    async def view(self) -> None:
        content_id = self._some_content()
        if content_id is None or self.id is None:
            return
        body = {"duration": random.randint(1, 600)}
        response = await self.call("view", "POST", f"/content/{content_id}/views", json=body)
        if response is not None and response.status_code == 202 and response.json()["counted"]:
            self.run.accepted.views.append((self.id, content_id, time.time()))

    async def like(self, *, liked: bool = True) -> None:
        content_id = self._some_content()
        if content_id is None or self.id is None:
            return
        method, operation = ("PUT", "like") if liked else ("DELETE", "unlike")
        response = await self.call(operation, method, f"/content/{content_id}/like")
        self._settle(self.run.accepted.likes, (self.id, content_id), response, liked)

    async def unlike(self) -> None:
        await self.like(liked=False)

    async def follow(self, *, following: bool = True) -> None:
        handle = self._some_handle()
        if handle is None or self.id is None or handle == self.handle:
            return
        method, operation = ("PUT", "follow") if following else ("DELETE", "unfollow")
        response = await self.call(operation, method, f"/creators/{handle}/follow")
        self._settle(self.run.accepted.follows, (self.id, handle), response, following)

    async def unfollow(self) -> None:
        await self.follow(following=False)

    def _settle(
        self,
        states: dict[Any, bool | None],
        pair: Any,
        response: httpx.Response | None,
        state: bool,
    ) -> None:
        """Keep the last answered state of a pair. After a 5xx it is unknown until the
        next answer; after no answer at all, for good (the request may still land)."""
        if response is None:
            self.run.unsettled.add(pair)
        if response is None or response.status_code >= 500 or pair in self.run.unsettled:
            states[pair] = None
        elif 200 <= response.status_code < 300:
            states[pair] = state

    async def comment(self) -> None:
        if (content_id := self._some_content()) is None:
            return
        text = random.choice(COMMENTS)
        response = await self.call(
            "comment", "POST", f"/content/{content_id}/comments", json={"text": text}
        )
        if response is not None and response.status_code == 201:
            self.run.accepted.comments.add(uuid.UUID(response.json()["id"]))

    async def report(self) -> None:
        if (content_id := self._some_content()) is None:
            return
        body = {
            "target_type": "content",
            "target_id": str(content_id),
            "type": random.choice(("SPAM", "INAPPROPRIATE_CONTENT", "OTHER")),
            "reason": "Reported during the soak run.",
        }
        response = await self.call("report", "POST", "/reports", json=body)
        if response is not None and response.status_code == 201:
            self.run.accepted.reports.add(uuid.UUID(response.json()["id"]))

    async def subscribe(self) -> None:
        handle = self._payee()
        if handle is None or handle in self.subscribed:
            return
        tiers = await self.call("tiers", "GET", f"/creators/{handle}/tiers")
        if tiers is None or tiers.status_code != 200 or not tiers.json():
            return
        tier = min(tiers.json(), key=lambda t: Decimal(t["price"]))["tier"]
        response = await self.paid("subscribe", f"/creators/{handle}/subscriptions", {"tier": tier})
        if response is not None and response.status_code == 201:
            self.subscribed.add(handle)
            answer = response.json()
            self.run.accepted.subscriptions.add(uuid.UUID(answer["subscription"]["id"]))
            self._record(answer["transaction"])
        elif response is not None and response.status_code == 409:
            self.subscribed.add(handle)

    async def tip(self) -> None:
        if (handle := self._payee()) is None:
            return
        amount = f"{random.randint(1, 20)}.{random.randint(0, 99):02d}"
        body = {"amount": amount, "currency": "USD", "message": "Thanks!"}
        response = await self.paid("tip", f"/creators/{handle}/tips", body)
        if response is not None and response.status_code == 201:
            self._record(response.json())

    async def withdraw(self) -> None:
        """Read the earnings, then ask for 60 % of the balance, sometimes twice at once (the
        second must be refused: no withdrawal may exceed the balance)."""
        response = await self.call("earnings", "GET", "/creators/me/earnings")
        if response is None or response.status_code != 200:
            return
        usd = [b for b in response.json()["balances"] if b["currency"] == "USD"]
        available = Decimal(usd[0]["available"]) if usd else Decimal(0)
        amount = (available * Decimal("0.6")).quantize(Decimal("0.01"))
        if amount < Decimal("1.00"):
            return
        body = {"amount": str(amount), "currency": "USD"}
        racing = 2 if random.random() < 0.3 else 1
        answers = await asyncio.gather(
            *(self.paid("withdraw", "/creators/me/withdrawals", body) for _ in range(racing))
        )
        for answer in answers:
            if answer is not None and answer.status_code == 201:
                self._record(answer.json())

    def _record(self, transaction: dict[str, Any]) -> None:
        self.run.accepted.transactions[uuid.UUID(transaction["id"])] = (
            transaction["type"],
            transaction["status"],
            Decimal(transaction["amount"]),
            Decimal(transaction["fee"]),
            transaction["currency"],
            uuid.UUID(transaction["creator_id"]),
        )

    # -- choosing --

    def _some_content(self) -> uuid.UUID | None:
        if not self.run.content:
            return None
        return random.choice(list(self.run.content))

    def _some_handle(self) -> str | None:
        if not self.run.handles:
            return None
        return random.choice(list(self.run.handles))

    def _payee(self) -> str | None:
        mine = [h for h in self.run.soak_handles if h != self.handle]
        if mine and random.random() < SOAK_CREATOR_PICK:
            return random.choice(mine)
        handle = self._some_handle()
        return handle if handle != self.handle else None


SEARCH_TERMS = (
    "sunset", "city", "night", "studio", "travel", "music", "dance", "forest", "ocean",
    "art", "live", "portrait", "vr", "tour", "cooking", "retro", "neon", "rain",
)  # fmt: skip
COMMENTS = (
    "Lovely work, thank you!",
    "This one is my favourite so far.",
    "The light in this is beautiful.",
    "Can't wait for the next one.",
    "How long did this take to make?",
)


# --- The faults -----------------------------------------------------------------------------


@dataclass
class Processes:
    """What the soak started and may stop or start again."""

    args: argparse.Namespace
    env: dict[str, str]
    logs: Path
    redis_port: int
    api: bench.Server
    worker: bench.Server = field(default_factory=lambda: bench.Server("worker", 0))
    redis: subprocess.Popen[bytes] | None = None

    def start_redis(self) -> None:
        with (self.logs / "redis.log").open("ab") as log_file:
            self.redis = subprocess.Popen(
                [
                    "redis-server", "--port", str(self.redis_port), "--bind", bench.HOST,
                    "--save", "", "--appendonly", "no", "--daemonize", "no",
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with suppress(OSError), socket.create_connection((bench.HOST, self.redis_port), 1):
                return
            time.sleep(0.1)
        raise SystemExit(f"redis-server did not start on port {self.redis_port}")

    def stop_redis(self) -> None:
        if self.redis is None or self.redis.poll() is not None:
            return
        self.redis.terminate()  # no persistence configured: nothing is saved
        try:
            self.redis.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.redis.kill()
            self.redis.wait(timeout=5)

    def start_worker(self) -> None:
        """Start the worker; the log of the one before it is kept as worker-<n>.log."""
        if self.worker.log is not None and self.worker.log.exists():
            earlier = len(list(self.logs.glob("worker-*.log"))) + 1
            self.worker.log.rename(self.logs / f"worker-{earlier}.log")
        bench.start(self.worker, [str(bench.DREAMLUST), "worker"], self.env, self.logs)

    def kill_worker(self) -> None:
        if self.worker.process is not None and self.worker.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.worker.process.pid, signal.SIGKILL)
            self.worker.process.wait(timeout=10)

    def stop_all(self) -> None:
        for server in (self.api, self.worker):
            bench.stop(server)
        self.stop_redis()


async def terminate_connections(args: argparse.Namespace) -> int:
    """Terminate every PostgreSQL connection to the soak database (only that one)."""
    conn = await asyncpg.connect(bench.database_url(args, "postgres"))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                args.db,
            )
        )
    finally:
        await conn.close()


async def inject_faults(run: Run, processes: Processes, duration: float) -> None:
    """The worker killed at 20 % of the run, Redis down at 40 %, connections cut at 65 %,
    the worker killed once more at 85 %."""
    start = time.monotonic()

    async def at(fraction: float) -> None:
        await asyncio.sleep(max(0.0, start + fraction * duration - time.monotonic()))

    async def kill_worker() -> None:
        fault = Fault("worker kill -9", time.time())
        run.faults.append(fault)
        await asyncio.to_thread(processes.kill_worker)
        report(fault, f"worker killed; restarting in {WORKER_RESTART_SECONDS} s")
        await asyncio.sleep(WORKER_RESTART_SECONDS)
        await asyncio.to_thread(processes.start_worker)
        fault.ended = time.time()
        report(fault, "worker started again")

    await at(0.20)
    await kill_worker()
    await at(0.40)
    fault = Fault("redis down", time.time())
    run.faults.append(fault)
    await asyncio.to_thread(processes.stop_redis)
    report(fault, f"Redis shut down (no save) for {REDIS_OUTAGE_SECONDS} s")
    await asyncio.sleep(REDIS_OUTAGE_SECONDS)
    await asyncio.to_thread(processes.start_redis)
    fault.ended = time.time()
    report(fault, "Redis started again (empty)")
    await at(0.65)
    fault = Fault("pg_terminate_backend", time.time())
    run.faults.append(fault)
    cut = await terminate_connections(processes.args)
    fault.ended = time.time()
    fault.detail = f"{cut} connections"
    report(fault, f"terminated {cut} PostgreSQL connections of {processes.args.db}")
    await at(0.85)
    await kill_worker()


def report(fault: Fault, message: str) -> None:
    bench.log(f"FAULT {fault.name}: {message}")


# --- The load -------------------------------------------------------------------------------


async def warm_pool(run: Run) -> None:
    """A few pages of content before the users start, so that every step finds ids."""
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"sort": "latest", "limit": 100}
        if cursor:
            params["cursor"] = cursor
        response = await run.client.get(f"{API}/content", params=params)
        response.raise_for_status()
        page = response.json()
        run.learn(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    if not run.content:
        raise SystemExit("the seeded data shows no content: nothing to load")


async def progress(run: Run, every: float) -> None:
    started = time.monotonic()
    while True:
        await asyncio.sleep(every)
        answered = sum(t.requests for t in run.tallies.values())
        errors = sum(t.errors for t in run.tallies.values())
        unavailable = sum(t.unavailable for t in run.tallies.values())
        elapsed = time.monotonic() - started
        bench.log(
            f"{elapsed:5.0f} s: {answered} requests ({answered / elapsed:.0f}/s), "
            f"{unavailable} 503, {errors} errors"
        )


async def load(args: argparse.Namespace, processes: Processes) -> Run:
    # A connection per user: users never wait for one another in the client.
    # Idle connections are dropped well before uvicorn's keep-alive timeout (5 s) would
    # close them under a request just being sent.
    limits = httpx.Limits(
        max_connections=args.users, max_keepalive_connections=args.users, keepalive_expiry=2
    )
    timeout = httpx.Timeout(args.timeout)
    async with httpx.AsyncClient(
        base_url=processes.api.url, limits=limits, timeout=timeout
    ) as client:
        run = Run(client, time.monotonic() + args.duration, args.think)
        run.mail_dir = Path(processes.env["DREAMLUST_MAIL_DIR"])
        await warm_pool(run)
        bench.log(
            f"{args.users} users for {args.duration} s "
            f"({len(run.content)} items known); faults {'off' if args.no_faults else 'on'}"
        )
        users = [User(run, n) for n in range(args.users)]
        reporter = asyncio.create_task(progress(run, 30))
        faults = None
        if not args.no_faults:
            faults = asyncio.create_task(inject_faults(run, processes, args.duration))

        async def arrive(user: User, delay: float) -> None:
            await asyncio.sleep(delay)  # arrivals spread over the first 10 % of the run
            await user.live()

        ramp = args.duration * 0.1
        await asyncio.gather(*(arrive(u, ramp * u.number / args.users) for u in users))
        if faults is not None:
            await faults  # a fault still under way ends first: Redis and the worker are back
        reporter.cancel()
        with suppress(asyncio.CancelledError):
            await reporter
        return run


# --- The checks -----------------------------------------------------------------------------


@dataclass
class Findings:
    lines: list[str] = field(default_factory=list)
    failed: bool = False
    found: int = 0  # accepted writes found in the database
    expected: int = 0  # accepted writes looked for

    def tally(self, found: int, expected: int, line: str) -> None:
        self.found += found
        self.expected += expected
        self.check(found == expected, line)

    def check(self, ok: bool, line: str) -> None:
        self.lines.append(("ok    " if ok else "FAILED ") + line)
        self.failed = self.failed or not ok

    def note(self, line: str) -> None:
        self.lines.append("note  " + line)


async def present(conn: asyncpg.Connection, sql: str, ids: Sequence[Any]) -> set[Any]:
    return {row[0] for row in await conn.fetch(sql, list(ids))}


async def check_writes(
    url: str, run: Run, started: float, redis_outages: Sequence[Fault], flush_seconds: float
) -> Findings:
    """Every write the API accepted is in the database, in its last answered state."""
    findings = Findings()
    accepted = run.accepted
    conn = await asyncpg.connect(url)
    try:

        async def found(name: str, sql: str, ids: Sequence[Any]) -> None:
            have = await present(conn, sql, ids)
            findings.tally(len(have), len(set(ids)), f"{name}: {len(have)} of {len(set(ids))}")

        await found(
            "users", "SELECT id FROM users WHERE id = ANY($1::uuid[])", list(accepted.users)
        )
        await found(
            "e-mail verifications",
            "SELECT id FROM users WHERE id = ANY($1::uuid[]) AND email_verified",
            list(accepted.verified),
        )
        await found(
            "creators",
            "SELECT id FROM creators WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL",
            list(accepted.creators),
        )
        tiers = dict(
            await conn.fetch(
                "SELECT creator_id, count(*) FROM creator_tiers "
                "WHERE creator_id = ANY($1::uuid[]) GROUP BY creator_id",
                list(accepted.creators),
            )
        )
        short = [c for c, n in accepted.creators.items() if tiers.get(c, 0) < n]
        findings.tally(
            len(accepted.creators) - len(short),
            len(accepted.creators),
            f"creators' tiers: {len(accepted.creators) - len(short)} of {len(accepted.creators)}",
        )
        await found(
            "comments",
            "SELECT id FROM comments WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL",
            list(accepted.comments),
        )
        await found(
            "reports", "SELECT id FROM reports WHERE id = ANY($1::uuid[])", list(accepted.reports)
        )
        await found(
            "subscriptions",
            "SELECT id FROM subscriptions WHERE id = ANY($1::uuid[])",
            list(accepted.subscriptions),
        )
        await found(
            "ledger entries",
            "SELECT id FROM transactions WHERE id = ANY($1::uuid[])",
            list(accepted.transactions),
        )
        await check_pairs(
            conn,
            findings,
            "likes",
            accepted.likes,
            "SELECT user_id, content_id FROM likes WHERE user_id = ANY($1::uuid[])",
        )
        follows = {
            (user, run.handles[handle]): state for (user, handle), state in accepted.follows.items()
        }
        await check_pairs(
            conn,
            findings,
            "follows",
            follows,
            "SELECT user_id, creator_id FROM follows WHERE user_id = ANY($1::uuid[])",
        )
        stored = {
            (row[0], row[1])
            for row in await conn.fetch(
                "SELECT DISTINCT user_id, content_id FROM views WHERE user_id = ANY($1::uuid[])",
                list(accepted.users),
            )
        }
        missing = [v for v in accepted.views if (v[0], v[1]) not in stored]
        # Views buffered since the worker's last flush go with Redis (docs/DEPLOY.md): a
        # missing view counts as lost only if it was answered neither in that window nor
        # while Redis was going down.
        window = 2 * flush_seconds + 1
        with_redis = [
            v for v in missing if any(f.started - window <= v[2] <= f.ended for f in redis_outages)
        ]
        lost = len(missing) - len(with_redis)
        findings.tally(
            len(accepted.views) - len(missing),
            len(accepted.views) - len(with_redis),
            f"counted views: {len(accepted.views) - len(missing)} of "
            f"{len(accepted.views) - len(with_redis)} stored" + (f", {lost} LOST" if lost else ""),
        )
        for user_id, content_id, at in [v for v in missing if v not in with_redis][:5]:
            findings.note(
                f"lost view: user {user_id}, content {content_id}, answered "
                f"{at - started:.1f} s into the run"
            )
        if with_redis:
            findings.note(
                f"{len(with_redis)} more counted views were buffered in the {window:.0f} s before "
                "Redis went down and were lost with it (no persistence; see docs/DEPLOY.md)"
            )
    finally:
        await conn.close()
    return findings


async def check_pairs(
    conn: asyncpg.Connection,
    findings: Findings,
    name: str,
    states: dict[tuple[uuid.UUID, uuid.UUID], bool | None],
    sql: str,
) -> None:
    known = {pair: state for pair, state in states.items() if state is not None}
    users = list({user for user, _ in known})
    rows = {(row[0], row[1]) for row in await conn.fetch(sql, users)}
    wrong = [pair for pair, state in known.items() if (pair in rows) != state]
    on = sum(1 for state in known.values() if state)
    findings.tally(
        len(known) - len(wrong),
        len(known),
        f"{name}: {len(known) - len(wrong)} of {len(known)} pairs as last answered "
        f"({on} on, {len(known) - on} off; {len(states) - len(known)} with an unanswered request)",
    )


LEDGER_SQL = """
SELECT id, user_id, creator_id, type, status, amount, fee, currency, created_at
FROM transactions WHERE creator_id IS NOT NULL
"""
INFLOWS = ("SUBSCRIPTION", "TIP", "PREMIUM_CONTENT")
CENT = Decimal("0.01")


def net(type_: str, status: str, amount: Decimal, fee: Decimal) -> Decimal:
    """What one entry does to its creator's available balance."""
    if type_ in INFLOWS and status == "COMPLETED":
        return amount - fee
    if type_ == "REFUND" and status == "COMPLETED":
        return -(amount - fee)
    if type_ == "WITHDRAWAL" and status in ("PENDING", "COMPLETED"):
        return -amount
    return Decimal(0)


async def check_ledger(url: str, run: Run, started: float) -> Findings:
    """Every creator's balance in every currency, as the `creator_balances` view gives it,
    is its entries summed here; none is negative; every inflow's fee is the platform's
    share; the entries the soak was answered with are there as answered."""
    from dreamlust.billing.ledger import platform_fee

    findings = Findings()
    conn = await asyncpg.connect(url)
    try:
        entries = await conn.fetch(LEDGER_SQL)
        views = {
            (row["creator_id"], row["currency"]): row["available_cents"]
            for row in await conn.fetch(
                "SELECT creator_id, currency, available_cents FROM creator_balances"
            )
        }
    finally:
        await conn.close()
    by_hand: dict[tuple[uuid.UUID, str], Decimal] = {}
    bad_fees = 0
    for row in entries:
        account = (row["creator_id"], row["currency"])
        by_hand[account] = by_hand.get(account, Decimal(0)) + net(
            row["type"], row["status"], row["amount"], row["fee"]
        )
        if row["type"] in INFLOWS and row["fee"] != platform_fee(row["amount"], PLATFORM_FEE_BPS):
            bad_fees += 1
    off = [a for a, total in by_hand.items() if views.get(a) != int(total / CENT)]
    negative = [a for a, cents in views.items() if cents < 0]
    findings.check(
        not off and set(views) == set(by_hand),
        f"ledger: {len(by_hand) - len(off)} of {len(by_hand)} creator balances equal their "
        f"entries summed ({len(entries)} entries)",
    )
    findings.check(not negative, f"ledger: {len(negative)} negative balances")
    findings.check(
        bad_fees == 0, f"ledger: {bad_fees} inflows with a fee other than the platform's"
    )
    rows = {row["id"]: row for row in entries}
    mismatched = [
        tx_id
        for tx_id, (
            type_,
            status,
            amount,
            fee,
            currency,
            creator_id,
        ) in run.accepted.transactions.items()
        if (row := rows.get(tx_id)) is None
        or (
            row["type"],
            row["status"],
            row["amount"],
            row["fee"],
            row["currency"],
            row["creator_id"],
        )
        != (type_, status, amount, fee, currency, creator_id)
    ]
    findings.check(
        not mismatched,
        f"ledger: {len(run.accepted.transactions) - len(mismatched)} of "
        f"{len(run.accepted.transactions)} answered payments and withdrawals stored as answered",
    )
    since = [row for row in entries if row["created_at"].timestamp() >= started]
    unanswered = [row for row in since if row["id"] not in run.accepted.transactions]
    # A payment of a soak user that no answer told of: the client retries with the same
    # key until it is answered, so there should be none.
    untold = [row for row in unanswered if row["user_id"] in run.accepted.users]
    renewals = [row for row in unanswered if row not in untold and row["type"] == "SUBSCRIPTION"]
    others = len(unanswered) - len(untold) - len(renewals)
    findings.check(
        not untold and not others,
        f"ledger: {len(since)} entries made during the run: {len(since) - len(unanswered)} "
        f"answered to the soak, {len(renewals)} renewals of seeded subscriptions by the "
        f"worker, {len(untold)} soak payments never answered, {others} others",
    )
    withdrawn = sum(
        (t[2] for t in run.accepted.transactions.values() if t[0] == "WITHDRAWAL"), Decimal(0)
    )
    findings.note(
        f"{sum(1 for t in run.accepted.transactions.values() if t[0] == 'WITHDRAWAL')} "
        f"withdrawals ({withdrawn} USD) accepted"
    )
    return findings


def unhandled_errors(log_file: Path) -> Counter[str]:
    """The API's 500s by the exception's last line, from its JSON log."""
    found: Counter[str] = Counter()
    with suppress(OSError), log_file.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if '"unhandled error"' not in line:
                continue
            with suppress(ValueError):
                trace = json.loads(line).get("exception", "")
                found[(trace.strip().splitlines() or ["?"])[-1][:160]] += 1
    return found


async def view_backlog(redis_url: str) -> int:
    """How many views wait in the Redis buffer (pending, and a batch being stored)."""
    from redis.asyncio import Redis

    from dreamlust.config import Settings
    from dreamlust.views.buffer import ViewBuffer

    prefix = Settings.model_fields["view_buffer_prefix"].default  # the soak keeps it
    redis = Redis.from_url(redis_url)
    try:
        return await ViewBuffer(redis, prefix).backlog()
    finally:
        await redis.aclose()


def store_buffered_views(env: dict[str, str]) -> None:
    """`dreamlust worker --once` until the view buffer is empty: a batch left by a killed
    worker is stored by one run, the views pending behind it by the next."""
    for _ in range(5):
        bench.run_cli([str(bench.DREAMLUST), "worker", "--once"], env, timeout=600)
        left = asyncio.run(view_backlog(env["REDIS_URL"]))
        if not left:
            return
        bench.log(f"{left} views still buffered")


def recount_check(env: dict[str, str]) -> tuple[bool, str]:
    completed = subprocess.run(
        [str(bench.DREAMLUST), "recount", "--check"],
        env=env,
        cwd=bench.ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = (completed.stdout + completed.stderr).strip()
    return completed.returncode == 0, output


# --- The report -----------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def table(run: Run, elapsed: float) -> str:
    header = (
        f"{'operation':<16} {'requests':>9} {'ok':>8} {'refused':>8} {'503':>6} "
        f"{'no answer':>9} {'errors':>6} {'error rate':>10} {'p50 ms':>8} {'p99 ms':>8}"
    )
    lines = [header, "-" * len(header)]
    total = Tally()
    for name in sorted(run.tallies, key=lambda n: -run.tallies[n].requests):
        tally = run.tallies[name]
        total.latencies_ms += tally.latencies_ms
        total.ok += tally.ok
        total.refused += tally.refused
        total.unavailable += tally.unavailable
        total.unavailable_outside_faults += tally.unavailable_outside_faults
        total.unanswered += tally.unanswered
        total.unanswered_by += tally.unanswered_by
        total.errors += tally.errors
        total.error_statuses += tally.error_statuses
        total.refused_statuses += tally.refused_statuses
        lines.append(row(name, tally))
    lines.append("-" * len(header))
    lines.append(row("all", total))
    lines.append(f"{total.requests / elapsed:.0f} requests/s over {elapsed:.0f} s")
    if total.refused:
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(total.refused_statuses.items()))
        lines.append(f"refused by status: {detail}")
    if total.unavailable:
        lines.append(
            f"503: {total.unavailable}, of which {total.unavailable_outside_faults} outside "
            "the faults (and the 10 s after each)"
        )
    if total.unanswered:
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(total.unanswered_by.items()))
        lines.append(f"no answer: {detail}")
    if total.error_statuses:
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(total.error_statuses.items()))
        lines.append(f"errors by status: {detail}")
    return "\n".join(lines)


def row(name: str, tally: Tally) -> str:
    rate = tally.errors / tally.requests if tally.requests else 0.0
    return (
        f"{name:<16} {tally.requests:>9} {tally.ok:>8} {tally.refused:>8} "
        f"{tally.unavailable:>6} {tally.unanswered:>9} {tally.errors:>6} {rate:>10.2%} "
        f"{percentile(tally.latencies_ms, 0.5):>8.1f} {percentile(tally.latencies_ms, 0.99):>8.1f}"
    )


# --- The run --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((bench.HOST, 0))
        return int(sock.getsockname()[1])


async def recreate_database(args: argparse.Namespace) -> None:
    admin = await asyncpg.connect(bench.database_url(args, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{args.db}"')
    finally:
        await admin.close()


async def drop_database(args: argparse.Namespace) -> None:
    admin = await asyncpg.connect(bench.database_url(args, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    finally:
        await admin.close()


def soak_env(args: argparse.Namespace, work: Path, redis_port: int) -> dict[str, str]:
    env = bench.dreamlust_env(args, secrets.token_urlsafe(48))
    env.update(
        REDIS_URL=f"redis://{bench.HOST}:{redis_port}/0",
        DREAMLUST_CACHE_ENABLED="true",
        DREAMLUST_TRUSTED_PROXIES=f'["{bench.HOST}/32"]',
        DREAMLUST_DB_POOL_SIZE=str(args.db_pool_size),
        DREAMLUST_DB_MAX_OVERFLOW="5",
        DREAMLUST_MAIL_DIR=str(work / "mail"),
        DREAMLUST_MEDIA_DIR=str(work / "media"),
        DREAMLUST_UPLOAD_DIR=str(work / "uploads"),
        DREAMLUST_PLATFORM_FEE_BPS=str(PLATFORM_FEE_BPS),
    )
    return env


@contextmanager
def started(
    args: argparse.Namespace, env: dict[str, str], work: Path, redis_port: int
) -> Iterator[Processes]:
    processes = Processes(
        args, env, work, redis_port, bench.Server("api", args.port or free_port())
    )
    try:
        processes.start_redis()
        command = [
            str(bench.DREAMLUST), "serve", "--host", bench.HOST,
            "--port", str(processes.api.port), "--workers", str(args.workers),
        ]  # fmt: skip
        bench.start(processes.api, command, env, work)
        bench.wait_ready(processes.api, "/readyz")
        processes.start_worker()
        bench.log(
            f"API on {processes.api.url} ({args.workers} processes), a worker, "
            f"Redis on port {redis_port}, database {args.db}"
        )
        yield processes
    finally:
        processes.stop_all()
        bench.log("API, worker and Redis stopped")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    bench.add_database_arguments(parser)
    parser.set_defaults(db="dreamlust_soak")
    parser.add_argument("--duration", type=int, default=600, help="seconds of load")
    parser.add_argument("--users", type=int, default=300, help="simulated users")
    parser.add_argument("--no-faults", action="store_true", help="inject no faults")
    parser.add_argument("--keep-db", action="store_true", help="keep the soak database")
    parser.add_argument("--scale", type=int, default=2, help="seed scale (300 content per unit)")
    parser.add_argument("--think", type=float, default=2.0, help="mean pause between steps, s")
    parser.add_argument("--workers", type=int, default=2, help="API processes")
    parser.add_argument("--port", type=int, default=0, help="API port (0: a free one)")
    parser.add_argument("--db-pool-size", type=int, default=8, help="connections per process")
    parser.add_argument("--timeout", type=float, default=60.0, help="request timeout, s")
    parser.add_argument(
        "--log-dir", type=Path, help="keep the processes' logs here (default: a temporary folder)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # `kill` ends this run like Ctrl-C does: through the `finally` blocks that stop everything.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench.log(f"recreating database {args.db}")
    asyncio.run(recreate_database(args))
    try:
        with tempfile.TemporaryDirectory(prefix="dreamlust-soak-") as tmp:
            work = Path(tmp)
            if args.log_dir:
                work = args.log_dir.resolve()
                work.mkdir(parents=True, exist_ok=True)
            redis_port = free_port()
            env = soak_env(args, work, redis_port)
            bench.run_cli([str(bench.DREAMLUST), "db", "upgrade"], env, timeout=600)
            seed = [str(bench.DREAMLUST), "seed", "--scale", str(args.scale)]
            bench.run_cli(seed, env, timeout=args.scale * 60 + 600)
            return soak(args, env, work, redis_port)
    finally:
        if not args.keep_db:
            asyncio.run(drop_database(args))
            bench.log(f"database {args.db} dropped")


def soak(args: argparse.Namespace, env: dict[str, str], work: Path, redis_port: int) -> int:
    url = bench.database_url(args, args.db)
    with started(args, env, work, redis_port) as processes:
        begun = time.time()
        clock = time.monotonic()
        run = asyncio.run(load(args, processes))
        elapsed = time.monotonic() - clock
        bench.log("load stopped; stopping the worker and storing the buffered views")
        bench.stop(processes.worker)
        store_buffered_views(env)
        outages = [f for f in run.faults if f.name == "redis down"]
        writes = asyncio.run(check_writes(url, run, begun, outages, flush_seconds=5))
        ledger = asyncio.run(check_ledger(url, run, begun))
        no_drift, recount_output = recount_check(env)
        crashes = unhandled_errors(work / "api.log")
    print()
    print(
        f"soak: {args.users} users, {args.duration} s, {args.workers} API processes, 1 worker, "
        f"PostgreSQL + private Redis; seed scale {args.scale}; mean think {args.think} s"
    )
    for fault in run.faults:
        offset = fault.started - begun
        lasted = (fault.ended or fault.started) - fault.started
        print(f"fault at {offset:5.0f} s: {fault.name} ({lasted:.0f} s) {fault.detail}".rstrip())
    print(table(run, elapsed))
    for last_line, count in crashes.most_common():
        print(f"500 in the API log ({count}x): {last_line}")
    print()
    findings = Findings()
    findings.check(no_drift, "recount --check: " + ("drift = 0" if no_drift else "DRIFT"))
    if not no_drift:
        findings.lines.extend("      " + line for line in recount_output.splitlines())
    errors = sum(t.errors for t in run.tallies.values())
    findings.check(errors == 0, f"{errors} errors (a 5xx other than 503, an unexpected 4xx)")
    unanswered = sum(t.unanswered for t in run.tallies.values())
    if unanswered:
        findings.note(f"{unanswered} requests without an answer within {args.timeout:.0f} s")
    for part in (writes, ledger, findings):
        print("\n".join(part.lines))
    failed = writes.failed or ledger.failed or findings.failed
    print()
    print(f"accepted writes found: {writes.found} of {writes.expected}")
    print("drift = 0" if no_drift else "DRIFT (see above)")
    print("ledger balanced" if not ledger.failed else "ledger NOT balanced (see above)")
    print(f"{'FAILED' if failed else 'passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    os.chdir(bench.ROOT)
    sys.exit(main())
