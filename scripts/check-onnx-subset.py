#!/usr/bin/env python3
"""Checks Protos/onnx/onnx-subset.proto against the onnx package's own schema.

Every field declared in the subset must exist in the public schema under the
same name, number and label (repeated or not), with a wire-compatible type.
Needs the `onnx` Python package; exits 0 when every field matches.
"""
import os
import re
import sys

import onnx
from google.protobuf.descriptor import FieldDescriptor as FD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO = os.path.join(ROOT, "Protos", "onnx", "onnx-subset.proto")

# Scalar type names of the subset -> the descriptor types they may stand for.
# int32 may stand for an enum: both are varints on the wire.
COMPATIBLE = {
    "int64": {FD.TYPE_INT64},
    "int32": {FD.TYPE_INT32, FD.TYPE_ENUM},
    "float": {FD.TYPE_FLOAT},
    "string": {FD.TYPE_STRING},
    "bytes": {FD.TYPE_BYTES},
}


def messages(text):
    """Yields (dotted message name, body) for every message, nested ones included."""
    stack, out = [], []
    for line in text.splitlines():
        line = line.split("//", 1)[0].strip()
        m = re.match(r"message\s+(\w+)\s*\{", line)
        if m:
            stack.append((m.group(1), []))
            continue
        if line == "}" and stack:
            name, body = stack.pop()
            out.append((".".join([s[0] for s in stack] + [name]), body))
            continue
        if stack and line:
            stack[-1][1].append(line)
    return out


def main():
    text = open(PROTO).read()
    errors, checked = [], 0
    for name, body in messages(text):
        desc = onnx
        for part in name.split("."):
            desc = getattr(desc, part)
        desc = desc.DESCRIPTOR
        for line in body:
            m = re.match(r"(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)", line)
            if not m:
                continue
            label, typ, field, number = m.group(1), m.group(2), m.group(3), int(m.group(4))
            up = desc.fields_by_name.get(field)
            checked += 1
            if up is None:
                errors.append(f"{name}.{field}: not in the public schema")
                continue
            if up.number != number:
                errors.append(f"{name}.{field}: number {number}, public schema {up.number}")
            repeated = up.is_repeated if hasattr(up, "is_repeated") else up.label == FD.LABEL_REPEATED
            if repeated != (label == "repeated"):
                errors.append(f"{name}.{field}: {label}, public schema differs")
            if typ in COMPATIBLE:
                if up.type not in COMPATIBLE[typ]:
                    errors.append(f"{name}.{field}: type {typ} does not match the public schema")
            elif up.message_type is None or up.message_type.name != typ.split(".")[-1]:
                errors.append(f"{name}.{field}: message type {typ} does not match the public schema")
    for e in errors:
        print(e, file=sys.stderr)
    print(f"checked {checked} fields against onnx {onnx.__version__}: {len(errors)} mismatches")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
