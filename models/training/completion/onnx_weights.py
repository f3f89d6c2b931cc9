"""
The shipped model's weights, read back from its fp32 ONNX file into a PyTorch state dict, so that
training continues from what shipped when no checkpoint is at hand (a new machine, a lost cache).

export.py writes the graph with torch.onnx: norm weights and the embedding keep their parameter
names (prefixed `model.`), while each Linear weight becomes an anonymous initializer feeding a MatMul
node named after its module (`/model/blocks.0/attn/q_proj/MatMul`), stored transposed (in, out).
The tied output projection is a Transpose of the embedding and needs nothing of its own.
"""

import json
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from model import GPT, GPTConfig


def model_args_from_manifest(model_dir):
    """GPTConfig arguments from a model folder's kestrel.json (architecture, else training record)."""
    with open(os.path.join(model_dir, 'kestrel.json')) as f:
        manifest = json.load(f)
    args = manifest.get('training', {}).get('modelArgs')
    if args:
        return dict(args)
    a = manifest['architecture']
    return {'n_layer': a['numLayers'], 'n_head': a['numHeads'], 'n_kv_head': a['numKvHeads'],
            'n_embd': a['hiddenSize'], 'vocab_size': a['vocabSize']}


def state_dict_from_onnx(path, shapes):
    """{parameter name: tensor} for the parameters named in shapes ({name: shape}) found in the graph.

    torch.onnx merges initializers of equal value (a fresh model's norm weights are all ones) and
    leaves an Identity node named like each merged parameter; a parameter is also found through the
    nodes of its module: /model/<module>/<op> reading an initializer of the parameter's shape
    (transposed, for a MatMul)."""
    graph = onnx.load(path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:  # merged copies are Identity nodes named like the parameter they stand for
        if node.op_type == 'Identity' and node.input[0] in inits:
            inits[node.output[0]] = inits[node.input[0]]
    state = {}
    for name, value in inits.items():
        if name.startswith('model.') and name[len('model.'):] in shapes:
            state[name[len('model.'):]] = torch.from_numpy(np.array(value))
    for node in graph.node:
        if not node.name.startswith('/model/'):
            continue
        param = node.name[len('/model/'):].rsplit('/', 1)[0].replace('/', '.') + '.weight'
        if param in state or param not in shapes:
            continue
        for x in node.input:
            value = inits.get(x)
            if value is None:
                continue
            value = value.T if node.op_type == 'MatMul' else value
            if tuple(value.shape) == tuple(shapes[param]):
                state[param] = torch.from_numpy(np.array(value))
    return state


def model_from_onnx(model_dir, file='model.onnx'):
    """(GPT with the shipped weights, its model args). Fails loudly if any parameter is missing."""
    model_args = model_args_from_manifest(model_dir)
    model = GPT(GPTConfig(**model_args))
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    state = state_dict_from_onnx(os.path.join(model_dir, file), shapes)
    state['lm_head.weight'] = state['embed.weight']  # tied
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f'{model_dir}/{file} does not match the model: missing {missing}, unexpected {unexpected}')
    return model, model_args
