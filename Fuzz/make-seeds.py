#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (run with the project's .venv: numpy,
onnx, protobuf). Deterministic: rerunning rewrites the same bytes.

    Fuzz/make-seeds.py                    the committed seeds: Fuzz/Corpus/{wire,jpeg,checkpoint}
    Fuzz/make-seeds.py --generated DIR    the ONNX seeds, DIR/onnx (make fuzz-seeds: .build-fuzz/seeds)

ONNX seeds are small generated models, and no model file is ever committed, so
they are built where the fuzzers run instead. The fuzzers grow their own
working copies under .build-fuzz/; only seeds and crash regressions are committed."""

import hashlib
import io
import json
import pathlib
import shutil
import struct
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "clients" / "python"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from facerpc._proto import health_pb2, models_pb2, predict_pb2, rpc_pb2, train_pb2  # noqa: E402

CORPUS = REPO / "Fuzz" / "Corpus"


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def request(call_id: int, method: str, payload: bytes, **extra) -> bytes:
    env = rpc_pb2.RequestEnvelope(call_id=call_id, method=method, timeout_micros=2_000_000, payload=payload, **extra)
    return frame(env.SerializeToString())


def write(folder: str, name: str, data: bytes, root: pathlib.Path = CORPUS) -> None:
    path = root / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def wire() -> None:
    tiny_jpeg = (REPO / "Tests" / "FaceRPCImageTests" / "Fixtures" / "gray.jpg").read_bytes()
    predict = predict_pb2.PredictRequest(jpeg=tiny_jpeg, options=predict_pb2.PredictOptions(face_crop=True, max_faces=3))
    train = train_pb2.TrainRequest(task=train_pb2.TRAIN_TASK_GENDER, data="train.csv", steps=10, batch_size=8, promote=True)
    write("wire", "health", request(1, "/facerpc.v1.Health/Check", health_pb2.HealthCheckRequest().SerializeToString()))
    write("wire", "health-watch", request(3, "/facerpc.v1.Health/Watch", health_pb2.HealthCheckRequest(service="age").SerializeToString()))
    write("wire", "models", request(2, "/facerpc.v1.Models/List", models_pb2.ListModelsRequest().SerializeToString()))
    write("wire", "predict", request(5, "/facerpc.v1.Predictor/Predict", predict.SerializeToString(),
                                     metadata=[rpc_pb2.MetadataEntry(key="authorization", value="Bearer x")]))
    write("wire", "train", request(7, "/facerpc.v1.Training/Start", train.SerializeToString()))
    write("wire", "train-status", request(9, "/facerpc.v1.Training/GetStatus", train_pb2.TrainJobRequest(job_id="job-1").SerializeToString()))
    write("wire", "cancel", frame(rpc_pb2.RequestEnvelope(call_id=5, cancel=True).SerializeToString()))
    # Health checks as probes and bench/loadgen/rpc_load.c send them (no deadline, no payload), pipelined:
    # the shape the server reads in place and answers from pre-encoded frames.
    write("wire", "health-bare-pipelined", b"".join(
        frame(rpc_pb2.RequestEnvelope(call_id=(sequence << 8) | slot, method="/facerpc.v1.Health/Check").SerializeToString())
        for sequence, slot in ((1, 0), (1, 1), (300, 7), (1 << 40, 255))))
    pipelined = b"".join(request(i, "/facerpc.v1.Health/Check", b"") for i in range(1, 4))
    write("wire", "pipelined", pipelined)
    status = train_pb2.TrainStatus(job_id="job-1", model="lh-gender", state=train_pb2.TRAIN_STATE_RUNNING, step=3, loss=0.7)
    response = rpc_pb2.ResponseEnvelope(call_id=9, status=rpc_pb2.Status(code=0), payload=status.SerializeToString(), end_of_stream=True)
    write("wire", "response", frame(response.SerializeToString()))


def jpeg() -> None:
    fixtures = REPO / "Tests" / "FaceRPCImageTests" / "Fixtures"
    for name in ["gray.jpg", "cmyk.jpg", "orient_ii_6.jpg", "orient_mm_8.jpg"]:
        write("jpeg", name, (fixtures / name).read_bytes())


def onnx_models(root: pathlib.Path) -> None:
    rng = np.random.default_rng(1)
    def init(name, *shape):
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p1"], ["f"]),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["g"], transB=1),
        helper.make_node("Softmax", ["g"], ["y"], axis=1),
    ]
    graph = helper.make_graph(nodes, "seed", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
                              [init("w1", 4, 3, 3, 3), init("b1", 4), init("w2", 2, 64), init("b2", 2)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    write("onnx", "conv-pool-gemm.onnx", model.SerializeToString(), root)
    nodes2 = [
        helper.make_node("Pad", ["x", "pads"], ["p"], mode="constant"),
        helper.make_node("AveragePool", ["p"], ["a"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        helper.make_node("Mul", ["a", "s"], ["m"]),
        helper.make_node("Add", ["m", "t"], ["y"]),
        helper.make_node("GlobalAveragePool", ["y"], ["z"]),
    ]
    graph2 = helper.make_graph(nodes2, "seed2", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
                               [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 2, 1, 1])],
                               [numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64), "pads"),
                                init("s", 1, 2, 1, 1), init("t", 1, 2, 1, 1)])
    model2 = helper.make_model(graph2, opset_imports=[helper.make_opsetid("", 13)])
    model2.ir_version = 8
    write("onnx", "pad-avgpool-affine.onnx", model2.SerializeToString(), root)


def checkpoint() -> None:
    header = json.dumps({"jobID": "job-1", "step": 3, "epoch": 0, "nextBatch": 3, "lossAverage": 0.7,
                         "trainAccuracyAverage": 0.5, "valAccuracy": 0.5, "trainingSeconds": 1.5,
                         "createdAt": 1700000000}, sort_keys=True).encode()
    body = bytearray(b"FRPCCKPT")
    body += struct.pack("<II", 1, len(header)) + header
    tensors = [("conv1.weight", [2, 1, 3, 3]), ("conv1.bias", [2]), ("step", [])]
    body += struct.pack("<I", len(tensors))
    for name, shape in tensors:
        raw = name.encode()
        body += struct.pack("<H", len(raw)) + raw + struct.pack("<B", len(shape))
        body += b"".join(struct.pack("<I", d) for d in shape)
        count = int(np.prod(shape)) if shape else 1
        body += np.arange(count, dtype="<f4").tobytes()
    body += hashlib.sha256(bytes(body)).digest()
    write("checkpoint", "small.ckpt", bytes(body))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--generated":
        root = pathlib.Path(sys.argv[2])
        shutil.rmtree(root / "onnx", ignore_errors=True)
        onnx_models(root)
        print("generated seeds written under", root)
    elif len(sys.argv) == 1:
        for folder in ("wire", "jpeg", "checkpoint"):
            shutil.rmtree(CORPUS / folder, ignore_errors=True)
        wire(); jpeg(); checkpoint()
        print("seeds written under", CORPUS)
    else:
        sys.exit(__doc__)
