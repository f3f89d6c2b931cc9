import torch

from model import CONFIGS, GPT, GPTConfig

torch.set_num_threads(1)


def small_model(**kw):
    torch.manual_seed(0)
    args = dict(vocab_size=300, block_size=64, n_layer=2, n_head=4, n_kv_head=2, n_embd=32, ffn_hidden=64)
    args.update(kw)
    return GPT(GPTConfig(**args)).eval()


def test_shapes_and_loss():
    m = small_model()
    x = torch.randint(0, 300, (2, 10))
    logits, _, presents = m(x)
    assert logits.shape == (2, 10, 300)
    _, loss, _ = m(x, torch.randint(0, 300, (2, 10)))
    assert torch.isfinite(loss) and abs(loss.item() - torch.log(torch.tensor(300.0)).item()) < 0.5
    assert len(presents) == 2
    k, v = presents[0]
    assert k.shape == v.shape == (2, 2, 10, 8)  # (B, n_kv_head, T, head_dim)


def test_tied_embeddings():
    m = small_model()
    assert m.lm_head.weight is m.embed.weight
    assert m.num_params() == sum(p.numel() for p in m.parameters())


def test_config_sizes():
    tiny = GPT(GPTConfig(**CONFIGS['tiny']))
    small = GPT(GPTConfig(**CONFIGS['small']))
    assert 2e6 < tiny.num_params(non_embedding=True) < 8e6  # a few million
    assert 25e6 < small.num_params() < 40e6  # about 30M
    for c in CONFIGS.values():
        assert c['n_head'] % c['n_kv_head'] == 0 and c['n_kv_head'] < c['n_head']  # GQA
    assert GPTConfig().block_size == 2048


def test_kv_cache_incremental_equals_full_forward():
    m = small_model()
    x = torch.randint(0, 300, (2, 16))
    with torch.no_grad():
        full, _, _ = m(x)
        # empty cache first (past length 0), then chunks of 5, then single tokens
        empty = [(torch.zeros(2, 2, 0, 8), torch.zeros(2, 2, 0, 8)) for _ in range(2)]
        a, _, past = m(x[:, :5], past_key_values=empty)
        b, _, past = m(x[:, 5:10], past_key_values=past)
        outs = [a, b]
        for t in range(10, 16):
            o, _, past = m(x[:, t:t + 1], past_key_values=past, position_ids=torch.full((2, 1), t))
            outs.append(o)
    inc = torch.cat(outs, dim=1)
    assert torch.allclose(inc, full, atol=1e-5), (inc - full).abs().max()
    assert past[0][0].shape == (2, 2, 16, 8)


def test_attention_mask_hides_left_padding():
    m = small_model()
    x = torch.randint(0, 300, (1, 6))
    pad = torch.cat([torch.zeros(1, 3, dtype=torch.long), x], dim=1)
    mask = torch.cat([torch.zeros(1, 3, dtype=torch.long), torch.ones(1, 6, dtype=torch.long)], dim=1)
    with torch.no_grad():
        ref, _, _ = m(x)
        out, _, _ = m(pad, attention_mask=mask, position_ids=torch.cat([torch.zeros(1, 3, dtype=torch.long),
                                                                         torch.arange(6)[None]], dim=1))
    assert torch.allclose(out[:, 3:], ref, atol=1e-5)


def test_gqa_matches_explicit_repeat():
    """Grouped attention (broadcast) equals attention with K/V heads repeated per query head."""
    from model import apply_rope, rope_cos_sin
    import math
    m = small_model()
    attn = m.blocks[0].attn
    x = torch.randn(1, 7, 32)
    cos, sin = rope_cos_sin(torch.arange(7)[None], 8, 10000.0)
    with torch.no_grad():
        y, _ = attn(x, cos, sin, mask=torch.ones(1, 1, 7, 7, dtype=torch.bool).tril())
        q = apply_rope(attn.q_proj(x).view(1, 7, 4, 8).transpose(1, 2), cos, sin)
        k = apply_rope(attn.k_proj(x).view(1, 7, 2, 8).transpose(1, 2), cos, sin).repeat_interleave(2, 1)
        v = attn.v_proj(x).view(1, 7, 2, 8).transpose(1, 2).repeat_interleave(2, 1)
        att = (q @ k.transpose(-1, -2) / math.sqrt(8)).masked_fill(~torch.ones(7, 7, dtype=torch.bool).tril(), -1e9)
        ref = attn.o_proj((att.softmax(-1) @ v).transpose(1, 2).reshape(1, 7, 32))
    assert torch.allclose(y, ref, atol=1e-5)


def test_training_step_reduces_loss():
    m = small_model().train()
    opt = m.configure_optimizer(0.1, 3e-3, (0.9, 0.95), 'cpu')
    x = torch.randint(0, 300, (4, 16))
    first = None
    for _ in range(20):
        _, loss, _ = m(x[:, :-1], x[:, 1:])
        first = first or loss.item()
        loss.backward()
        opt.step()
        opt.zero_grad()
    assert loss.item() < first - 1.0


def test_chunked_loss_equals_plain_cross_entropy_and_its_gradient():
    from model import linear_cross_entropy
    torch.manual_seed(1)
    x = torch.randn(37, 16, dtype=torch.float64, requires_grad=True)
    w = torch.randn(50, 16, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 50, (37,))
    t[[3, 20]] = -1  # ignored rows count neither in the loss nor in the mean
    plain = torch.nn.functional.cross_entropy(x @ w.t(), t, ignore_index=-1)
    gx, gw = torch.autograd.grad(plain * 3, (x, w))
    for chunk in (1, 8, 37, 100):  # chunks that divide the rows, that do not, and one chunk
        fused = linear_cross_entropy(x, w, t, chunk_rows=chunk)
        fx, fw = torch.autograd.grad(fused * 3, (x, w))
        assert torch.allclose(fused, plain, atol=1e-12)
        assert torch.allclose(fx, gx, atol=1e-12) and torch.allclose(fw, gw, atol=1e-12)


def test_training_attention_path_equals_the_export_path():
    from model import causal_mask
    m = small_model(n_head=4, n_kv_head=2)
    x = torch.randint(0, 300, (2, 12))
    with torch.no_grad():
        fast, _, _ = m(x)  # no mask, no cache: the training path
        general, _, _ = m(x, attention_mask=torch.ones(2, 12, dtype=torch.long))  # the export path
    assert torch.allclose(fast, general, atol=1e-5), (fast - general).abs().max()
    assert causal_mask(3, 3, 'cpu').sum() == 6
