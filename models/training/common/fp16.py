"""
Half-precision copy of a shipped model's fp32 ONNX graph, for the GPU providers.

    /usr/bin/python3 models/training/common/fp16.py models/kestrel-py-tiny models/kestrel-embed-tiny

Rerun it whenever a model folder gets a new model.onnx (after export): it writes model.fp16.onnx
beside it and records the file in kestrel.json ("fp16": path, providers, bytes, sha256) and the
parity tolerance the tests hold it to (parity.json for a completion model, reference.json for an
embedder). Needs only Debian's python3-onnx and numpy, no GPU.

What it does: every float32 initializer is stored as float16 and cast back to float32 by a Cast node
at the start of the graph. The graph's interface (inputs, outputs, the float32 KV cache) is
unchanged, so every provider and the engine's decoder run it exactly like model.onnx, and any
provider can check it, the CPU included. The file is half the size of model.onnx, which is what a
VSIX carries for GPUs. ONNX Runtime folds the casts when it loads the graph, so compute stays
float32: the gain is in download size, not in speed. A graph exported in float16 end to end
(completion/export.py --fp16, on a CUDA machine) keeps a float16 KV cache too and can replace it.
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from provenance import sha256

FP16_FILE = 'model.fp16.onnx'
# The providers a float16 file is for (src/shared/models/manifest.ts lists the same by default).
GPU_PROVIDERS = ['cuda', 'webgpu', 'dml', 'coreml']
FP16_MAX = float(np.finfo(np.float16).max)

# Tolerances the parity tests apply to the fp16 graph on the CPU provider. Measured on the shipped
# models (test/unit/*-onnx-parity.test.ts print them): kestrel-py-tiny max |logit - PyTorch| 2.1e-3
# with the same argmax at all 49 positions (fp32 7.6e-6, int8 0.50); kestrel-embed-tiny worst cosine
# to PyTorch 1.000000 to six places. The margins leave room for a retrained model while still
# failing a file that is not this model's half-precision copy (an int8 graph misses them).
COMPLETION_TOLERANCE = {'max_abs': 0.05, 'min_argmax_agreement': 0.95}
EMBEDDING_MIN_COSINE = 0.999


def to_fp16(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """Stores each float32 initializer as float16 behind a Cast; returns the model and how many."""
    graph = model.graph
    for node in graph.node:
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute):
            raise SystemExit(f'{node.op_type} node {node.name!r} has a subgraph: not supported here')
    casts = []
    kept = []
    converted = 0
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT:
            kept.append(init)
            continue
        weights = numpy_helper.to_array(init)
        too_large = np.abs(weights) > FP16_MAX
        if too_large.any():
            raise SystemExit(f'initializer {init.name} has {int(too_large.sum())} values beyond float16 range')
        half = numpy_helper.from_array(weights.astype(np.float16), name=f'{init.name}.fp16')
        kept.append(half)
        casts.append(helper.make_node('Cast', [half.name], [init.name], name=f'{init.name}.to_fp32', to=TensorProto.FLOAT))
        converted += 1
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return model, converted


def update_json(path: str, change, dump) -> None:
    with open(path, encoding='utf-8') as handle:
        data = json.load(handle)
    change(data)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as handle:
        handle.write(dump(data))
    os.replace(tmp, path)


def convert_folder(folder: str) -> None:
    manifest_path = os.path.join(folder, 'kestrel.json')
    with open(manifest_path, encoding='utf-8') as handle:
        manifest = json.load(handle)
    fp32 = manifest['files']['fp32']
    source = os.path.join(folder, fp32['path'])
    target = os.path.join(folder, FP16_FILE)
    model, converted = to_fp16(onnx.load(source))
    onnx.save(model, target)
    entry = {'path': FP16_FILE, 'providers': GPU_PROVIDERS, 'bytes': os.path.getsize(target), 'sha256': sha256(target)}
    if 'pastDtype' in fp32:
        entry['pastDtype'] = fp32['pastDtype']  # the interface is model.onnx's, KV cache included

    def record(data):
        data['files']['fp16'] = entry

    # kestrel.json is written the way make_card.py writes it (two-space indent; trailing newline kept).
    with open(manifest_path, encoding='utf-8') as handle:
        newline = '\n' if handle.read().endswith('\n') else ''
    update_json(manifest_path, record, lambda d: json.dumps(d, indent=2, ensure_ascii=False) + newline)

    if manifest['kind'] == 'completion':
        def tolerate(data):
            data['tolerance']['fp16'] = COMPLETION_TOLERANCE
        update_json(os.path.join(folder, 'parity.json'), tolerate, json.dumps)
    else:
        def tolerate(data):
            data['tolerance']['fp16_min_cosine'] = EMBEDDING_MIN_COSINE
        update_json(os.path.join(folder, 'reference.json'), tolerate, lambda d: json.dumps(d, separators=(',', ':')))
    print(f'{target}: {converted} initializers in float16, {entry["bytes"] / 2**20:.1f} MB '
          f'(model.onnx {os.path.getsize(source) / 2**20:.1f} MB)')


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('folders', nargs='+', help='model folders holding kestrel.json and model.onnx')
    for folder in parser.parse_args(argv).folders:
        convert_folder(folder)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
