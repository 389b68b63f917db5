"""The asyncio client: same calls as :class:`facerpc.Client`, as coroutines."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from typing import AsyncIterator, Callable, Generic, List, Optional, Sequence, Tuple, TypeVar

from . import _api, types
from ._wire import (
    DEFAULT_MAX_FRAME_BYTES,
    DEFAULT_TIMEOUT_SECONDS,
    HEADER,
    LOCAL_DEADLINE_GRACE_SECONDS,
    MAX_DEADLINE_SECONDS,
    Methods,
    Target,
    TargetLike,
    check_frame_length,
    check_timeout,
    decode_response,
    encode_cancel,
    encode_request,
    parse_target,
    status_error,
)
from .errors import RpcError, StatusCode

__all__ = ["Client", "Stream"]

T = TypeVar("T")


class _Connection:
    """One stream pair and a reader task routing frames by call id."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: Target, max_frame_bytes: int) -> None:
        self._reader = reader
        self._writer = writer
        self._target = target
        self._max = max_frame_bytes
        self._pending: dict[int, asyncio.Queue] = {}
        self._error: Optional[RpcError] = None
        self._goaway: Optional[RpcError] = None
        self._ids = itertools.count(1)
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @property
    def alive(self) -> bool:
        return self._error is None and self._goaway is None

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    async def start(self, method: str, payload: bytes, timeout: Optional[float], metadata: Sequence[Tuple[str, str]]):
        if self._error is not None:
            raise self._error
        call_id = next(self._ids)
        frame = encode_request(call_id, method, payload, timeout, metadata, self._max)
        q: asyncio.Queue = asyncio.Queue()
        self._pending[call_id] = q
        try:
            # write() queues the whole frame at once, so frames of concurrent
            # calls never interleave; drain() applies the socket's back-pressure.
            self._writer.write(frame)
            await self._writer.drain()
        except (OSError, RuntimeError):
            # As in the sync client: the reader task fails this call with the
            # reason the server gave on call 0, or UNAVAILABLE.
            pass
        return call_id, q

    def cancel(self, call_id: int) -> None:
        if self._pending.pop(call_id, None) is not None and self._error is None:
            try:
                self._writer.write(encode_cancel(call_id))
            except (OSError, RuntimeError):
                pass  # the connection is going anyway

    async def close(self) -> None:
        self._fail(RpcError(StatusCode.CANCELLED, "client closed"))
        self._writer.close()
        self._task.cancel()
        try:
            await self._task
        except (asyncio.CancelledError, Exception):
            pass
        try:
            await self._writer.wait_closed()
        except (OSError, RuntimeError):
            pass

    def _fail(self, error: RpcError) -> None:
        if self._error is None:
            self._error = error
        pending, self._pending = self._pending, {}
        for q in pending.values():
            q.put_nowait(error)

    async def _read_loop(self) -> None:
        try:
            while True:
                header = await self._reader.readexactly(4)
                (length,) = HEADER.unpack(header)
                check_frame_length(length, self._max)
                body = await self._reader.readexactly(length) if length else b""
                env = decode_response(body)
                if env.call_id == 0:
                    err = status_error(env)
                    if err is not None and err.code != StatusCode.INVALID_ARGUMENT:
                        self._goaway = err
                    continue
                q = self._pending.get(env.call_id)
                if q is not None:
                    if env.end_of_stream:
                        del self._pending[env.call_id]
                    q.put_nowait(env)
        except asyncio.IncompleteReadError:
            self._fail(self._goaway or RpcError(StatusCode.UNAVAILABLE, f"connection to {self._target} closed by the server"))
        except RpcError as exc:
            self._fail(exc)
        except OSError as exc:
            self._fail(self._goaway or RpcError(StatusCode.UNAVAILABLE, f"connection to {self._target} lost: {exc}"))
        finally:
            self._writer.close()


async def _wait(q: asyncio.Queue, deadline: Optional[float]):
    if deadline is None:
        item = await q.get()
    else:
        remaining = deadline - time.monotonic() + LOCAL_DEADLINE_GRACE_SECONDS
        try:
            item = await asyncio.wait_for(q.get(), max(0.0, remaining))
        except asyncio.TimeoutError:
            return None
    if isinstance(item, RpcError):
        raise RpcError(item.code, item.message)
    return item


class Stream(Generic[T]):
    """A server-streaming call as an async iterator; :meth:`aclose` (or leaving
    ``async with``) cancels it on the server if it is still running."""

    def __init__(self, conn: _Connection, call_id: int, q: asyncio.Queue, parse: Callable[[bytes], T], deadline: Optional[float], timeout: Optional[float]) -> None:
        self._conn = conn
        self._call_id = call_id
        self._q = q
        self._parse = parse
        self._deadline = deadline
        self._timeout = timeout
        self._done = False

    def __aiter__(self) -> "Stream[T]":
        return self

    async def __anext__(self) -> T:
        if self._done:
            raise StopAsyncIteration
        try:
            env = await _wait(self._q, self._deadline)
        except RpcError:
            self._done = True
            raise
        except BaseException:  # the awaiting task was cancelled
            await self.aclose()
            raise
        if env is None:
            await self.aclose()
            raise RpcError(StatusCode.DEADLINE_EXCEEDED, f"stream deadline of {self._timeout}s passed (client-side)")
        if env.end_of_stream:
            self._done = True
            err = status_error(env)
            if err is not None:
                raise err
            raise StopAsyncIteration
        return self._parse(env.payload)

    async def aclose(self) -> None:
        if not self._done:
            self._done = True
            self._conn.cancel(self._call_id)

    async def __aenter__(self) -> "Stream[T]":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()


class Client:
    """The asyncio twin of :class:`facerpc.Client`; use it from one event loop.

    Concurrent calls (``asyncio.gather``) are pipelined on one connection.
    Cancelling the awaiting task cancels the call on the server.
    """

    def __init__(
        self,
        target: TargetLike = None,
        *,
        default_timeout: float = DEFAULT_TIMEOUT_SECONDS,
        connect_timeout: float = 5.0,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        metadata: Sequence[Tuple[str, str]] = (),
    ) -> None:
        self.target = parse_target(target)
        self._default_timeout = check_timeout(default_timeout, None)
        self._connect_timeout = connect_timeout
        if not 0 < max_frame_bytes <= 0xFFFFFFFF:
            raise ValueError("max_frame_bytes must be in 1...2^32-1")
        self._max_frame_bytes = max_frame_bytes
        self._metadata = tuple(metadata)
        self._lock: Optional[asyncio.Lock] = None
        self._conn: Optional[_Connection] = None
        self._closed = False
        self.connections_opened = 0

    async def _connection(self, deadline: Optional[float]) -> _Connection:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._closed:
                raise RpcError(StatusCode.CANCELLED, "client is closed")
            if self._conn is not None and self._conn.alive:
                return self._conn
            if self._conn is not None:
                old, self._conn = self._conn, None
                if old.in_flight == 0:
                    await old.close()
            budget = self._connect_timeout
            if deadline is not None:
                budget = min(budget, max(0.001, deadline - time.monotonic()))
            t = self.target
            try:
                if t.kind == "unix":
                    opening = asyncio.open_unix_connection(t.path)
                else:
                    opening = asyncio.open_connection(t.host, t.port)
                reader, writer = await asyncio.wait_for(opening, budget)
            except asyncio.TimeoutError:
                raise RpcError(StatusCode.UNAVAILABLE, f"cannot connect to {t}: timed out") from None
            except OSError as exc:
                raise RpcError(StatusCode.UNAVAILABLE, f"cannot connect to {t}: {exc.strerror or exc}") from None
            if t.kind == "tcp":
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = _Connection(reader, writer, t, self._max_frame_bytes)
            self.connections_opened += 1
            return self._conn

    async def close(self) -> None:
        """Closes the connection; calls in flight fail with CANCELLED."""
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def call_unary(self, method: str, request: bytes, *, timeout: Optional[float] = None) -> bytes:
        """Calls ``method`` with an encoded request; returns the encoded response."""
        timeout = check_timeout(timeout, self._default_timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        conn = await self._connection(deadline)
        call_id, q = await conn.start(method, request, timeout, self._metadata)
        try:
            env = await _wait(q, deadline)
        except RpcError:
            raise
        except BaseException:  # cancelled: stop the server's work too
            conn.cancel(call_id)
            raise
        if env is None:
            conn.cancel(call_id)
            raise RpcError(StatusCode.DEADLINE_EXCEEDED, f"no answer within {timeout}s (client-side deadline)")
        err = status_error(env)
        if err is not None:
            raise err
        return env.payload

    async def call_stream(self, method: str, request: bytes, *, timeout: Optional[float] = None) -> "Stream[bytes]":
        return await self._stream(method, request, lambda b: b, timeout)

    async def _stream(self, method: str, request: bytes, parse: Callable[[bytes], T], timeout: Optional[float]) -> "Stream[T]":
        timeout = check_timeout(timeout, MAX_DEADLINE_SECONDS)
        deadline = None if timeout is None else time.monotonic() + timeout
        conn = await self._connection(deadline)
        call_id, q = await conn.start(method, request, timeout, self._metadata)
        return Stream(conn, call_id, q, parse, deadline, timeout)

    async def predict(
        self,
        image: _api.ImageLike,
        *,
        age_model: Optional[str] = None,
        gender_model: Optional[str] = None,
        face_crop: bool = False,
        min_face_size: Optional[float] = None,
        score_threshold: Optional[float] = None,
        include_distributions: bool = False,
        max_faces: Optional[int] = None,
        timeout: Optional[float] = None,
    ) -> types.PredictResult:
        """See :meth:`facerpc.Client.predict`."""
        jpeg = _api.load_image(image, self._max_frame_bytes)
        request = _api.predict_request(
            jpeg,
            age_model=age_model,
            gender_model=gender_model,
            face_crop=face_crop,
            min_face_size=min_face_size,
            score_threshold=score_threshold,
            include_distributions=include_distributions,
            max_faces=max_faces,
        )
        return _api.parse_predict(await self.call_unary(Methods.PREDICT, request, timeout=timeout))

    async def health(self, service: str = "", *, timeout: Optional[float] = None) -> str:
        """"SERVING", "NOT_SERVING" or "SERVICE_UNKNOWN"."""
        try:
            payload = await self.call_unary(Methods.HEALTH_CHECK, _api.health_request(service), timeout=timeout)
        except RpcError as exc:
            if exc.code == StatusCode.NOT_FOUND:
                return "SERVICE_UNKNOWN"
            raise
        return _api.parse_health(payload)

    async def watch_health(self, service: str = "", *, timeout: Optional[float] = None) -> "Stream[str]":
        return await self._stream(Methods.HEALTH_WATCH, _api.health_request(service), _api.parse_health, timeout)

    async def models(self, *, timeout: Optional[float] = None) -> List[types.ModelInfo]:
        return _api.parse_models(await self.call_unary(Methods.LIST_MODELS, b"", timeout=timeout))

    async def train(self, *, timeout: Optional[float] = None, **fields) -> types.TrainStatus:
        return _api.parse_train_status(await self.call_unary(Methods.TRAIN_START, _api.train_request(**fields), timeout=timeout))

    async def train_status(self, job: str = "", *, timeout: Optional[float] = None) -> types.TrainStatus:
        return _api.parse_train_status(await self.call_unary(Methods.TRAIN_STATUS, _api.job_request(job), timeout=timeout))

    async def cancel(self, job: str, *, timeout: Optional[float] = None) -> types.TrainStatus:
        return _api.parse_train_status(await self.call_unary(Methods.TRAIN_CANCEL, _api.job_request(job), timeout=timeout))

    async def train_report(self, job: str, *, timeout: Optional[float] = None) -> types.TrainReport:
        return _api.parse_train_report(await self.call_unary(Methods.TRAIN_REPORT, _api.job_request(job), timeout=timeout))

    async def watch_training(self, job: str = "", *, timeout: Optional[float] = None) -> "Stream[types.TrainStatus]":
        return await self._stream(Methods.TRAIN_WATCH, _api.job_request(job), _api.parse_train_status, timeout)

    async def sleep(self, millis: int, echo: bytes = b"", *, timeout: Optional[float] = None) -> bytes:
        return _api.parse_sleep(await self.call_unary(Methods.DEBUG_SLEEP, _api.sleep_request(millis, echo), timeout=timeout))
