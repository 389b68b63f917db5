"""Status codes and the exception every failed call raises."""

from __future__ import annotations

import enum

__all__ = ["StatusCode", "RpcError"]


class StatusCode(enum.IntEnum):
    """gRPC status codes, with gRPC's numbering (the wire carries the number)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16

    @classmethod
    def from_wire(cls, value: int) -> "StatusCode":
        """Maps a wire value to a code; numbers outside gRPC's range become UNKNOWN."""
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


class RpcError(Exception):
    """A call that did not succeed.

    ``code`` is a :class:`StatusCode`. Errors found by the client itself use the
    gRPC code a gRPC client would: UNAVAILABLE when the server cannot be reached
    or the connection is lost, DEADLINE_EXCEEDED when the local deadline passes,
    RESOURCE_EXHAUSTED for a frame over the size limit, INTERNAL for a frame that
    does not decode.
    """

    def __init__(self, code: StatusCode | int, message: str = "") -> None:
        self.code = StatusCode.from_wire(int(code))
        self.message = message
        super().__init__(self.code, message)

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}" if self.message else self.code.name

    def __repr__(self) -> str:
        return f"RpcError({self.code.name}, {self.message!r})"
