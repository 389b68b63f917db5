"""The sync and asyncio clients against the real server."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import threading
import time

import pytest

import facerpc
import facerpc.aio
from facerpc import RpcError, StatusCode
from facerpc._proto import debug_pb2

from conftest import SHARED


@pytest.fixture(params=["unix", "tcp"])
def target(request, server):
    return server.unix if request.param == "unix" else "tcp:" + server.tcp


def test_health_both_transports(target):
    with facerpc.Client(target) as c:
        assert c.health() == "SERVING"
        assert c.health("no-such-model") == "SERVICE_UNKNOWN"
        assert c.connections_opened == 1


def test_host_port_without_prefix_is_tcp(server):
    c = facerpc.Client(server.tcp)
    assert c.target.kind == "tcp"
    with c:
        assert c.health() == "SERVING"


def _sleeps(n):
    # Later calls sleep less, so answers come back in a different order than
    # the calls went out: matching must be by call id.
    return [(i, 20 + (n - i) * 12, os.urandom(8) + str(i).encode()) for i in range(n)]


def test_fifty_pipelined_calls_from_threads(server):
    calls = _sleeps(50)
    done = []
    lock = threading.Lock()
    errors = []
    with facerpc.Client(server.unix) as c:
        c.health()  # open the connection first
        barrier = threading.Barrier(len(calls))

        def run(i, millis, echo):
            try:
                barrier.wait()
                got = c.sleep(millis, echo, timeout=10)
                with lock:
                    done.append(i)
                assert got == echo
            except BaseException as exc:  # reported below, a thread cannot fail the test
                errors.append(exc)

        threads = [threading.Thread(target=run, args=call) for call in calls]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - start
        assert not errors, errors
        assert sorted(done) == list(range(50))
        assert c.connections_opened == 1
    serial = sum(m for _, m, _ in calls) / 1000
    # Run one after another they would take `serial` (~15 s); pipelined, about the longest.
    assert wall < serial / 3, f"{wall:.2f}s for 50 calls: not pipelined (serial would be {serial:.1f}s)"
    # The shortest sleeps were started last yet finished first.
    assert done[:10] != list(range(10))
    assert set(done[:10]) & set(range(40, 50)), done


def test_fifty_pipelined_calls_asyncio(server):
    calls = _sleeps(50)

    async def main():
        order = []
        async with facerpc.aio.Client("tcp:" + server.tcp) as c:
            async def one(i, millis, echo):
                got = await c.sleep(millis, echo, timeout=10)
                order.append(i)
                return got

            start = time.monotonic()
            results = await asyncio.gather(*(one(*call) for call in calls))
            wall = time.monotonic() - start
            assert c.connections_opened == 1
        return results, order, wall

    results, order, wall = asyncio.run(main())
    assert results == [echo for _, _, echo in calls]
    serial = sum(m for _, m, _ in calls) / 1000
    assert wall < serial / 3, f"{wall:.2f}s: not pipelined"
    assert order[0] > order[-1], order  # completion order differs from submission


def test_deadline_exceeded_from_server(server):
    with facerpc.Client(server.unix) as c:
        start = time.monotonic()
        with pytest.raises(RpcError) as info:
            c.sleep(3000, b"x", timeout=0.3)
        elapsed = time.monotonic() - start
        assert info.value.code == StatusCode.DEADLINE_EXCEEDED
        assert 0.25 <= elapsed < 1.5, elapsed
        # The connection is still good afterwards.
        assert c.sleep(1, b"after", timeout=5) == b"after"


def test_deadline_exceeded_async(server):
    async def main():
        async with facerpc.aio.Client(server.unix) as c:
            with pytest.raises(RpcError) as info:
                await c.sleep(3000, timeout=0.2)
            assert info.value.code == StatusCode.DEADLINE_EXCEEDED
            return await c.health()

    assert asyncio.run(main()) == "SERVING"


def _silent_listener():
    """A TCP listener that accepts and never answers (for local deadlines)."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(4)
    return lst


def test_local_deadline_when_server_never_answers():
    lst = _silent_listener()
    try:
        host, port = lst.getsockname()
        with facerpc.Client(f"{host}:{port}") as c:
            start = time.monotonic()
            with pytest.raises(RpcError) as info:
                c.health(timeout=0.3)
            elapsed = time.monotonic() - start
        assert info.value.code == StatusCode.DEADLINE_EXCEEDED
        assert "client-side" in info.value.message
        assert 0.3 <= elapsed < 2.0, elapsed
    finally:
        lst.close()


def test_oversized_incoming_frame_is_refused():
    lst = _silent_listener()
    try:
        host, port = lst.getsockname()

        def serve():
            conn, _ = lst.accept()
            conn.recv(1024)
            conn.sendall((64 * 1024 * 1024).to_bytes(4, "big"))  # announces 64 MiB, sends nothing
            time.sleep(2)
            conn.close()

        threading.Thread(target=serve, daemon=True).start()
        with facerpc.Client(f"{host}:{port}", max_frame_bytes=1 << 20) as c:
            with pytest.raises(RpcError) as info:
                c.health(timeout=5)
        assert info.value.code == StatusCode.RESOURCE_EXHAUSTED
        assert "limit" in info.value.message
    finally:
        lst.close()


def test_oversized_request_is_refused_locally(server):
    with facerpc.Client(server.unix, max_frame_bytes=1024) as c:
        with pytest.raises(RpcError) as info:
            c.sleep(1, b"x" * 2048)
        assert info.value.code == StatusCode.RESOURCE_EXHAUSTED
        assert c.health() == "SERVING"  # nothing was sent, the connection is fine


def test_unknown_method_is_unimplemented(server):
    with facerpc.Client(server.unix) as c:
        with pytest.raises(RpcError) as info:
            c.call_unary("/facerpc.v1.Nope/Nothing", b"", timeout=5)
        assert info.value.code == StatusCode.UNIMPLEMENTED
        assert isinstance(info.value.code, StatusCode)


def test_bad_payload_is_invalid_argument(server):
    with facerpc.Client(server.unix) as c:
        with pytest.raises(RpcError) as info:
            c.call_unary(facerpc.Methods.DEBUG_SLEEP, b"\xff\xff\xff", timeout=5)
        assert info.value.code == StatusCode.INVALID_ARGUMENT


def test_generic_call_with_generated_messages(server):
    with facerpc.Client(server.unix) as c:
        raw = c.call_unary(facerpc.Methods.DEBUG_SLEEP, debug_pb2.SleepRequest(millis=1, echo=b"abc").SerializeToString())
        assert debug_pb2.SleepResponse.FromString(raw).echo == b"abc"


def test_connection_refused_is_unavailable(tmp_path):
    with facerpc.Client(str(tmp_path / "nothing.sock")) as c:
        with pytest.raises(RpcError) as info:
            c.health(timeout=2)
        assert info.value.code == StatusCode.UNAVAILABLE
    port = _free_port()
    with facerpc.Client(f"127.0.0.1:{port}") as c:
        with pytest.raises(RpcError) as info:
            c.health(timeout=2)
        assert info.value.code == StatusCode.UNAVAILABLE


def test_connection_refused_async(tmp_path):
    async def main():
        async with facerpc.aio.Client(str(tmp_path / "nothing.sock")) as c:
            await c.health(timeout=2)

    with pytest.raises(RpcError) as info:
        asyncio.run(main())
    assert info.value.code == StatusCode.UNAVAILABLE


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_watch_health_sees_drain(own_server):
    with facerpc.Client(own_server.unix) as c:
        stream = c.watch_health()
        assert next(stream) == "SERVING"
        own_server.proc.terminate()
        assert next(stream) == "NOT_SERVING"
        # The drain ends the stream: OK or UNAVAILABLE, never a hang.
        start = time.monotonic()
        try:
            rest = list(stream)
        except RpcError as exc:
            assert exc.code == StatusCode.UNAVAILABLE, exc
            rest = []
        assert all(s == "NOT_SERVING" for s in rest)
        assert time.monotonic() - start < 10
    assert own_server.proc.wait(30) == 0


def test_watch_health_async_and_cancel(server):
    async def main():
        async with facerpc.aio.Client(server.unix) as c:
            stream = await c.watch_health()
            first = await stream.__anext__()
            await stream.aclose()
            # The connection carries on after the cancelled stream.
            return first, await c.health(), c.connections_opened

    assert asyncio.run(main()) == ("SERVING", "SERVING", 1)


def test_closing_a_stream_cancels_it(server):
    with facerpc.Client(server.unix) as c:
        with c.watch_health("no-such-model") as stream:
            assert next(stream) == "SERVICE_UNKNOWN"
        assert c._conn is not None and c._conn.in_flight == 0
        assert c.health() == "SERVING"


def test_concurrent_calls_survive_one_failing(server):
    with facerpc.Client(server.unix) as c:
        results = {}

        def slow():
            results["slow"] = c.sleep(300, b"slow", timeout=5)

        t = threading.Thread(target=slow)
        t.start()
        with pytest.raises(RpcError):
            c.call_unary("/facerpc.v1.Nope/Nothing", b"")
        t.join()
        assert results["slow"] == b"slow"


def test_timeout_must_be_positive(server):
    with facerpc.Client(server.unix) as c:
        with pytest.raises(ValueError):
            c.health(timeout=0)


# --- calls whose services other parts of the server provide -----------------

def _skip_if_unimplemented(exc: RpcError, what: str):
    if exc.code == StatusCode.UNIMPLEMENTED:
        pytest.skip(f"server does not implement {what} yet (UNIMPLEMENTED: {exc.message})")


def _face_image():
    d = SHARED / "detection" / "demo_smahesh29"
    if not (d / "man1.jpg").is_file():
        pytest.skip(f"test images not found under {d}")
    return d / "man1.jpg"


def test_predict(server):
    image = _face_image()
    with facerpc.Client(server.unix) as c:
        try:
            result = c.predict(image, include_distributions=True, timeout=60)
        except RpcError as exc:
            _skip_if_unimplemented(exc, "Predictor/Predict")
            if exc.code in (StatusCode.UNAVAILABLE, StatusCode.NOT_FOUND, StatusCode.FAILED_PRECONDITION) and c.health("age") != "SERVING":
                pytest.skip(f"no age model serving (set FACERPC_MODELS_DIR): {exc}")
            raise
    assert result.is_human and result.faces
    assert result.image_width > 0 and result.image_height > 0
    for face in result.faces:
        b = face.box
        assert b.width > 0 and b.height > 0
        assert -b.width < b.x < result.image_width and -b.height < b.y < result.image_height
        assert 0 < face.score <= 1
        assert face.age is not None and 0 <= face.age.years <= 120
        assert 0 <= face.age.confidence <= 1 and face.age.distribution
        assert face.gender is not None and face.gender.label in ("male", "female")
        assert 0.5 <= face.gender.confidence <= 1
        assert len(face.gender.distribution) == 2
    doc = result.to_json(image=str(image))
    assert set(doc) == {"image", "is_human", "faces", "timings_ms"}
    assert set(doc["faces"][0]["box"]) == {"x", "y", "width", "height"}


def test_predict_rejects_garbage_image(server):
    with facerpc.Client(server.unix) as c:
        try:
            c.predict(b"not a jpeg", timeout=10)
        except RpcError as exc:
            _skip_if_unimplemented(exc, "Predictor/Predict")
            assert exc.code == StatusCode.INVALID_ARGUMENT, exc
        else:
            pytest.fail("a non-JPEG was accepted")


def test_predict_is_unimplemented_or_answers(server):
    """Today's server answers UNIMPLEMENTED; the call and error path must work."""
    with facerpc.Client(server.unix) as c:
        try:
            c.predict(b"\xff\xd8\xff", timeout=10)
        except RpcError as exc:
            assert exc.code in (StatusCode.UNIMPLEMENTED, StatusCode.INVALID_ARGUMENT), exc


def test_models(server):
    with facerpc.Client(server.unix) as c:
        try:
            models = c.models(timeout=10)
        except RpcError as exc:
            _skip_if_unimplemented(exc, "Models/List")
            raise
    for m in models:
        assert m.name and m.task in ("age", "gender")
        assert m.state in ("LOADING", "SERVING", "UNAVAILABLE")
        if m.state == "UNAVAILABLE":
            assert m.error


def test_train_status_unknown_job(server):
    with facerpc.Client(server.unix) as c:
        try:
            c.train_status("no-such-job", timeout=10)
        except RpcError as exc:
            _skip_if_unimplemented(exc, "Training/GetStatus")
            assert exc.code == StatusCode.NOT_FOUND, exc
        else:
            pytest.fail("an unknown job id was answered")


def test_train_request_fields():
    from facerpc import _api
    from facerpc._proto import train_pb2

    raw = _api.train_request(task="gender", optimizer="adam", steps=10, learning_rate=0.5, promote=True, data="x.csv")
    m = train_pb2.TrainRequest.FromString(raw)
    assert (m.task, m.optimizer, m.steps, m.promote, m.data) == (train_pb2.TRAIN_TASK_GENDER, train_pb2.OPTIMIZER_ADAM, 10, True, "x.csv")
    assert m.learning_rate == pytest.approx(0.5)
    with pytest.raises(TypeError):
        _api.train_request(stepz=1)
    with pytest.raises(ValueError):
        _api.train_request(task="height")


def test_reconnects_after_the_server_closes_an_idle_connection():
    from conftest import start_server

    s = start_server("--idle-timeout", "0.5")
    try:
        with facerpc.Client(s.unix) as c:
            assert c.health() == "SERVING"
            time.sleep(1.5)  # the server sends UNAVAILABLE on call 0 and closes
            assert c.health() == "SERVING"
            assert c.connections_opened == 2
    finally:
        s.stop()


def test_server_frame_limit_fails_the_call_with_its_code():
    from conftest import start_server

    s = start_server("--max-frame-bytes", "1024")
    try:
        with facerpc.Client(s.unix) as c:
            with pytest.raises(RpcError) as info:
                c.sleep(1, b"x" * 4096, timeout=5)
            # The server answers on call 0 and closes; the call gets that status.
            assert info.value.code == StatusCode.RESOURCE_EXHAUSTED, info.value
            assert c.health() == "SERVING"  # on a fresh connection
            assert c.connections_opened == 2
    finally:
        s.stop()


def test_server_frame_limit_async():
    from conftest import start_server

    s = start_server("--max-frame-bytes", "1024")

    async def main():
        async with facerpc.aio.Client(s.unix) as c:
            with pytest.raises(RpcError) as info:
                await c.sleep(1, b"x" * 4096, timeout=5)
            assert info.value.code == StatusCode.RESOURCE_EXHAUSTED, info.value
            assert await c.health() == "SERVING"
            return c.connections_opened

    try:
        assert asyncio.run(main()) == 2
    finally:
        s.stop()


def test_watch_training_unknown_job(server):
    with facerpc.Client(server.unix) as c:
        with c.watch_training("no-such-job", timeout=10) as stream:
            try:
                first = next(stream)
            except RpcError as exc:
                _skip_if_unimplemented(exc, "Training/Watch")
                assert exc.code == StatusCode.NOT_FOUND, exc
            else:
                pytest.fail(f"an unknown job was watched: {first}")
        assert c.health() == "SERVING"
