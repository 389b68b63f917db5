"""Framing and envelopes of the facerpc wire protocol (docs/PROTOCOL.md).

A frame is a 4-byte big-endian body length followed by one encoded envelope.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

from ._proto import rpc_pb2
from .errors import RpcError, StatusCode

#: The server's default frame limit, and so the client's default for both directions.
DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024
#: The longest deadline the server honours; longer ones are clamped to it.
MAX_DEADLINE_SECONDS = 3600.0
#: Default deadline of a unary call, in seconds.
DEFAULT_TIMEOUT_SECONDS = 30.0
#: The client gives up this long after its deadline when the server has not
#: answered, so that the server's own DEADLINE_EXCEEDED normally arrives first.
LOCAL_DEADLINE_GRACE_SECONDS = 0.25

HEADER = struct.Struct(">I")


class Methods:
    """Full method paths, as carried in ``RequestEnvelope.method``."""

    HEALTH_CHECK = "/facerpc.v1.Health/Check"
    HEALTH_WATCH = "/facerpc.v1.Health/Watch"
    LIST_MODELS = "/facerpc.v1.Models/List"
    PREDICT = "/facerpc.v1.Predictor/Predict"
    TRAIN_START = "/facerpc.v1.Training/Start"
    TRAIN_STATUS = "/facerpc.v1.Training/GetStatus"
    TRAIN_WATCH = "/facerpc.v1.Training/Watch"
    TRAIN_CANCEL = "/facerpc.v1.Training/Cancel"
    TRAIN_REPORT = "/facerpc.v1.Training/GetReport"
    DEBUG_SLEEP = "/facerpc.v1.Debug/Sleep"


def default_unix_path() -> str:
    """The server's default socket: ``$XDG_RUNTIME_DIR/facerpc/facerpc.sock``,
    or ``/tmp/facerpc-<uid>/facerpc.sock`` when XDG_RUNTIME_DIR is unset."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "facerpc", "facerpc.sock")
    return f"/tmp/facerpc-{os.getuid()}/facerpc.sock"


@dataclass(frozen=True)
class Target:
    """Where to connect: ``kind`` is "unix" (``path``) or "tcp" (``host``, ``port``)."""

    kind: str
    path: str = ""
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        return f"unix:{self.path}" if self.kind == "unix" else f"tcp:{self.host}:{self.port}"


TargetLike = Union[str, "os.PathLike[str]", Target, None]


def parse_target(target: TargetLike) -> Target:
    """Accepts ``None`` (the default socket), ``"unix:PATH"``, ``"tcp:HOST:PORT"``,
    ``"HOST:PORT"`` (TCP; ``[v6]:PORT`` for IPv6) or a filesystem path (anything
    with a "/", or a path-like object)."""
    if target is None:
        return Target("unix", path=default_unix_path())
    if isinstance(target, Target):
        return target
    if not isinstance(target, str):
        return Target("unix", path=os.fspath(target))
    if target.startswith("unix:"):
        return Target("unix", path=target[5:])
    if target.startswith("tcp:"):
        return _parse_hostport(target[4:])
    if "/" in target or ":" not in target:
        return Target("unix", path=target)
    return _parse_hostport(target)


def _parse_hostport(text: str) -> Target:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not a HOST:PORT address: {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return Target("tcp", host=host, port=int(port))


def timeout_micros(timeout: Optional[float]) -> int:
    """Seconds to the envelope's ``timeout_micros`` (clamped to the server's 1 h)."""
    if timeout is None:
        return 0
    return max(1, int(min(timeout, MAX_DEADLINE_SECONDS) * 1_000_000))


def check_timeout(timeout: Optional[float], default: Optional[float]) -> Optional[float]:
    value = default if timeout is None else timeout
    if value is not None and not value > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {value!r}")
    return value


def encode_request(
    call_id: int,
    method: str,
    payload: bytes,
    timeout: Optional[float],
    metadata: Sequence[Tuple[str, str]] = (),
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
) -> bytes:
    """One framed RequestEnvelope. Raises RESOURCE_EXHAUSTED when the frame would
    exceed ``max_frame_bytes`` (the server would refuse it and close the connection)."""
    env = rpc_pb2.RequestEnvelope(call_id=call_id, method=method, timeout_micros=timeout_micros(timeout), payload=payload)
    for key, value in metadata:
        env.metadata.add(key=key, value=value)
    body = env.SerializeToString()
    if len(body) > max_frame_bytes:
        raise RpcError(
            StatusCode.RESOURCE_EXHAUSTED,
            f"request of {len(body)} bytes exceeds the frame limit of {max_frame_bytes} bytes",
        )
    return HEADER.pack(len(body)) + body


def encode_cancel(call_id: int) -> bytes:
    body = rpc_pb2.RequestEnvelope(call_id=call_id, cancel=True).SerializeToString()
    return HEADER.pack(len(body)) + body


def check_frame_length(length: int, max_frame_bytes: int) -> None:
    """Refuses a declared frame length before anything is allocated for it."""
    if length > max_frame_bytes:
        raise RpcError(
            StatusCode.RESOURCE_EXHAUSTED,
            f"server sent a frame of {length} bytes, over the client's limit of {max_frame_bytes} bytes",
        )


def decode_response(body: bytes) -> rpc_pb2.ResponseEnvelope:
    env = rpc_pb2.ResponseEnvelope()
    try:
        env.ParseFromString(body)
    except Exception as exc:  # protobuf's DecodeError, or worse on garbage
        raise RpcError(StatusCode.INTERNAL, f"undecodable response envelope: {exc}") from None
    return env


def status_error(env: rpc_pb2.ResponseEnvelope) -> Optional[RpcError]:
    """The error a final frame carries, or None for OK."""
    if env.HasField("status") and env.status.code != 0:
        return RpcError(env.status.code, env.status.message)
    return None
