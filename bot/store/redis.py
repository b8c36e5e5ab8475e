"""A Redis store: several worker processes share the conversations, their inbox and outbox.

Every step that changes more than one key runs as one Lua script, because Redis runs a script
as a whole with nothing in between: that gives `receive` and `commit` the atomicity the
protocol promises without WATCH/MULTI retry loops.

Key layout ({P} is the prefix, {C} the conversation id). Everything that names a conversation
is one of its own keys or a member of the two index sets, so forgetting it is a fixed list:

    {P}c:{C}:state      string  the state as JSON
    {P}c:{C}:handled    zset    handled event ids, scored by an increasing number (bounded)
    {P}c:{C}:inbox      list    queued event ids, oldest first
    {P}c:{C}:events     hash    queued event id -> {"inbound": ..., "received": ISO time}
    {P}c:{C}:outbox     list    replies as JSON, oldest first
    {P}c:{C}:lock       string  the lock token of the worker handling the conversation
    {P}waiting          set     conversations with queued events or undelivered replies
    {P}updated          zset    conversations with a state, scored by the last change (unix)
    {P}counts:{kind}    hash    JSON [labels..., day] -> n: anonymous, never a conversation id

Redis deletes a list, hash or zset when its last item goes, so a delivered outbox or an emptied
inbox leaves no key behind.

The scripts touch the global sets next to per-conversation keys, so this is for a single Redis
server (or a primary with replicas), not Redis Cluster.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

import redis
import redis.asyncio
from redis.asyncio.lock import Lock
from redis.backoff import NoBackoff
from redis.exceptions import LockError, LockNotOwnedError, RedisError
from redis.retry import Retry

from bot.messages import ConversationId
from bot.stats.model import DailyCount, StatEvent
from bot.store.base import SEEN_PER_CONVERSATION, Event, JsonState, LockLost

log = logging.getLogger(__name__)

#: How long `from_url` waits for a TCP connection before it calls the server unreachable.
CONNECT_TIMEOUT = 5.0
#: How long a command may wait for its answer: a hung server fails a turn instead of the bot.
COMMAND_TIMEOUT = 10.0

# KEYS: handled, inbox, events, waiting. ARGV: event id, stored event JSON, conversation.
_RECEIVE = """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then
    return 0
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[3])
return 1
"""

# KEYS: lock, state, handled, inbox, events, outbox, waiting, updated.
# ARGV: conversation, lock token ('' = not fenced), has state ('1'/'0'), state JSON, now (unix
# time), has event ('1'/'0'), event id, how many handled ids to keep, replies as JSON...
# Returns 0 (and changes nothing) when the lock no longer holds the token, else 1.
_COMMIT = """
if ARGV[2] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[2] then
    return 0
end
if ARGV[6] == '1' then
    redis.call('LREM', KEYS[4], 0, ARGV[7])
    redis.call('HDEL', KEYS[5], ARGV[7])
end
if ARGV[3] == '1' then
    redis.call('SET', KEYS[2], ARGV[4])
    redis.call('ZADD', KEYS[8], ARGV[5], ARGV[1])
    if ARGV[6] == '1' then
        local newest = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
        local seq = 1
        if newest[2] then
            seq = tonumber(newest[2]) + 1
        end
        redis.call('ZADD', KEYS[3], seq, ARGV[7])
        redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[8]) + 1))
    end
else
    redis.call('DEL', KEYS[2], KEYS[3])
    redis.call('ZREM', KEYS[8], ARGV[1])
end
for i = 9, #ARGV do
    redis.call('RPUSH', KEYS[6], ARGV[i])
end
if redis.call('LLEN', KEYS[4]) > 0 or redis.call('LLEN', KEYS[6]) > 0 then
    redis.call('SADD', KEYS[7], ARGV[1])
else
    redis.call('SREM', KEYS[7], ARGV[1])
end
return 1
"""

# KEYS: outbox, inbox, waiting. ARGV: conversation.
_DELIVERED = """
redis.call('LPOP', KEYS[1])
if redis.call('LLEN', KEYS[1]) == 0 and redis.call('LLEN', KEYS[2]) == 0 then
    redis.call('SREM', KEYS[3], ARGV[1])
end
return 1
"""

# KEYS: updated, waiting, state, handled, inbox, events, outbox. ARGV: conversation, cutoff.
# Checks the score again inside the script: a turn committed since the caller looked keeps it.
_FORGET = """
local updated = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not updated or tonumber(updated) >= tonumber(ARGV[2]) then
    return 0
end
if redis.call('EXISTS', KEYS[5]) == 1 then
    return -1  -- the person just wrote again: not idle, whatever the last turn's date
end
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
"""


_FORGET_VISITOR = """
for _, raw in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
    if cjson.decode(raw)[2] == ARGV[1] then
        redis.call('LREM', KEYS[1], 0, raw)
    end
end
return 1
"""

#: A day's hashing secret outlives the day by this much, for turns running at midnight.
DAY_KEY_GRACE = timedelta(minutes=10)


def _now() -> datetime:
    return datetime.now(UTC)


class StoreUnreachable(ConnectionError):
    """The Redis server named by WEGWEISER_STORE did not answer at start."""


def _where(url: str) -> str:
    """host:port (or the socket path) of a Redis URL, for error messages: never the password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


def _unix_time(moment: datetime) -> str:
    return repr(moment.astimezone(UTC).timestamp())


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class RedisStore:
    """Conversations in Redis, shared by any number of worker processes.

    `lock` is a lock in Redis with an expiry: a worker that dies holds a conversation for at
    most `lock_ttl` seconds, and a live one renews its lock in the background for as long as a
    turn takes. `commit` is fenced by the lock's token, so a worker that stalled past the
    expiry (and may have been replaced) cannot overwrite the turn of the one that took over.
    """

    def __init__(self, client: redis.asyncio.Redis, prefix: str = "wegweiser:",
                 lock_ttl: float = 10.0):
        self._client = client
        self._prefix = prefix
        self._lock_ttl = lock_ttl
        #: conversation -> token of the lock this instance holds on it, for fencing commits
        self._tokens: dict[ConversationId, str] = {}
        self._receive = client.register_script(_RECEIVE)
        self._commit = client.register_script(_COMMIT)
        self._delivered = client.register_script(_DELIVERED)
        self._forget = client.register_script(_FORGET)
        self._forget_visitor = client.register_script(_FORGET_VISITOR)

    @classmethod
    def from_url(cls, url: str, **kw: Any) -> RedisStore:
        """A store on the server at `url` (redis://, rediss:// or unix://). `prefix` and
        `lock_ttl` go to the store, every other keyword to redis-py's client.

        The server is asked for a PING right here, once and without retries, so that a wrong
        URL or a server that is down stops the bot at start with a message naming host and
        port, instead of failing the first turn or hanging. The PING blocks (for at most
        CONNECT_TIMEOUT): this runs once, before the event loop starts."""
        store_kw = {name: kw.pop(name) for name in ("prefix", "lock_ttl") if name in kw}
        kw.setdefault("socket_connect_timeout", CONNECT_TIMEOUT)
        kw.setdefault("socket_timeout", COMMAND_TIMEOUT)
        probe = redis.Redis.from_url(url, **{**kw, "socket_timeout": CONNECT_TIMEOUT,
                                             "retry": Retry(NoBackoff(), 0)})
        try:
            probe.ping()
        except RedisError as err:
            raise StoreUnreachable(
                f"cannot reach the Redis store at {_where(url)}: {err}") from err
        finally:
            probe.close()
        client = redis.asyncio.Redis.from_url(url, **{**kw, "decode_responses": True})
        return cls(client, **store_kw)

    def _key(self, conversation: ConversationId, part: str) -> str:
        return f"{self._prefix}c:{conversation}:{part}"

    @property
    def _waiting(self) -> str:
        return f"{self._prefix}waiting"

    @property
    def _updated(self) -> str:
        return f"{self._prefix}updated"

    async def receive(self, conversation: ConversationId, event_id: str, inbound: JsonState,
                      now: datetime) -> bool:
        stored = _json({"inbound": inbound, "received": now.astimezone(UTC).isoformat()})
        keys = [self._key(conversation, "handled"), self._key(conversation, "inbox"),
                self._key(conversation, "events"), self._waiting]
        return bool(await self._receive(keys=keys, args=[event_id, stored, conversation]))

    async def pending(self, conversation: ConversationId) -> list[Event]:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.lrange(self._key(conversation, "inbox"), 0, -1)
            pipe.hgetall(self._key(conversation, "events"))
            ids, events = await pipe.execute()
        pending: list[Event] = []
        for event_id in ids:
            stored = json.loads(events[event_id])
            pending.append(Event(event_id, stored["inbound"],
                                 datetime.fromisoformat(stored["received"])))
        return pending

    async def load(self, conversation: ConversationId) -> JsonState | None:
        state = await self._client.get(self._key(conversation, "state"))
        return json.loads(state) if state is not None else None

    async def commit(self, conversation: ConversationId, state: JsonState | None,
                     event_id: str | None, replies: Sequence[JsonState],
                     now: datetime) -> None:
        """See `Store.commit`. With state None the event leaves the inbox but is not kept as
        handled: a handled-ids key would be something about the person left behind."""
        keys = [self._key(conversation, part)
                for part in ("lock", "state", "handled", "inbox", "events", "outbox")]
        keys += [self._waiting, self._updated]
        args = [conversation, self._tokens.get(conversation, ""),
                "0" if state is None else "1", "" if state is None else _json(state),
                _unix_time(now), "0" if event_id is None else "1", event_id or "",
                SEEN_PER_CONVERSATION, *(_json(reply) for reply in replies)]
        if not await self._commit(keys=keys, args=args):
            raise LockLost("the conversation lock expired before the commit")

    async def outbox(self, conversation: ConversationId) -> list[JsonState]:
        return [json.loads(reply)
                for reply in await self._client.lrange(self._key(conversation, "outbox"), 0, -1)]

    async def delivered(self, conversation: ConversationId) -> None:
        keys = [self._key(conversation, "outbox"), self._key(conversation, "inbox"),
                self._waiting]
        await self._delivered(keys=keys, args=[conversation])

    async def waiting(self) -> list[ConversationId]:
        return sorted(ConversationId(c) for c in await self._client.smembers(self._waiting))

    def lock(self, conversation: ConversationId) -> AbstractAsyncContextManager[bool]:
        return self._hold(conversation)

    @asynccontextmanager
    async def _hold(self, conversation: ConversationId) -> AsyncIterator[bool]:
        token = uuid.uuid4().hex
        lock = self._client.lock(self._key(conversation, "lock"), timeout=self._lock_ttl,
                                 blocking=False, thread_local=False)
        if not await lock.acquire(token=token):
            yield False
            return
        self._tokens[conversation] = token
        done = asyncio.Event()
        renewing = asyncio.create_task(self._renew(lock, done))
        try:
            yield True
        finally:
            # told to stop rather than cancelled: a command cancelled half-way can leave
            # redis-py's connection in a state where the cancellation is lost
            done.set()
            await renewing
            self._tokens.pop(conversation, None)
            try:
                await lock.release()
            except LockError:
                # The conversation id stays out of the log: it names a person.
                log.warning("a conversation lock had expired before its turn ended; another "
                            "worker may have taken the conversation over")

    async def _renew(self, lock: Lock, done: asyncio.Event) -> None:
        """Keep the lock for as long as the turn runs (a Telegram flood wait can take
        minutes); stop once it is lost, since `commit` will refuse the turn then anyway."""
        while True:
            try:
                await asyncio.wait_for(done.wait(), self._lock_ttl / 3)
                return
            except TimeoutError:
                pass
            try:
                await lock.reacquire()
            except LockNotOwnedError:
                log.warning("a conversation lock expired during a turn; its commit will be "
                            "refused")
                return
            except RedisError as err:  # a network blip: the lock may still be ours
                # the type only: a Redis error's text may name the key, and so the person
                log.warning("could not renew a conversation lock, trying again (%s)",
                            type(err).__name__)

    async def forget_idle(self, before: datetime) -> int:
        cutoff = _unix_time(before)
        forgotten = skipped = 0
        while True:
            # Each round's conversations leave the index (or were changed since, and so are
            # no longer older than the cutoff), so the next round reads the next ones; those
            # with a message waiting stay, and are stepped over.
            idle = await self._client.zrangebyscore(self._updated, "-inf", f"({cutoff}",
                                                    start=skipped, num=500)
            if not idle:
                return forgotten
            for conversation in idle:
                keys = [self._updated, self._waiting]
                keys += [self._key(conversation, part)
                         for part in ("state", "handled", "inbox", "events", "outbox")]
                result = await self._forget(keys=keys, args=[conversation, cutoff])
                forgotten += max(result, 0)
                skipped += result < 0

    # -- statistics: a list of raw events and a hash of kept counts per day, a set of days

    def _stats_key(self, part: str, day: date | str) -> str:
        return f"{self._prefix}stats:{part}:{day}"

    async def _days(self, part: str, first: date, last: date) -> list[str]:
        days = await self._client.smembers(f"{self._prefix}stats:{part}-days")
        return sorted(d for d in days if first.isoformat() <= d <= last.isoformat())

    async def record(self, events: Sequence[StatEvent]) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            for e in events:
                pipe.rpush(self._stats_key("events", e.day),
                           _json([e.kind, e.visitor, [list(pair) for pair in e.labels]]))
                pipe.sadd(f"{self._prefix}stats:events-days", e.day.isoformat())
            await pipe.execute()

    async def stat_events(self, first: date, last: date) -> list[StatEvent]:
        found: list[StatEvent] = []
        for day in await self._days("events", first, last):
            for raw in await self._client.lrange(self._stats_key("events", day), 0, -1):
                kind, visitor, labels = json.loads(raw)
                found.append(StatEvent(date.fromisoformat(day), kind, visitor,
                                       tuple((str(n), str(v)) for n, v in labels)))
        return found

    async def forget_visitor(self, day: date, visitor: str) -> None:
        await self._forget_visitor(keys=[self._stats_key("events", day)], args=[visitor])

    async def forget_stat_events(self, before: date) -> int:
        forgotten = 0
        for day in await self._days("events", date.min, before - timedelta(days=1)):
            key = self._stats_key("events", day)
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.llen(key).delete(key).srem(f"{self._prefix}stats:events-days", day)
                forgotten += (await pipe.execute())[0]
        return forgotten

    async def keep_counts(self, counts: Sequence[DailyCount]) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            for c in counts:
                pipe.hset(self._stats_key("kept", c.day),
                          _json([c.kind, [list(pair) for pair in c.labels]]),
                          _json([c.events, c.visitors]))
                pipe.sadd(f"{self._prefix}stats:kept-days", c.day.isoformat())
            await pipe.execute()

    async def kept_counts(self, first: date, last: date) -> list[DailyCount]:
        found: list[DailyCount] = []
        for day in await self._days("kept", first, last):
            for field, value in (await self._client.hgetall(
                    self._stats_key("kept", day))).items():
                (kind, labels), (events, visitors) = json.loads(field), json.loads(value)
                found.append(DailyCount(date.fromisoformat(day), kind,
                                        tuple((str(n), str(v)) for n, v in labels),
                                        int(events), int(visitors)))
        return found

    async def day_key(self, day: date) -> bytes:
        """Made with SET NX, so every worker gets the same; Redis destroys it a few minutes
        after the day ends (turns still running at midnight may use it)."""
        key = self._stats_key("key", day)
        ends = datetime.combine(day + timedelta(days=1), time(), UTC) + DAY_KEY_GRACE
        made = secrets.token_hex(32)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(*(self._stats_key("key", day - timedelta(days=n)) for n in (1, 2)))
            pipe.set(key, made, nx=True,
                     exat=max(int(ends.timestamp()), int(_now().timestamp()) + 1))
            pipe.get(key)
            *_, kept = await pipe.execute()
        return bytes.fromhex(kept or made)

    async def ping(self) -> None:
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()
