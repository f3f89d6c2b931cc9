"""
int8 weights for an exported ONNX graph, done on the graph itself (no onnxruntime in Python here).

The rewrite is ONNX Runtime's dynamic quantisation, spelled out:
  MatMul(X, W)  with W a float initializer [K, N]
    -> DynamicQuantizeLinear(X) -> (Xq uint8, sx, zx)          activations: per tensor, at run time
       MatMulInteger(Xq, Wq int8 [K, N], zx, zw = 0 [N]) -> int32
       Cast(float) * (sx * sw[N])                               weights: symmetric, per column
  Gather(E, ids)  with E a float initializer [V, C] (the token embedding table)
    -> Gather(Eq int8, ids) -> Cast(float) * Gather(se [V, 1], ids)   symmetric, per row
Everything else (LayerNorm, softmax, attention's activation x activation matmuls, small tables
under min_elements) stays float32. Weights shrink ~4x; one DynamicQuantizeLinear is shared by all
MatMuls that read the same tensor.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _sym_int8(w, axis):
    """Symmetric int8 quantisation along `axis` (the reduced axis is the other one). Returns (q, scale)."""
    amax = np.abs(w).max(axis=axis, keepdims=True)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    return q, scale


def quantize_int8(model, min_elements=65536):
    """model: onnx.ModelProto (fp32). Returns a new ModelProto with int8 MatMul weights and embedding table."""
    model = onnx.ModelProto.FromString(model.SerializeToString())  # work on a copy
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    uses = {}
    for n in g.node:
        for i in n.input:
            uses[i] = uses.get(i, 0) + 1
    new_nodes, dq_cache, drop = [], {}, set()
    counter = [0]

    def name(base):
        counter[0] += 1
        return f'{base}_q{counter[0]}'

    def add_init(arr, nm):
        g.initializer.append(numpy_helper.from_array(arr, nm))
        return nm

    for n in g.node:
        if n.op_type == 'MatMul' and n.input[1] in inits and uses[n.input[1]] == 1:
            w = numpy_helper.to_array(inits[n.input[1]])
            if w.ndim == 2 and w.dtype == np.float32 and w.size >= min_elements:
                q, s = _sym_int8(w, axis=0)  # per column: scale shape (1, N)
                wq = add_init(q, name(n.input[1]))
                ws = add_init(s.reshape(-1), name(n.input[1] + '_scale'))
                wz = add_init(np.zeros(w.shape[1], dtype=np.int8), name(n.input[1] + '_zero'))
                x = n.input[0]
                if x not in dq_cache:
                    xq, xs, xz = name(x), name(x + '_scale'), name(x + '_zero')
                    new_nodes.append(helper.make_node('DynamicQuantizeLinear', [x], [xq, xs, xz], name=name('dql')))
                    dq_cache[x] = (xq, xs, xz)
                xq, xs, xz = dq_cache[x]
                acc, accf, sc = name('acc'), name('accf'), name('scale')
                new_nodes += [
                    helper.make_node('MatMulInteger', [xq, wq, xz, wz], [acc], name=name('mmi')),
                    helper.make_node('Cast', [acc], [accf], to=TensorProto.FLOAT, name=name('cast')),
                    helper.make_node('Mul', [xs, ws], [sc], name=name('mul')),
                    helper.make_node('Mul', [accf, sc], [n.output[0]], name=name('mul')),
                ]
                drop.add(n.input[1])
                continue
        if n.op_type == 'Gather' and n.input[0] in inits and uses[n.input[0]] == 1:
            e = numpy_helper.to_array(inits[n.input[0]])
            if e.ndim == 2 and e.dtype == np.float32 and e.size >= min_elements:
                q, s = _sym_int8(e, axis=1)  # per row: scale shape (V, 1)
                eq = add_init(q, name(n.input[0]))
                es = add_init(s, name(n.input[0] + '_scale'))
                rows, rowsf, rs = name('rows'), name('rowsf'), name('rowscale')
                new_nodes += [
                    helper.make_node('Gather', [eq, n.input[1]], [rows], axis=0, name=name('gather')),
                    helper.make_node('Cast', [rows], [rowsf], to=TensorProto.FLOAT, name=name('cast')),
                    helper.make_node('Gather', [es, n.input[1]], [rs], axis=0, name=name('gather')),
                    helper.make_node('Mul', [rowsf, rs], [n.output[0]], name=name('mul')),
                ]
                drop.add(n.input[0])
                continue
        new_nodes.append(n)
    del g.node[:]
    g.node.extend(new_nodes)
    keep = [t for t in g.initializer if t.name not in drop]
    del g.initializer[:]
    g.initializer.extend(keep)
    # shapes inferred for the fp32 graph no longer hold for replaced outputs
    del g.value_info[:]
    onnx.checker.check_model(model)
    return model
