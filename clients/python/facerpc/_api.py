"""Request building and response decoding shared by the sync and asyncio clients."""

from __future__ import annotations

import os
from typing import Any, Callable, Optional, Tuple, TypeVar, Union

from . import types
from ._proto import debug_pb2, health_pb2, models_pb2, predict_pb2, train_pb2
from .errors import RpcError, StatusCode

T = TypeVar("T")
ImageLike = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]

#: Room an envelope needs around the image bytes (method, ids, options).
_ENVELOPE_SLACK = 1024


def load_image(image: ImageLike, max_bytes: int) -> bytes:
    """JPEG bytes as given, or read from a path after checking its size."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image)
    path = os.fspath(image)
    size = os.stat(path).st_size
    if size > max_bytes - _ENVELOPE_SLACK:
        raise RpcError(
            StatusCode.RESOURCE_EXHAUSTED,
            f"{path}: {size} bytes does not fit in a frame of {max_bytes} bytes",
        )
    with open(path, "rb") as fh:
        return fh.read(max_bytes)


def predict_request(
    jpeg: bytes,
    *,
    age_model: Optional[str] = None,
    gender_model: Optional[str] = None,
    face_crop: bool = False,
    min_face_size: Optional[float] = None,
    score_threshold: Optional[float] = None,
    include_distributions: bool = False,
    max_faces: Optional[int] = None,
) -> bytes:
    opts = predict_pb2.PredictOptions(
        age_model=age_model or "",
        gender_model=gender_model or "",
        face_crop=face_crop,
        min_face_size=min_face_size or 0.0,
        score_threshold=score_threshold or 0.0,
        include_distributions=include_distributions,
        max_faces=max_faces or 0,
    )
    return predict_pb2.PredictRequest(jpeg=jpeg, options=opts).SerializeToString()


_TASKS = {"age": train_pb2.TRAIN_TASK_AGE, "gender": train_pb2.TRAIN_TASK_GENDER}
_OPTIMIZERS = {
    "momentum": train_pb2.OPTIMIZER_MOMENTUM,
    "adadelta": train_pb2.OPTIMIZER_ADADELTA,
    "adam": train_pb2.OPTIMIZER_ADAM,
}


def train_request(**fields: Any) -> bytes:
    """TrainRequest from keyword arguments named as its fields. ``task`` may be
    "age"/"gender" and ``optimizer`` "momentum"/"adadelta"/"adam" (or the enum
    numbers); unknown names raise TypeError; None leaves a field at its default."""
    known = {f.name for f in train_pb2.TrainRequest.DESCRIPTOR.fields}
    unknown = set(fields) - known
    if unknown:
        raise TypeError(f"unknown TrainRequest field(s): {', '.join(sorted(unknown))}")
    values = {k: v for k, v in fields.items() if v is not None}
    if isinstance(values.get("task"), str):
        try:
            values["task"] = _TASKS[values["task"].lower()]
        except KeyError:
            raise ValueError(f"task must be one of {sorted(_TASKS)}, got {fields['task']!r}") from None
    if isinstance(values.get("optimizer"), str):
        try:
            values["optimizer"] = _OPTIMIZERS[values["optimizer"].lower()]
        except KeyError:
            raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)}, got {fields['optimizer']!r}") from None
    return train_pb2.TrainRequest(**values).SerializeToString()


def job_request(job: str) -> bytes:
    return train_pb2.TrainJobRequest(job_id=job).SerializeToString()


def health_request(service: str) -> bytes:
    return health_pb2.HealthCheckRequest(service=service).SerializeToString()


def sleep_request(millis: int, echo: bytes) -> bytes:
    return debug_pb2.SleepRequest(millis=millis, echo=echo).SerializeToString()


def _parser(cls: Any, convert: Callable[[Any], T]) -> Callable[[bytes], T]:
    def parse(payload: bytes) -> T:
        m = cls()
        try:
            m.ParseFromString(payload)
        except Exception as exc:
            raise RpcError(StatusCode.INTERNAL, f"undecodable {cls.DESCRIPTOR.name}: {exc}") from None
        return convert(m)

    return parse


parse_health = _parser(health_pb2.HealthCheckResponse, types.health_from_proto)
parse_predict = _parser(predict_pb2.PredictResponse, types.predict_from_proto)
parse_models = _parser(models_pb2.ListModelsResponse, lambda m: [types.model_from_proto(x) for x in m.models])
parse_train_status = _parser(train_pb2.TrainStatus, types.train_status_from_proto)
parse_train_report = _parser(train_pb2.TrainReport, types.train_report_from_proto)
parse_sleep = _parser(debug_pb2.SleepResponse, lambda m: bytes(m.echo))
