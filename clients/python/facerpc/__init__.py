"""facerpc: a client for the facerpc age and gender prediction server.

>>> import facerpc
>>> with facerpc.Client("/tmp/facerpc-1000/facerpc.sock") as c:    # doctest: +SKIP
...     for face in c.predict("photo.jpg").faces:
...         print(face.box, face.age.years, face.gender.label)

``facerpc.aio.Client`` is the asyncio version. The wire protocol is in the
server's docs/PROTOCOL.md.
"""

from ._wire import DEFAULT_MAX_FRAME_BYTES, DEFAULT_TIMEOUT_SECONDS, Methods, Target, default_unix_path, parse_target
from .client import Client, Stream
from . import aio
from .errors import RpcError, StatusCode
from .types import AgeEstimate, Box, ClassMetrics, Face, GenderEstimate, ModelInfo, Point, PredictResult, Timings, TrainReport, TrainStatus

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Stream",
    "RpcError",
    "StatusCode",
    "Methods",
    "Target",
    "parse_target",
    "default_unix_path",
    "DEFAULT_MAX_FRAME_BYTES",
    "DEFAULT_TIMEOUT_SECONDS",
    "Box",
    "Point",
    "AgeEstimate",
    "GenderEstimate",
    "Face",
    "Timings",
    "PredictResult",
    "ModelInfo",
    "TrainStatus",
    "TrainReport",
    "ClassMetrics",
]
