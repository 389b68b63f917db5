"""``facerpc-py``: the Python client's command line.

    facerpc-py [--unix PATH | --tcp HOST:PORT] [--timeout S] predict IMG... [--json]
    facerpc-py [--unix PATH | --tcp HOST:PORT] [--timeout S] health [--service S]
    facerpc-py [--unix PATH | --tcp HOST:PORT] [--timeout S] models [--json]

health exits 0 for SERVING, 1 for NOT_SERVING or SERVICE_UNKNOWN, 2 when the
server cannot be reached or does not answer in time (grpc_health_probe's codes).
predict and models exit 0 on success, 1 when a call fails, 2 when unreachable.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import List, Optional

from .client import Client
from .errors import RpcError, StatusCode
from ._wire import Target, default_unix_path, parse_target

_UNREACHABLE = (StatusCode.UNAVAILABLE, StatusCode.DEADLINE_EXCEEDED)


def _address_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    # The same options before or after the command ("facerpc-py --tcp X health"
    # and "facerpc-py health --tcp X"); the subcommand's copies only override
    # when given, hence SUPPRESS.
    d = {"default": argparse.SUPPRESS} if suppress else {}
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--unix", metavar="PATH", help=f"Unix socket of the server (default: {default_unix_path()})", **d)
    group.add_argument("--tcp", metavar="HOST:PORT", help="TCP address of the server", **d)
    parser.add_argument("--timeout", type=float, metavar="S", help="deadline of each call in seconds (health: 2, others: 30)", **d)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="facerpc-py", description="Python client for the facerpc server.")
    _address_options(p, suppress=False)
    sub = p.add_subparsers(dest="command", required=True)

    pr = sub.add_parser("predict", help="ages and genders of the faces in JPEG images")
    _address_options(pr, suppress=True)
    pr.add_argument("images", nargs="+", metavar="IMG")
    pr.add_argument("--json", action="store_true", help="one JSON object per image and line")
    pr.add_argument("--face-crop", action="store_true", help="each image is one face already: skip detection")
    pr.add_argument("--age-model")
    pr.add_argument("--gender-model")
    pr.add_argument("--min-face-size", type=float, metavar="PX")
    pr.add_argument("--score-threshold", type=float)
    pr.add_argument("--max-faces", type=int)
    pr.add_argument("--distributions", action="store_true", help="include the full age and gender distributions")

    he = sub.add_parser("health", help="is the server (or one model) serving?")
    _address_options(he, suppress=True)
    he.add_argument("--service", default="", help='"" for the whole server, or a model name')

    mo = sub.add_parser("models", help="the server's models")
    _address_options(mo, suppress=True)
    mo.add_argument("--json", action="store_true")
    return p


def _target(args: argparse.Namespace) -> Target:
    if args.tcp:
        return parse_target("tcp:" + args.tcp)
    return Target("unix", path=args.unix or default_unix_path())


def _health(client: Client, args: argparse.Namespace) -> int:
    try:
        status = client.health(args.service, timeout=args.timeout or 2.0)
    except RpcError as exc:
        print(f"error: {client.target}: {exc}", file=sys.stderr)
        return 2
    print(status)
    return 0 if status == "SERVING" else 1


def _text(path: str, result) -> str:
    lines = [f"{path}: {len(result.faces)} face(s)"]
    for i, f in enumerate(result.faces, 1):
        b = f.box
        parts = [f"  face {i}: box x={b.x:g} y={b.y:g} w={b.width:g} h={b.height:g} score={f.score:.3f}"]
        if f.age is not None:
            parts.append(f"age {f.age.years:.1f} ({f.age.bucket or '?'}, {f.age.confidence:.2f})")
        if f.gender is not None:
            parts.append(f"{f.gender.label or '?'} ({f.gender.confidence:.2f})")
        lines.append(", ".join(parts))
    return "\n".join(lines)


def _predict(client: Client, args: argparse.Namespace) -> int:
    failed = False
    for path in args.images:
        try:
            result = client.predict(
                path,
                age_model=args.age_model,
                gender_model=args.gender_model,
                face_crop=args.face_crop,
                min_face_size=args.min_face_size,
                score_threshold=args.score_threshold,
                include_distributions=args.distributions,
                max_faces=args.max_faces,
                timeout=args.timeout,
            )
        except OSError as exc:
            print(f"error: {path}: {exc.strerror or exc}", file=sys.stderr)
            failed = True
            continue
        except RpcError as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            if exc.code in _UNREACHABLE and client.connections_opened == 0:
                return 2
            failed = True
            continue
        if args.json:
            print(json.dumps(result.to_json(image=path)), flush=True)
        else:
            print(_text(path, result), flush=True)
    return 1 if failed else 0


def _models(client: Client, args: argparse.Namespace) -> int:
    try:
        models = client.models(timeout=args.timeout)
    except RpcError as exc:
        print(f"error: {client.target}: {exc}", file=sys.stderr)
        return 2 if exc.code in _UNREACHABLE else 1
    for m in models:
        if args.json:
            print(json.dumps(asdict(m)))
        else:
            print(f"{m.name}\t{m.task}\t{m.architecture}\t{m.version}\t{m.state}\t{m.error}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.timeout is not None and not args.timeout > 0:
        print("error: --timeout must be > 0", file=sys.stderr)
        return 2
    try:
        target = _target(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with Client(target, connect_timeout=(args.timeout or 5.0)) as client:
        if args.command == "health":
            return _health(client, args)
        if args.command == "predict":
            return _predict(client, args)
        return _models(client, args)


if __name__ == "__main__":
    sys.exit(main())
