"""
Kestrel's Python completion model: a decoder-only transformer, read top to bottom.

Building blocks are those of current small code models:
- RMSNorm (Zhang & Sennrich 2019) before attention and MLP (pre-norm),
- rotary position embeddings, RoPE (Su et al. 2021), in the rotate-half layout,
- grouped-query attention, GQA (Ainslie et al. 2023): few KV heads shrink the KV cache that every
  decode step reads,
- SwiGLU MLP (Shazeer 2020),
- tied input/output embeddings (Press & Wolf 2017).

The forward pass takes an optional KV cache, positions and a padding mask, which is what the ONNX
decoder-with-past export needs; training calls it with token ids (and targets) only.
Runs on PyTorch 1.13 (manual attention) and 2.x (scaled_dot_product_attention when no cache).
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

HAS_SDPA = hasattr(F, 'scaled_dot_product_attention')


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        # statistics in fp32 even under bf16 autocast
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return xf.type_as(x) * self.weight


def rope_cos_sin(position_ids, head_dim, theta):
    """position_ids (B, T) -> cos, sin (B, 1, T, head_dim), computed on the fly (exportable)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, device=position_ids.device).float() / head_dim))
    freqs = position_ids[:, :, None].float() * inv_freq[None, None, :]  # (B, T, hd/2)
    emb = torch.cat((freqs, freqs), dim=-1)  # (B, T, hd)
    return emb.cos()[:, None], emb.sin()[:, None]


def apply_rope(x, cos, sin):
    # x (B, nh, T, hd): rotate the two halves of each head
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)  # angles are computed in fp32; keep fp16/bf16 graphs in their type
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        assert cfg.n_embd % cfg.n_head == 0 and cfg.n_head % cfg.n_kv_head == 0
        self.n_head, self.n_kv_head = cfg.n_head, cfg.n_kv_head
        self.head_dim = cfg.n_embd // cfg.n_head
        self.q_proj = nn.Linear(cfg.n_embd, cfg.n_head * self.head_dim, bias=False)
        self.k_proj = nn.Linear(cfg.n_embd, cfg.n_kv_head * self.head_dim, bias=False)
        self.v_proj = nn.Linear(cfg.n_embd, cfg.n_kv_head * self.head_dim, bias=False)
        self.o_proj = nn.Linear(cfg.n_head * self.head_dim, cfg.n_embd, bias=False)

    def forward(self, x, cos, sin, past=None, mask=None):
        B, T, C = x.shape
        hd = self.head_dim
        q = self.q_proj(x).view(B, T, self.n_head, hd).transpose(1, 2)  # (B, nh, T, hd)
        k = self.k_proj(x).view(B, T, self.n_kv_head, hd).transpose(1, 2)  # (B, nkv, T, hd)
        v = self.v_proj(x).view(B, T, self.n_kv_head, hd).transpose(1, 2)  # (B, nkv, T, hd)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if past is not None:
            k = torch.cat((past[0], k), dim=2)  # (B, nkv, P+T, hd)
            v = torch.cat((past[1], v), dim=2)
        present = (k, v)
        # GQA: each KV head serves rep = n_head // n_kv_head query heads (query head h uses KV head h // rep)
        rep = self.n_head // self.n_kv_head
        if mask is None and past is None and HAS_SDPA:  # training on PyTorch 2.x
            if rep > 1:
                k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)  # (B, nh, T, hd)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        elif mask is None and past is None:  # training on PyTorch 1.x (CPU)
            y = causal_attention_bmm(q, k, v, rep)
        else:
            # group the query heads by KV head and broadcast K/V instead of copying them: this is the
            # path the ONNX export takes, and decode steps then read the cache once
            S = k.shape[2]
            qg = q.reshape(B, self.n_kv_head, rep, T, hd)  # (B, nkv, rep, T, hd)
            att = (qg @ k.unsqueeze(2).transpose(-2, -1)) * (1.0 / math.sqrt(hd))  # (B, nkv, rep, T, S)
            if mask is None:
                mask = causal_mask(T, S, x.device)
            # finite fill: a fully masked row (a left-padding query) stays finite instead of NaN
            att = att.masked_fill(~mask.unsqueeze(1), torch.finfo(att.dtype).min)  # mask (B|1, 1, 1, T, S)
            att = F.softmax(att.float(), dim=-1).type_as(q)
            y = (att @ v.unsqueeze(2)).reshape(B, self.n_head, T, hd)  # (B, nh, T, hd)
        y = y.transpose(1, 2).contiguous().view(B, T, self.n_head * hd)
        return self.o_proj(y), present


def causal_attention_bmm(q, k, v, rep):
    """Causal GQA attention as three batched matrix products: the rep query heads of one KV head are
    stacked along the rows, so K and V are read as they are (no broadcast copies), and scaling plus the
    causal mask are one fused baddbmm with an additive mask. Same result as the general path below.
    q (B, nh, T, hd), k and v (B, nkv, T, hd) -> (B, nh, T, hd)."""
    B, nh, T, hd = q.shape
    nkv = k.shape[1]
    qr = q.reshape(B * nkv, rep * T, hd)  # query rows grouped by KV head
    bias = additive_causal_mask(T, q.device, q.dtype).repeat(rep, 1)  # (rep*T, T)
    att = torch.baddbmm(bias, qr, k.reshape(B * nkv, T, hd).transpose(1, 2), alpha=1.0 / math.sqrt(hd))
    att = F.softmax(att, dim=-1)  # (B*nkv, rep*T, T)
    return torch.bmm(att, v.reshape(B * nkv, T, hd)).view(B, nh, T, hd)


_MASKS = {}


def additive_causal_mask(T, device, dtype):
    key = (T, device, dtype)
    if key not in _MASKS:
        _MASKS[key] = torch.full((T, T), float('-inf'), device=device, dtype=dtype).triu_(1)
    return _MASKS[key]


def causal_mask(T, S, device, attention_mask=None):
    """Boolean (B|1, 1, T, S): query t (at absolute position S-T+t) sees key s <= S-T+t and s unpadded."""
    q_pos = torch.arange(T, device=device)[:, None] + (S - T)
    k_pos = torch.arange(S, device=device)[None, :]
    m = (k_pos <= q_pos)[None, None]  # (1, 1, T, S)
    if attention_mask is not None:
        m = m & attention_mask[:, None, None, :].bool()  # (B, 1, T, S)
    return m


class LinearCrossEntropy(torch.autograd.Function):
    """Mean cross-entropy of x @ weight.T against targets, in chunks of rows, without ever holding the
    float32 logits (or log-softmax) of the whole batch: at 16k vocabulary those are 64 KB a token, and
    writing and reading them back cost more than the output matmul itself on a CPU.

    The loss is the end of the graph, so the gradient of each chunk's logits (softmax - onehot) is known
    in the forward pass: it is turned into the gradients of x and weight right away (the two matmuls the
    backward pass would do anyway) and the chunk's logits are dropped. Backward only scales them.
    Rows whose target is ignore_index (-1) count neither in the loss nor in the mean.
    """

    @staticmethod
    def forward(ctx, x, weight, targets, chunk_rows):
        # x (N, C), weight (V, C), targets (N,)
        n_valid = (targets != -1).sum().clamp(min=1)
        loss = x.new_zeros(())
        grad_x = torch.empty_like(x) if ctx.needs_input_grad[0] else None
        grad_w = torch.zeros_like(weight) if ctx.needs_input_grad[1] else None
        for i in range(0, x.shape[0], chunk_rows):
            xc, tc = x[i:i + chunk_rows], targets[i:i + chunk_rows]
            logits = xc @ weight.t()  # (c, V)
            keep = tc != -1
            tk = tc.clamp(min=0)[:, None]
            lse = torch.logsumexp(logits, dim=-1)  # (c,)
            loss += ((lse - logits.gather(1, tk)[:, 0]) * keep).sum()
            if grad_x is None and grad_w is None:
                continue
            g = logits.sub_(lse[:, None]).exp_()  # softmax, in place of the logits
            g.scatter_add_(1, tk, -torch.ones_like(tk, dtype=g.dtype))
            g.mul_((keep.to(g.dtype) / n_valid)[:, None])
            if grad_x is not None:
                torch.mm(g, weight, out=grad_x[i:i + chunk_rows])
            if grad_w is not None:
                grad_w.addmm_(g.t(), xc)
        ctx.save_for_backward(grad_x, grad_w)
        return loss / n_valid

    @staticmethod
    def backward(ctx, grad_out):
        grad_x, grad_w = ctx.saved_tensors
        return (None if grad_x is None else grad_x * grad_out,
                None if grad_w is None else grad_w * grad_out, None, None)


def linear_cross_entropy(x, weight, targets, chunk_rows=512):
    """F.cross_entropy(x @ weight.T, targets, ignore_index=-1) for 2-D x, computed chunk by chunk."""
    return LinearCrossEntropy.apply(x, weight, targets, chunk_rows)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gate = nn.Linear(cfg.n_embd, cfg.ffn_hidden, bias=False)
        self.up = nn.Linear(cfg.n_embd, cfg.ffn_hidden, bias=False)
        self.down = nn.Linear(cfg.ffn_hidden, cfg.n_embd, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.mlp_norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, past=None, mask=None):
        a, present = self.attn(self.attn_norm(x), cos, sin, past, mask)
        x = x + a
        x = x + self.mlp(self.mlp_norm(x))
        return x, present


@dataclass
class GPTConfig:
    vocab_size: int = 16384
    block_size: int = 2048  # longest context the model is built for
    n_layer: int = 6
    n_head: int = 8
    n_kv_head: int = 2
    n_embd: int = 256
    ffn_hidden: int = 704  # ~8/3 * n_embd, a multiple of 64
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5


CONFIGS = {
    # ~4.2M non-embedding + 4.2M embedding parameters: trains on one CPU core in under an hour
    'tiny': dict(n_layer=6, n_head=8, n_kv_head=2, n_embd=256, ffn_hidden=704),
    # the tiny shape's rivals for the CPU run, compared at equal CPU time (README): deeper and
    # narrower (same compute per token, a 25% smaller embedding), and one KV head (half the KV cache
    # each decode step reads, the saved parameters moved to the MLP)
    'tiny-deep': dict(n_layer=12, n_head=6, n_kv_head=2, n_embd=192, ffn_hidden=512),
    'tiny-mqa': dict(n_layer=6, n_head=8, n_kv_head=1, n_embd=256, ffn_hidden=768),
    # ~22.5M non-embedding + 8.4M embedding parameters (~31M): the accelerator-trained model
    'small': dict(n_layer=8, n_head=8, n_kv_head=2, n_embd=512, ffn_hidden=1408),
}


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.embed.weight  # tied
        self.apply(self._init_weights)
        # scaled init of residual projections (GPT-2)
        for name, p in self.named_parameters():
            if name.endswith('o_proj.weight') or name.endswith('down.weight'):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    def _init_weights(self, m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def num_params(self, non_embedding=False):
        n = sum(p.numel() for p in self.parameters())  # tied weights counted once
        return n - self.embed.weight.numel() if non_embedding else n

    def forward(self, idx, targets=None, past_key_values=None, position_ids=None, attention_mask=None):
        """
        idx (B, T) token ids; targets (B, T) or None.
        past_key_values: list of (k, v), each (B, n_kv_head, P, head_dim), or None.
        position_ids (B, T): defaults to P..P+T-1. attention_mask (B, P+T): 1 = real token.
        Returns logits (B, T, V), loss or None, presents (list of (k, v) with P+T positions).
        """
        B, T = idx.shape
        P = 0 if past_key_values is None else past_key_values[0][0].shape[2]
        if position_ids is None:
            position_ids = (torch.arange(T, device=idx.device) + P)[None].expand(B, T)
        hd = self.cfg.n_embd // self.cfg.n_head
        cos, sin = rope_cos_sin(position_ids, hd, self.cfg.rope_theta)
        mask = None
        if attention_mask is not None or past_key_values is not None:
            mask = causal_mask(T, P + T, idx.device, attention_mask)
        x = self.embed(idx)  # (B, T, C)
        presents = []
        for i, block in enumerate(self.blocks):
            x, present = block(x, cos, sin, None if past_key_values is None else past_key_values[i], mask)
            presents.append(present)
        x = self.norm(x)
        if targets is not None and x.device.type == 'cpu' and x.dtype == torch.float32:
            # training and evaluation on the CPU: the loss without the batch's logits (None is returned)
            loss = linear_cross_entropy(x.reshape(B * T, -1), self.lm_head.weight, targets.reshape(-1))
            return None, loss, presents
        logits = self.lm_head(x)  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss, presents

    def configure_optimizer(self, weight_decay, lr, betas, device_type):
        # decay matrices (and the embedding), not norms
        decay = [p for p in self.parameters() if p.dim() >= 2]
        no_decay = [p for p in self.parameters() if p.dim() < 2]
        groups = [{'params': decay, 'weight_decay': weight_decay}, {'params': no_decay, 'weight_decay': 0.0}]
        extra = {'fused': True} if device_type == 'cuda' and 'fused' in torch.optim.AdamW.__init__.__code__.co_varnames else {}
        return torch.optim.AdamW(groups, lr=lr, betas=betas, **extra)
