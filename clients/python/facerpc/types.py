"""Typed results of facerpc calls, decoded from the protobuf messages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, List, Optional

from ._proto import health_pb2, models_pb2, predict_pb2, train_pb2

__all__ = [
    "Box",
    "Point",
    "AgeEstimate",
    "GenderEstimate",
    "Face",
    "Timings",
    "PredictResult",
    "ModelInfo",
    "TrainStatus",
]


def _f(value: float) -> float:
    # Wire floats are float32: round to float32's precision so that 0.9 prints
    # as 0.9 and not 0.8999999761581421 in JSON and reprs.
    return float(f"{value:.7g}")


@dataclass(frozen=True)
class Box:
    """A face box in image pixels; (x, y) is the top-left corner."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Point:
    """An image point in pixels."""

    x: float
    y: float


@dataclass(frozen=True)
class AgeEstimate:
    """``years`` is the expected age; ``bucket`` the Levi-Hassner bucket ("25-32"),
    or None when the model gave none; ``confidence`` the bucket's probability mass;
    ``distribution`` the model's classes when asked for (else empty)."""

    years: float
    bucket: Optional[str]
    confidence: float
    distribution: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class GenderEstimate:
    """``label`` is "male", "female" or None; ``distribution`` is [female, male]
    when asked for (else empty)."""

    label: Optional[str]
    confidence: float
    distribution: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Face:
    """One detected face. ``landmarks`` are five points: left eye, right eye,
    nose, left and right mouth corners (empty if the detector gave none)."""

    box: Box
    score: float
    landmarks: list[Point]
    age: Optional[AgeEstimate]
    gender: Optional[GenderEstimate]

    def to_json(self) -> dict[str, Any]:
        """The JSON form used by ``facerpc-py predict --json`` (and ``facerpc-c``)."""
        out: dict[str, Any] = {
            "box": asdict(self.box),
            "score": self.score,
            "landmarks": [[p.x, p.y] for p in self.landmarks],
            "age": None,
            "gender": None,
        }
        if self.age is not None:
            out["age"] = {"years": self.age.years, "bucket": self.age.bucket, "confidence": self.age.confidence}
            if self.age.distribution:
                out["age"]["distribution"] = list(self.age.distribution)
        if self.gender is not None:
            out["gender"] = {"label": self.gender.label, "confidence": self.gender.confidence}
            if self.gender.distribution:
                out["gender"]["distribution"] = list(self.gender.distribution)
        return out


@dataclass(frozen=True)
class Timings:
    """Milliseconds the server spent in each stage of one predict call."""

    decode: float = 0.0
    detect: float = 0.0
    align: float = 0.0
    queue: float = 0.0
    age: float = 0.0
    gender: float = 0.0
    total: float = 0.0


@dataclass(frozen=True)
class PredictResult:
    """The answer to one predict call. ``is_human`` is true when a face was found."""

    faces: list[Face]
    is_human: bool
    timings: Timings
    image_width: int
    image_height: int
    age_model: str
    gender_model: str

    def to_json(self, image: Optional[str] = None) -> dict[str, Any]:
        """``{"image", "is_human", "faces": [...], "timings_ms": {...}}``."""
        return {
            "image": image,
            "is_human": self.is_human,
            "faces": [f.to_json() for f in self.faces],
            "timings_ms": asdict(self.timings),
        }


@dataclass(frozen=True)
class ModelInfo:
    """A model the server knows. ``state`` is "LOADING", "SERVING",
    "UNAVAILABLE" (why: ``error``) or "UNSPECIFIED"."""

    name: str
    task: str
    architecture: str
    version: str
    state: str
    error: str
    input_width: int
    input_height: int
    input_channels: int
    labels: list[str]
    source: str
    parameters: int
    sha256: str
    mean: list[float]
    scale: float


@dataclass(frozen=True)
class TrainStatus:
    """Progress of a training job. ``state`` is "QUEUED", "RUNNING",
    "SUCCEEDED", "FAILED", "CANCELLED" or "UNSPECIFIED"."""

    job_id: str
    model: str
    state: str
    step: int
    total_steps: int
    epoch: int
    loss: float
    loss_avg: float
    train_accuracy: float
    val_accuracy: float
    learning_rate: float
    examples_per_second: float
    eta_seconds: float
    checkpoint: str
    error: str
    version: str

    @property
    def done(self) -> bool:
        """True once the job has finished, whatever the outcome."""
        return self.state in ("SUCCEEDED", "FAILED", "CANCELLED")


@dataclass(frozen=True)
class ClassMetrics:
    """One row of a classification report."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class TrainReport:
    """The evaluation of a finished training job on its validation set.

    ``confusion[t][p]`` counts examples of true class ``labels[t]`` predicted as
    ``labels[p]``; ``one_off_accuracy`` is for age (the predicted bucket is the
    true one or a neighbour); ``curve`` holds (step, loss, loss_avg,
    train_accuracy, val_accuracy) tuples, val_accuracy 0 where none ran."""

    status: TrainStatus
    task: str
    examples: int
    accuracy: float
    one_off_accuracy: float
    labels: List[str]
    confusion: List[List[int]]
    classes: List[ClassMetrics]
    macro_f1: float
    baseline_accuracy: float
    curve: List[tuple]


# --- decoding ---------------------------------------------------------------

_BUCKETS = {
    predict_pb2.AGE_BUCKET_0_2: "0-2",
    predict_pb2.AGE_BUCKET_4_6: "4-6",
    predict_pb2.AGE_BUCKET_8_12: "8-12",
    predict_pb2.AGE_BUCKET_15_20: "15-20",
    predict_pb2.AGE_BUCKET_25_32: "25-32",
    predict_pb2.AGE_BUCKET_38_43: "38-43",
    predict_pb2.AGE_BUCKET_48_53: "48-53",
    predict_pb2.AGE_BUCKET_60_100: "60-100",
}
_GENDERS = {predict_pb2.GENDER_FEMALE: "female", predict_pb2.GENDER_MALE: "male"}

HEALTH_NAMES = {
    health_pb2.HealthCheckResponse.UNKNOWN: "UNKNOWN",
    health_pb2.HealthCheckResponse.SERVING: "SERVING",
    health_pb2.HealthCheckResponse.NOT_SERVING: "NOT_SERVING",
    health_pb2.HealthCheckResponse.SERVICE_UNKNOWN: "SERVICE_UNKNOWN",
}


def _enum_suffix(enum_type: Any, value: int, prefix: str) -> str:
    try:
        return enum_type.Name(value)[len(prefix):]
    except ValueError:
        return f"UNRECOGNIZED({value})"


def health_from_proto(m: health_pb2.HealthCheckResponse) -> str:
    return HEALTH_NAMES.get(m.status, f"UNRECOGNIZED({m.status})")


def face_from_proto(m: predict_pb2.Face) -> Face:
    age = None
    if m.HasField("age"):
        age = AgeEstimate(
            years=_f(m.age.years),
            bucket=_BUCKETS.get(m.age.bucket),
            confidence=_f(m.age.confidence),
            distribution=[_f(v) for v in m.age.distribution],
        )
    gender = None
    if m.HasField("gender"):
        gender = GenderEstimate(
            label=_GENDERS.get(m.gender.label),
            confidence=_f(m.gender.confidence),
            distribution=[_f(v) for v in m.gender.distribution],
        )
    return Face(
        box=Box(_f(m.box.x), _f(m.box.y), _f(m.box.width), _f(m.box.height)),
        score=_f(m.score),
        landmarks=[Point(_f(p.x), _f(p.y)) for p in m.landmarks],
        age=age,
        gender=gender,
    )


def predict_from_proto(m: predict_pb2.PredictResponse) -> PredictResult:
    t = m.timings
    return PredictResult(
        faces=[face_from_proto(f) for f in m.faces],
        is_human=m.is_human,
        timings=Timings(
            decode=_f(t.decode_ms),
            detect=_f(t.detect_ms),
            align=_f(t.align_ms),
            queue=_f(t.queue_ms),
            age=_f(t.age_ms),
            gender=_f(t.gender_ms),
            total=_f(t.total_ms),
        ),
        image_width=m.image_width,
        image_height=m.image_height,
        age_model=m.age_model,
        gender_model=m.gender_model,
    )


def model_from_proto(m: models_pb2.ModelInfo) -> ModelInfo:
    return ModelInfo(
        name=m.name,
        task=m.task,
        architecture=m.architecture,
        version=m.version,
        state=_enum_suffix(models_pb2.ModelState, m.state, "MODEL_STATE_"),
        error=m.error,
        input_width=m.input_width,
        input_height=m.input_height,
        input_channels=m.input_channels,
        labels=list(m.labels),
        source=m.source,
        parameters=m.parameters,
        sha256=m.sha256,
        mean=[_f(v) for v in m.mean],
        scale=_f(m.scale),
    )


def train_status_from_proto(m: train_pb2.TrainStatus) -> TrainStatus:
    return TrainStatus(
        job_id=m.job_id,
        model=m.model,
        state=_enum_suffix(train_pb2.TrainState, m.state, "TRAIN_STATE_"),
        step=m.step,
        total_steps=m.total_steps,
        epoch=m.epoch,
        loss=_f(m.loss),
        loss_avg=_f(m.loss_avg),
        train_accuracy=_f(m.train_accuracy),
        val_accuracy=_f(m.val_accuracy),
        learning_rate=_f(m.learning_rate),
        examples_per_second=_f(m.examples_per_second),
        eta_seconds=_f(m.eta_seconds),
        checkpoint=m.checkpoint,
        error=m.error,
        version=m.version,
    )


def train_report_from_proto(m: train_pb2.TrainReport) -> TrainReport:
    k = len(m.labels)
    flat = list(m.confusion)
    return TrainReport(
        status=train_status_from_proto(m.status),
        task=_enum_suffix(train_pb2.TrainTask, m.task, "TRAIN_TASK_").lower(),
        examples=m.examples,
        accuracy=_f(m.accuracy),
        one_off_accuracy=_f(m.one_off_accuracy),
        labels=list(m.labels),
        confusion=[flat[i * k:(i + 1) * k] for i in range(k)] if len(flat) == k * k else [],
        classes=[ClassMetrics(c.label, _f(c.precision), _f(c.recall), _f(c.f1), c.support) for c in m.classes],
        macro_f1=_f(m.macro_f1),
        baseline_accuracy=_f(m.baseline_accuracy),
        curve=[(p.step, _f(p.loss), _f(p.loss_avg), _f(p.train_accuracy), _f(p.val_accuracy)) for p in m.curve],
    )
