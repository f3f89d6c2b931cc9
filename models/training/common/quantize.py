"""
int8 weights for a Kestrel ONNX decoder, done directly on the ONNX graph (no onnxruntime needed).

- Every MatMul whose right operand is a 2-D float initializer W (K, N) gets per-column symmetric
  int8 weights Wq = round(W / s), s[n] = max|W[:, n]| / 127, and becomes
    mode 'dynamic' (default): DynamicQuantizeLinear(A) -> MatMulInteger(Aq, Wq, Azp, 0) -> Cast
                              -> Mul(A_scale) -> Mul(s)
                              (the pattern ONNX Runtime's own dynamic quantization emits, which
                              onnxruntime fuses into an int8 GEMM: fast on CPU)
    mode 'weight-only':       DequantizeLinear(Wq, s, axis=1) -> MatMul(A, W')
                              (more exact: activations stay float)
- The embedding table (Gather) is stored as int8 with one scale per row, dequantized after the
  Gather (only the looked-up rows are touched). The tied output projection reuses that int8 table
  through a Transpose, so the largest matrix is stored once.
"""

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def _inits(model):
    return {t.name: t for t in model.graph.initializer}


def dedupe_tied_head(model):
    """torch.onnx folds the tied head's W^T into a second copy of the embedding: point it back."""
    g = model.graph
    inits = _inits(model)
    gathers = [n for n in g.node if n.op_type == 'Gather' and n.input[0] in inits]
    if not gathers:
        return model
    emb_name = gathers[0].input[0]
    emb = numpy_helper.to_array(inits[emb_name])
    for node in g.node:
        if node.op_type != 'MatMul' or node.input[1] not in inits or node.input[1] == emb_name:
            continue
        w = inits[node.input[1]]
        if tuple(w.dims) != (emb.shape[1], emb.shape[0]):
            continue
        if not np.array_equal(numpy_helper.to_array(w), emb.T):
            continue
        t_out = emb_name + '_transposed'
        g.node.insert(list(g.node).index(node), helper.make_node('Transpose', [emb_name], [t_out], perm=[1, 0],
                                                               name='tied_head_transpose'))
        old = node.input[1]
        node.input[1] = t_out
        if not any(old in n.input for n in g.node):
            g.initializer.remove(inits[old])
    return model


def _q_per_axis(w, axis):
    """Symmetric int8 along axis (scale per index of that axis)."""
    amax = np.abs(w).max(axis=1 - axis, keepdims=True)
    scale = np.maximum(amax, 1e-8) / 127.0
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    return q, scale.reshape(-1).astype(np.float32)


def quantize_int8(model, mode='dynamic'):
    assert mode in ('dynamic', 'weight-only')
    g = model.graph
    inits = _inits(model)
    new_nodes, new_inits, drop = [], [], set()
    dql_done = set()
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    # embedding: int8 table, per-row scale
    emb_name, emb_q_name = None, None
    gathers = [n for n in g.node if n.op_type == 'Gather' and n.input[0] in inits]
    if gathers:
        emb_name = gathers[0].input[0]
        emb = numpy_helper.to_array(inits[emb_name]).astype(np.float32)
        q, s = _q_per_axis(emb, axis=0)  # scale per row (token)
        emb_q_name, emb_s_name = emb_name + '_int8', emb_name + '_row_scale'
        new_inits += [numpy_helper.from_array(q, emb_q_name), numpy_helper.from_array(s, emb_s_name)]
        drop.add(emb_name)

    for node in list(g.node):
        if node.op_type == 'Gather' and node.input[0] == emb_name:
            ids, out = node.input[1], node.output[0]
            p = out + '_q'
            new_nodes.append((node, [
                helper.make_node('Gather', [emb_q_name, ids], [p + 'rows'], axis=0),
                helper.make_node('Cast', [p + 'rows'], [p + 'rowsf'], to=TensorProto.FLOAT),
                helper.make_node('Gather', [emb_s_name, ids], [p + 's'], axis=0),
                helper.make_node('Unsqueeze', [p + 's', p + 'ax'], [p + 's1']),
                helper.make_node('Mul', [p + 'rowsf', p + 's1'], [out]),
            ]))
            new_inits.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), p + 'ax'))
        elif node.op_type == 'Transpose' and node.input[0] == emb_name:
            # tied head: transpose the int8 table; its per-row scales are the head's per-column scales
            out = node.output[0]
            new_nodes.append((node, [helper.make_node('Transpose', [emb_q_name], [out + '_int8'], perm=[1, 0])]))
            _retarget_head(g, out, out + '_int8', emb_s_name, mode, new_nodes, new_inits, consumers)
        elif node.op_type == 'MatMul' and node.input[1] in inits and node.input[1] != emb_name:
            w = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
            if w.ndim != 2:
                continue
            q, s = _q_per_axis(w, axis=1)  # scale per output column
            qn, sn = node.input[1] + '_int8', node.input[1] + '_col_scale'
            new_inits += [numpy_helper.from_array(q, qn), numpy_helper.from_array(s, sn)]
            drop.add(node.input[1])
            new_nodes.append((node, _matmul_int8(node.input[0], qn, sn, node.output[0], q.shape[1], mode, new_inits,
                                                 dql_done)))

    # splice replacements in place (keeps topological order)
    rebuilt = []
    repl = {id(old): nodes for old, nodes in new_nodes}
    for n in g.node:
        rebuilt.extend(repl.get(id(n), [n]))
    del g.node[:]
    g.node.extend(rebuilt)
    for t in list(g.initializer):
        if t.name in drop:
            g.initializer.remove(t)
    g.initializer.extend(new_inits)
    # DynamicQuantizeLinear / MatMulInteger / DequantizeLinear(axis) need opset >= 13
    for imp in model.opset_import:
        if imp.domain in ('', 'ai.onnx') and imp.version < 13:
            imp.version = 13
    onnx.checker.check_model(model)
    return model


def _matmul_int8(a, wq, ws, out, n_cols, mode, new_inits, dql_done=None):
    p = out + '_q'
    if mode == 'weight-only':
        zp = p + 'wzp'
        new_inits.append(numpy_helper.from_array(np.zeros(n_cols, dtype=np.int8), zp))
        return [helper.make_node('DequantizeLinear', [wq, ws, zp], [p + 'w'], axis=1),
                helper.make_node('MatMul', [a, p + 'w'], [out])]
    zp = p + 'wzp'
    new_inits.append(numpy_helper.from_array(np.zeros(n_cols, dtype=np.int8), zp))
    # one DynamicQuantizeLinear per activation, shared by the products that read it (q, k, v; gate, up)
    aq = a + '_dq'
    head = [] if dql_done is not None and a in dql_done else \
        [helper.make_node('DynamicQuantizeLinear', [a], [aq, aq + '_scale', aq + '_zp'])]
    if dql_done is not None:
        dql_done.add(a)
    return head + [
            helper.make_node('MatMulInteger', [aq, wq, aq + '_zp', zp], [p + 'i32']),
            # Mul(Cast(int32), a_scale * w_scale): the shape onnxruntime fuses into MatMulIntegerToFloat
            helper.make_node('Mul', [aq + '_scale', ws], [p + 'scale']),
            helper.make_node('Cast', [p + 'i32'], [p + 'f'], to=TensorProto.FLOAT),
            helper.make_node('Mul', [p + 'f', p + 'scale'], [out])]


def _retarget_head(g, old_w, wq, ws, mode, new_nodes, new_inits, consumers):
    for node in consumers.get(old_w, []):
        if node.op_type == 'MatMul' and node.input[1] == old_w:
            n_cols = None  # vocabulary size: the scale vector's length
            for t in new_inits:
                if t.name == ws:
                    n_cols = t.dims[0]
            new_nodes.append((node, _matmul_int8(node.input[0], wq, ws, node.output[0], n_cols, mode, new_inits)))
