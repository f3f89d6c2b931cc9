"""
Kestrel's code-search embedder: a small bidirectional transformer encoder, read top to bottom.

One set of weights embeds both queries and code; the first token of every input is a type marker
(<|query|> or <|code|>, added to the code tokenizer as special tokens), so the encoder knows which
side it is on (the CodeSearchNet "one encoder" setting, with the SimCSE recipe of Gao et al. 2021:
in-batch negatives, low temperature).

  token + learned absolute position embeddings, LayerNorm -> n_layer pre-LayerNorm blocks (bidirectional
  self-attention with a key padding mask, GELU MLP) -> final LayerNorm -> mean over real tokens
  -> L2 normalisation.

Pooling and normalisation are part of forward(), so the exported ONNX graph is exactly the model
contract: (input_ids, attention_mask) -> embeddings [batch, n_embd], unit length.
Written for torch 1.13 and torch.onnx (opset 14): attention is spelled out with matmuls.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


class SelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        assert cfg.n_embd % cfg.n_head == 0
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, bias):
        # x (B, T, C); bias (B, 1, 1, T): 0 for real keys, a large negative number for padding
        B, T, C = x.shape
        hd = C // self.n_head
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, hd).transpose(1, 2)  # (B, nh, T, hd)
        k = k.view(B, T, self.n_head, hd).transpose(1, 2)  # (B, nh, T, hd)
        v = v.view(B, T, self.n_head, hd).transpose(1, 2)  # (B, nh, T, hd)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd)) + bias  # (B, nh, T, T)
        att = self.drop(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).reshape(B, T, C)  # (B, T, C)
        return self.drop(self.proj(y))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc = nn.Linear(cfg.n_embd, cfg.ffn_hidden)
        self.proj = nn.Linear(cfg.ffn_hidden, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.drop(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.attn = SelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = MLP(cfg)

    def forward(self, x, bias):
        x = x + self.attn(self.ln1(x), bias)
        return x + self.mlp(self.ln2(x))


@dataclass
class EncoderConfig:
    vocab_size: int = 16386  # the code tokenizer's 16,384 + the two type markers
    max_len: int = 256  # longest input, type marker included (code side; queries use 64)
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256  # also the output dimension
    ffn_hidden: int = 768
    dropout: float = 0.1


CONFIGS = {
    # ~2.4M non-embedding parameters: trains on one CPU core, embeds > 100 chunks/s on two
    'tiny': dict(n_layer=3, n_head=4, n_embd=256, ffn_hidden=768),
    # ~11M non-embedding parameters: the accelerator-trained variant
    'small': dict(n_layer=6, n_head=6, n_embd=384, ffn_hidden=1536),
}


def mean_pool_normalize(h, attention_mask):
    """h (B, T, C), attention_mask (B, T) of 0/1 -> unit vectors (B, C): mean over real tokens."""
    m = attention_mask.to(h.dtype).unsqueeze(-1)  # (B, T, 1)
    summed = (h * m).sum(dim=1)  # (B, C)
    count = m.sum(dim=1).clamp(min=1.0)  # (B, 1); an all-padding row gives a zero sum, not NaN
    pooled = summed / count
    # x / max(|x|, eps), the F.normalize formula, spelled out so the graph is plain ONNX ops
    return pooled / pooled.norm(p=2, dim=-1, keepdim=True).clamp(min=1e-12)


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.pos_emb = nn.Embedding(cfg.max_len, cfg.n_embd)
        self.ln_emb = nn.LayerNorm(cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # scaled init of residual projections (GPT-2)
            if name.endswith('proj.weight'):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    def _init_weights(self, m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def num_params(self, non_embedding=False):
        n = sum(p.numel() for p in self.parameters())
        return n - self.tok_emb.weight.numel() - self.pos_emb.weight.numel() if non_embedding else n

    def forward(self, input_ids, attention_mask):
        """input_ids, attention_mask (B, T) int64, T <= max_len -> embeddings (B, n_embd), unit length."""
        B, T = input_ids.shape
        pos = torch.arange(T, device=input_ids.device)  # (T,)
        # LayerNorm on the embeddings (as BERT): the residual stream starts at unit scale. Without it the
        # 0.02-scale embeddings are swamped by the one direction every GELU MLP adds to every token
        # (GELU's positive mean), and all inputs pool to nearly the same vector (cosine ~0.99)
        x = self.drop(self.ln_emb(self.tok_emb(input_ids) + self.pos_emb(pos)[None]))  # (B, T, C)
        # additive key mask; -1e4 rather than -inf keeps fully padded rows finite in fp16 and ONNX
        bias = (1.0 - attention_mask.to(x.dtype))[:, None, None, :] * -1e4  # (B, 1, 1, T)
        for block in self.blocks:
            x = block(x, bias)
        return mean_pool_normalize(self.ln_f(x), attention_mask)

    def configure_optimizer(self, weight_decay, lr, betas):
        decay = [p for n, p in self.named_parameters() if p.dim() >= 2 and 'pos_emb' not in n]
        no_decay = [p for n, p in self.named_parameters() if p.dim() < 2 or 'pos_emb' in n]
        groups = [{'params': decay, 'weight_decay': weight_decay}, {'params': no_decay, 'weight_decay': 0.0}]
        return torch.optim.AdamW(groups, lr=lr, betas=betas)


# -----------------------------------------------------------------------------
# Neural bag of words (CodeSearchNet's NBoW baseline, Husain et al. 2019): per side (query or code,
# told by the type marker in position 0) a token embedding table and a learned scalar weight per
# token; the embedding is the weighted mean of the token vectors (weights softmax-normalised over the
# real tokens), L2-normalised. No attention between tokens: an input costs one table lookup per token,
# so it trains on millions of pairs on one CPU core and embeds thousands of chunks a second.


@dataclass
class NBoWConfig:
    vocab_size: int = 16386
    max_len: int = 256
    n_embd: int = 256  # the output dimension
    query_id: int = 16384  # the <|query|> marker's id: inputs starting with it use the query tables
    dropout: float = 0.1
    model_type: str = 'nbow'


class NBoWEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.emb = nn.Embedding(2 * cfg.vocab_size, cfg.n_embd)  # rows [0, V): code side, [V, 2V): query side
        self.weight_logit = nn.Embedding(2 * cfg.vocab_size, 1)
        self.drop = nn.Dropout(cfg.dropout)
        nn.init.normal_(self.emb.weight, mean=0.0, std=0.1)
        nn.init.zeros_(self.weight_logit.weight)

    def num_params(self, non_embedding=False):
        return 0 if non_embedding else sum(p.numel() for p in self.parameters())

    def rows(self, input_ids):
        """Table rows of each token: the query side's tables when the row starts with the query marker."""
        is_query = (input_ids[:, :1] == self.cfg.query_id).to(input_ids.dtype)  # (B, 1)
        return input_ids + is_query * self.cfg.vocab_size

    def pool(self, vectors, logits, attention_mask):
        """vectors (B, T, C), logits (B, T), mask (B, T) -> unit vectors (B, C): softmax-weighted mean."""
        m = attention_mask.to(vectors.dtype)
        logits = logits + (1.0 - m) * -1e4  # padding gets weight ~0 (finite in fp16 and ONNX)
        w = torch.softmax(logits, dim=1) * m  # an all-padding row sums to 0, not NaN
        pooled = (vectors * w.unsqueeze(-1)).sum(dim=1)
        return pooled / pooled.norm(p=2, dim=-1, keepdim=True).clamp(min=1e-12)

    def forward(self, input_ids, attention_mask):
        r = self.rows(input_ids)
        logits = self.weight_logit(r).squeeze(-1)
        if torch.onnx.is_in_onnx_export():  # plain Gather + MatMul for the graph
            return self.pool(self.emb(r), logits, attention_mask)
        # training and PyTorch evaluation: embedding_bag sums the weighted rows without building the
        # (B, T, C) tensor (5x faster on a CPU); dropout drops whole tokens instead of vector entries
        m = attention_mask.to(torch.float32)
        if self.training and self.cfg.dropout > 0:
            keep = (torch.rand_like(m) >= self.cfg.dropout).to(m.dtype)
            keep[:, 0] = 1.0  # the type marker stays
            m = m * keep
        logits = logits + (1.0 - m) * -1e4
        w = torch.softmax(logits, dim=1) * m
        B, T = r.shape
        pooled = F.embedding_bag(r.reshape(-1), self.emb.weight, torch.arange(0, B * T, T, device=r.device),
                                 mode='sum', per_sample_weights=w.reshape(-1))
        return pooled / pooled.norm(p=2, dim=-1, keepdim=True).clamp(min=1e-12)

    def configure_optimizer(self, weight_decay, lr, betas):
        return torch.optim.Adam(self.parameters(), lr=lr, betas=betas)


class NBoWInt8(nn.Module):
    """The int8 graph of an NBoWEncoder: the vector table as int8 with one float scale per row
    (absmax / 127), dequantized after the lookup; the weights stay float32. Only the rows a text
    uses are ever read, so embedding costs the same; the file is a quarter of the fp32 one."""

    def __init__(self, model):
        super().__init__()
        self.cfg = model.cfg
        w = model.emb.weight.detach()
        scale = w.abs().amax(dim=1).clamp(min=1e-12) / 127.0
        self.register_buffer('q', torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8))
        self.register_buffer('scale', scale.float())
        self.register_buffer('logit', model.weight_logit.weight.detach().squeeze(-1).clone())

    def forward(self, input_ids, attention_mask):
        r = NBoWEncoder.rows(self, input_ids)
        vectors = self.q[r].float() * self.scale[r].unsqueeze(-1)
        return NBoWEncoder.pool(self, vectors, self.logit[r], attention_mask)


def build_encoder(model_args):
    """The encoder a checkpoint's model_args describe (model_type 'nbow', else the transformer)."""
    args = dict(model_args)
    if args.pop('model_type', 'transformer') == 'nbow':
        return NBoWEncoder(NBoWConfig(**args))
    return Encoder(EncoderConfig(**args))
