"""The synchronous client: one connection, calls pipelined from any thread."""

from __future__ import annotations

import itertools
import queue
import socket
import threading
import time
from typing import Callable, Generic, Iterator, List, Optional, Sequence, Tuple, TypeVar, Union

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
_Item = Union["object", RpcError]


def _open_socket(target: Target, timeout: float) -> socket.socket:
    try:
        if target.kind == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect(target.path)
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection((target.host, target.port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except socket.timeout:
        raise RpcError(StatusCode.UNAVAILABLE, f"cannot connect to {target}: timed out") from None
    except OSError as exc:
        raise RpcError(StatusCode.UNAVAILABLE, f"cannot connect to {target}: {exc.strerror or exc}") from None
    sock.settimeout(None)
    return sock


class _Connection:
    """One socket, a reader thread routing frames to the calls in flight by id."""

    def __init__(self, sock: socket.socket, target: Target, max_frame_bytes: int) -> None:
        self._sock = sock
        self._target = target
        self._max = max_frame_bytes
        self._send_lock = threading.Lock()
        # Guards _pending, _error and _ids: the reader thread and callers share them.
        self._lock = threading.Lock()
        self._pending: dict[int, "queue.SimpleQueue[_Item]"] = {}
        self._error: Optional[RpcError] = None
        self._goaway: Optional[RpcError] = None
        self._ids = itertools.count(1)
        self._reader = threading.Thread(target=self._read_loop, name=f"facerpc-reader {target}", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        with self._lock:
            return self._error is None and self._goaway is None

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._pending)

    def start(self, method: str, payload: bytes, timeout: Optional[float], metadata: Sequence[Tuple[str, str]]):
        with self._lock:
            if self._error is not None:
                raise self._error
            call_id = next(self._ids)
            frame = encode_request(call_id, method, payload, timeout, metadata, self._max)
            q: "queue.SimpleQueue[_Item]" = queue.SimpleQueue()
            self._pending[call_id] = q
        try:
            with self._send_lock:
                self._sock.sendall(frame)
        except OSError:
            # The server may have closed the connection for a reason it sent on
            # call 0 (e.g. this frame was over its limit); the reader thread
            # reads that and fails this call with it, so the call stays pending.
            self._shutdown(socket.SHUT_WR)
        return call_id, q

    def forget(self, call_id: int) -> bool:
        """Drops a call; True when it was still in flight."""
        with self._lock:
            return self._pending.pop(call_id, None) is not None

    def cancel(self, call_id: int) -> None:
        """Tells the server to stop a call the caller no longer waits for."""
        if self.forget(call_id):
            try:
                with self._send_lock:
                    self._sock.sendall(encode_cancel(call_id))
            except OSError:
                pass  # the connection is going anyway; nothing left to cancel

    def close(self) -> None:
        self._fail(RpcError(StatusCode.CANCELLED, "client closed"))
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=5)
        self._sock.close()

    def _fail(self, error: RpcError) -> None:
        with self._lock:
            if self._error is None:
                self._error = error
            pending, self._pending = self._pending, {}
        for q in pending.values():
            q.put(error)

    def _recv_exact(self, n: int) -> Optional[bytes]:
        buf = bytearray()
        while len(buf) < n:
            chunk = self._sock.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def _read_loop(self) -> None:
        try:
            while True:
                header = self._recv_exact(4)
                if header is None:
                    break
                (length,) = HEADER.unpack(header)
                check_frame_length(length, self._max)
                body = self._recv_exact(length) if length else b""
                if body is None:
                    break
                env = decode_response(body)
                if env.call_id == 0:
                    err = status_error(env)
                    # INVALID_ARGUMENT on call 0 leaves the connection usable;
                    # any other code announces that the server is closing it.
                    if err is not None and err.code != StatusCode.INVALID_ARGUMENT:
                        with self._lock:
                            self._goaway = err
                    continue
                with self._lock:
                    q = self._pending.get(env.call_id)
                    if q is not None and env.end_of_stream:
                        del self._pending[env.call_id]
                if q is not None:
                    q.put(env)
            with self._lock:
                goaway = self._goaway
            self._fail(goaway or RpcError(StatusCode.UNAVAILABLE, f"connection to {self._target} closed by the server"))
        except RpcError as exc:
            self._fail(exc)
            self._shutdown()
        except OSError as exc:
            with self._lock:
                goaway = self._goaway
            self._fail(goaway or RpcError(StatusCode.UNAVAILABLE, f"connection to {self._target} lost: {exc}"))
        finally:
            self._sock.close()

    def _shutdown(self, how: int = socket.SHUT_RDWR) -> None:
        try:
            self._sock.shutdown(how)
        except OSError:
            pass


def _wait(q: "queue.SimpleQueue[_Item]", deadline: Optional[float]):
    if deadline is None:
        item = q.get()
    else:
        remaining = deadline - time.monotonic() + LOCAL_DEADLINE_GRACE_SECONDS
        try:
            item = q.get(timeout=max(0.0, remaining))
        except queue.Empty:
            return None
    if isinstance(item, RpcError):
        raise RpcError(item.code, item.message)
    return item


class Stream(Generic[T]):
    """The messages of a server-streaming call, as an iterator.

    Iteration ends when the server ends the stream with OK; any other end raises
    :class:`RpcError`. :meth:`close` (or leaving a ``with`` block, or garbage
    collection) cancels the call on the server if it is still running.
    """

    def __init__(self, conn: _Connection, call_id: int, q, parse: Callable[[bytes], T], deadline: Optional[float], timeout: Optional[float]) -> None:
        self._conn = conn
        self._call_id = call_id
        self._q = q
        self._parse = parse
        self._deadline = deadline
        self._timeout = timeout
        self._done = False

    def __iter__(self) -> "Stream[T]":
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        try:
            env = _wait(self._q, self._deadline)
        except RpcError:
            self._done = True
            raise
        if env is None:
            self.close()
            raise RpcError(StatusCode.DEADLINE_EXCEEDED, f"stream deadline of {self._timeout}s passed (client-side)")
        if env.end_of_stream:
            self._done = True
            err = status_error(env)
            if err is not None:
                raise err
            raise StopIteration
        return self._parse(env.payload)

    def close(self) -> None:
        """Cancels the call if it has not ended; safe to call more than once."""
        if not self._done:
            self._done = True
            self._conn.cancel(self._call_id)

    def __enter__(self) -> "Stream[T]":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


class Client:
    """A facerpc client over one reused connection.

    ``target`` is a Unix socket path, ``"unix:PATH"``, ``"HOST:PORT"`` or
    ``"tcp:HOST:PORT"``; None means the server's default socket. The connection
    opens on the first call and reopens on the next call after it is lost.
    Every method is thread-safe: calls from many threads are pipelined on the
    one connection and answered in any order.

    Every call has a deadline: ``timeout`` seconds (default ``default_timeout``,
    30 s; streams default to the server's 1 h limit). It is sent to the server
    and also enforced locally, so a call never waits much longer than its
    deadline even if the server is gone. Failures raise :class:`RpcError`.
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
        self._lock = threading.Lock()
        self._conn: Optional[_Connection] = None
        self._closed = False
        #: How many connections this client has opened (1 while nothing was lost).
        self.connections_opened = 0

    # -- connection ---------------------------------------------------------

    def _connection(self, deadline: Optional[float]) -> _Connection:
        with self._lock:
            if self._closed:
                raise RpcError(StatusCode.CANCELLED, "client is closed")
            if self._conn is not None and self._conn.alive:
                return self._conn
            if self._conn is not None:
                old, self._conn = self._conn, None
                # A connection the server announced it is closing keeps its calls
                # in flight until they end; its reader closes the socket then.
                if old.in_flight == 0:
                    old.close()
            budget = self._connect_timeout
            if deadline is not None:
                budget = min(budget, max(0.001, deadline - time.monotonic()))
            sock = _open_socket(self.target, budget)
            self._conn = _Connection(sock, self.target, self._max_frame_bytes)
            self.connections_opened += 1
            return self._conn

    def close(self) -> None:
        """Closes the connection; calls in flight fail with CANCELLED."""
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- generic calls ------------------------------------------------------

    def call_unary(self, method: str, request: bytes, *, timeout: Optional[float] = None) -> bytes:
        """Calls ``method`` with an encoded request; returns the encoded response."""
        timeout = check_timeout(timeout, self._default_timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        conn = self._connection(deadline)
        call_id, q = conn.start(method, request, timeout, self._metadata)
        finished = False
        try:
            env = _wait(q, deadline)
            finished = True
        finally:
            if not finished:  # interrupted (e.g. KeyboardInterrupt): stop the server's work
                conn.cancel(call_id)
        if env is None:
            conn.cancel(call_id)
            raise RpcError(StatusCode.DEADLINE_EXCEEDED, f"no answer within {timeout}s (client-side deadline)")
        err = status_error(env)
        if err is not None:
            raise err
        return env.payload

    def call_stream(self, method: str, request: bytes, *, timeout: Optional[float] = None) -> "Stream[bytes]":
        """Starts a server-streaming call; yields encoded response messages."""
        return self._stream(method, request, lambda b: b, timeout)

    def _stream(self, method: str, request: bytes, parse: Callable[[bytes], T], timeout: Optional[float]) -> "Stream[T]":
        timeout = check_timeout(timeout, MAX_DEADLINE_SECONDS)
        deadline = None if timeout is None else time.monotonic() + timeout
        conn = self._connection(deadline)
        call_id, q = conn.start(method, request, timeout, self._metadata)
        return Stream(conn, call_id, q, parse, deadline, timeout)

    # -- facerpc.v1 ---------------------------------------------------------

    def predict(
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
        """Ages and genders of the faces in a JPEG (bytes, or a file path).

        ``face_crop`` says the image is one face already; ``min_face_size`` is in
        pixels, ``score_threshold`` in [0, 1]; None/0 take the server's defaults.
        """
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
        return _api.parse_predict(self.call_unary(Methods.PREDICT, request, timeout=timeout))

    def health(self, service: str = "", *, timeout: Optional[float] = None) -> str:
        """"SERVING", "NOT_SERVING" or "SERVICE_UNKNOWN" (for an unknown name)."""
        try:
            payload = self.call_unary(Methods.HEALTH_CHECK, _api.health_request(service), timeout=timeout)
        except RpcError as exc:
            if exc.code == StatusCode.NOT_FOUND:
                return "SERVICE_UNKNOWN"
            raise
        return _api.parse_health(payload)

    def watch_health(self, service: str = "", *, timeout: Optional[float] = None) -> "Stream[str]":
        """The current health status at once, then each change."""
        return self._stream(Methods.HEALTH_WATCH, _api.health_request(service), _api.parse_health, timeout)

    def models(self, *, timeout: Optional[float] = None) -> List[types.ModelInfo]:
        """Every model the server knows, with its state."""
        return _api.parse_models(self.call_unary(Methods.LIST_MODELS, b"", timeout=timeout))

    def train(self, *, timeout: Optional[float] = None, **fields) -> types.TrainStatus:
        """Starts a training job; keyword arguments are TrainRequest's fields."""
        return _api.parse_train_status(self.call_unary(Methods.TRAIN_START, _api.train_request(**fields), timeout=timeout))

    def train_status(self, job: str = "", *, timeout: Optional[float] = None) -> types.TrainStatus:
        """Status of job ``job`` ("" = the newest)."""
        return _api.parse_train_status(self.call_unary(Methods.TRAIN_STATUS, _api.job_request(job), timeout=timeout))

    def cancel(self, job: str, *, timeout: Optional[float] = None) -> types.TrainStatus:
        """Cancels a training job; returns its status."""
        return _api.parse_train_status(self.call_unary(Methods.TRAIN_CANCEL, _api.job_request(job), timeout=timeout))

    def train_report(self, job: str, *, timeout: Optional[float] = None) -> types.TrainReport:
        """The evaluation of a finished job (FAILED_PRECONDITION before it has one)."""
        return _api.parse_train_report(self.call_unary(Methods.TRAIN_REPORT, _api.job_request(job), timeout=timeout))

    def watch_training(self, job: str = "", *, timeout: Optional[float] = None) -> "Stream[types.TrainStatus]":
        """Each status update of a training job until it finishes."""
        return self._stream(Methods.TRAIN_WATCH, _api.job_request(job), _api.parse_train_status, timeout)

    def sleep(self, millis: int, echo: bytes = b"", *, timeout: Optional[float] = None) -> bytes:
        """Debug/Sleep (servers run with --enable-debug-service): returns ``echo``."""
        return _api.parse_sleep(self.call_unary(Methods.DEBUG_SLEEP, _api.sleep_request(millis, echo), timeout=timeout))
