"""Byte-level checks of framing against docs/PROTOCOL.md's worked example."""

import pytest

from facerpc import RpcError, StatusCode, parse_target
from facerpc._wire import decode_response, encode_request, status_error, timeout_micros


def test_worked_example_request_bytes():
    frame = encode_request(1, "/facerpc.v1.Health/Check", b"", 2.0)
    assert frame.hex(" ") == (
        "00 00 00 20 08 01 12 18 2f 66 61 63 65 72 70 63 2e 76 31 2e "
        "48 65 61 6c 74 68 2f 43 68 65 63 6b 18 80 89 7a"
    )


def test_worked_example_response():
    env = decode_response(bytes.fromhex("08 01 12 00 1a 02 08 01 20 01"))
    assert env.call_id == 1 and env.end_of_stream and env.payload == b"\x08\x01"
    assert env.HasField("status") and status_error(env) is None


def test_status_codes_use_grpc_numbers():
    assert StatusCode.UNIMPLEMENTED == 12 and StatusCode.UNAVAILABLE == 14
    assert RpcError(99, "x").code == StatusCode.UNKNOWN
    assert str(RpcError(5, "no job")) == "NOT_FOUND: no job"


def test_undecodable_envelope_is_internal():
    with pytest.raises(RpcError) as info:
        decode_response(b"\xff\xff\xff\xff")
    assert info.value.code == StatusCode.INTERNAL


def test_deadline_is_clamped_to_an_hour():
    assert timeout_micros(10_000) == 3600 * 1_000_000
    assert timeout_micros(0.5) == 500_000


@pytest.mark.parametrize(
    "text,kind,where",
    [
        ("/run/x.sock", "unix", "/run/x.sock"),
        ("unix:rel.sock", "unix", "rel.sock"),
        ("127.0.0.1:7730", "tcp", ("127.0.0.1", 7730)),
        ("tcp:localhost:1", "tcp", ("localhost", 1)),
        ("[::1]:7730", "tcp", ("::1", 7730)),
    ],
)
def test_targets(text, kind, where):
    t = parse_target(text)
    assert t.kind == kind
    assert (t.path if kind == "unix" else (t.host, t.port)) == where


def test_bad_tcp_target():
    with pytest.raises(ValueError):
        parse_target("tcp:host:99999")
