"""Writes the decode step of a LLaMA-architecture slice as ONNX: seeded random weights, speed only.

Usage: python3 models/export_llama_slice.py [--shape llama-7b-2l] [--dtype f16] [--out .cache/llama-7b-2l-f16-decode.onnx]

Why: issue 19 compares the project's decode engine with ORT-web's WebGPU provider on the same decode
step at LLaMA-7B width, and a 2-layer slice is enough for that (the peer's cost per layer does not
change with depth). No pretrained LLaMA exists on these machines, and 7B of f16 weights would not pass
through the device copy, so the slice is made where it runs (the GPU machine has torch and onnx).

The graph takes `ids` (int64 [1, 1]) and returns `logits` (f32 [1, vocab]) for position `context`: the
KV cache of the `context` earlier positions is held in the graph as constants, so ORT times the decode
step's bytes (weights and cache) and no host-to-GPU transfer of a cache. Layout as in LLaMA: RMSNorm,
q/k/v, rotary positions (rotate-half), grouped-query attention over the cache and the new position,
o, residual, RMSNorm, SwiGLU FFN, residual; final RMSNorm and the LM head. Norms and softmax are
computed in f32, matmuls in the weights' dtype.
"""
import argparse

SHAPES = {
    # name: (layers, d, heads, kv_heads, head_dim, ff, vocab); llama-7b's width with 2 of its 32 layers.
    "llama-7b-2l": (2, 4096, 32, 32, 128, 11008, 32000),
    # A small one, for tests on CPU machines.
    "llama-tiny": (2, 128, 4, 2, 32, 352, 256),
}


def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", default="llama-7b-2l", choices=sorted(SHAPES))
    p.add_argument("--dtype", default="f16", choices=["f16", "f32"])
    p.add_argument("--context", type=int, default=512, help="positions already in the KV cache (default 512)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default=None, help="output file (default .cache/SHAPE-DTYPE-decode.onnx, where the decode suite looks)")
    return p


ARGS = build_parser().parse_args() if __name__ == "__main__" else None

import os  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402


class Slice(nn.Module):
    def __init__(self, shape, dtype, context, seed):
        super().__init__()
        layers, d, heads, kv_heads, hd, ff, vocab = shape
        self.heads, self.kv_heads, self.hd = heads, kv_heads, hd
        g = torch.Generator().manual_seed(seed)

        def rand(*size, scale=1.0):
            return (torch.randn(*size, generator=g) * scale).to(dtype)

        self.register_buffer("embed", rand(vocab, d, scale=1.0))
        self.blocks = []
        for i in range(layers):
            b = {
                "attn_norm": torch.ones(d),
                "wq": rand(d, heads * hd, scale=d ** -0.5),
                "wk": rand(d, kv_heads * hd, scale=d ** -0.5),
                "wv": rand(d, kv_heads * hd, scale=d ** -0.5),
                "wo": rand(heads * hd, d, scale=(heads * hd) ** -0.5),
                "ffn_norm": torch.ones(d),
                "wg": rand(d, ff, scale=d ** -0.5),
                "wu": rand(d, ff, scale=d ** -0.5),
                "wd": rand(ff, d, scale=ff ** -0.5),
                "kcache": rand(kv_heads, context, hd),
                "vcache": rand(kv_heads, context, hd),
            }
            for name, t in b.items():
                self.register_buffer(f"l{i}_{name}", t)
            self.blocks.append(i)
        self.register_buffer("final_norm", torch.ones(d))
        self.register_buffer("head", rand(d, vocab, scale=d ** -0.5))
        freqs = 10000.0 ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
        angle = context * freqs
        self.register_buffer("cos", torch.cat([angle.cos(), angle.cos()]).float())
        self.register_buffer("sin", torch.cat([angle.sin(), angle.sin()]).float())

    def norm(self, x, gain):
        x32 = x.float()
        return (x32 * torch.rsqrt((x32 * x32).mean(-1, keepdim=True) + 1e-5) * gain).to(x.dtype)

    def rope(self, t):
        half = self.hd // 2
        rotated = torch.cat([-t[..., half:], t[..., :half]], dim=-1)
        return (t.float() * self.cos + rotated.float() * self.sin).to(t.dtype)

    def forward(self, ids):
        x = torch.nn.functional.embedding(ids.reshape(-1), self.embed)  # [1, d]
        group = self.heads // self.kv_heads
        for i in self.blocks:
            p = lambda name: getattr(self, f"l{i}_{name}")  # noqa: E731
            h = self.norm(x, p("attn_norm"))
            q = self.rope((h @ p("wq")).reshape(self.heads, 1, self.hd))
            k = self.rope((h @ p("wk")).reshape(self.kv_heads, 1, self.hd))
            v = (h @ p("wv")).reshape(self.kv_heads, 1, self.hd)
            keys = torch.cat([p("kcache"), k], dim=1)  # [kv, context + 1, hd]
            values = torch.cat([p("vcache"), v], dim=1)
            if group > 1:
                keys = keys.repeat_interleave(group, dim=0)
                values = values.repeat_interleave(group, dim=0)
            scores = (q.float() @ keys.float().transpose(1, 2)) * self.hd ** -0.5  # [heads, 1, context + 1]
            attn = (torch.softmax(scores, dim=-1).to(x.dtype) @ values).reshape(1, self.heads * self.hd)
            x = x + attn @ p("wo")
            h = self.norm(x, p("ffn_norm"))
            x = x + (torch.nn.functional.silu(h @ p("wg")) * (h @ p("wu"))) @ p("wd")
        return (self.norm(x, self.final_norm) @ self.head).float()


def main():
    args = ARGS
    out = args.out or os.path.join(".cache", f"{args.shape}-{args.dtype}-decode.onnx")
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    dtype = torch.float16 if args.dtype == "f16" else torch.float32
    model = Slice(SHAPES[args.shape], dtype, args.context, args.seed).eval()
    ids = torch.tensor([[7]], dtype=torch.int64)
    if dtype == torch.float16 and torch.cuda.is_available():
        # Tracing runs the model once; CPU half-precision matmuls are slow or missing in old torch.
        model = model.cuda()
        ids = ids.cuda()
    with torch.no_grad():
        logits = model(ids)
    if not torch.isfinite(logits).all():
        raise SystemExit("the slice's logits are not finite: lower the weights' scale")
    common = dict(input_names=["ids"], output_names=["logits"], opset_version=17)
    if int(torch.__version__.split(".")[0]) < 2:
        torch.onnx.export(model, (ids,), out, **common)
    else:
        try:
            torch.onnx.export(model, (ids,), out, dynamo=False, **common)
        except Exception as e:  # a torch without the TorchScript exporter
            print(f"TorchScript exporter failed ({type(e).__name__}: {e}); trying the dynamo exporter", flush=True)
            torch.onnx.export(model, (ids,), out, dynamo=True, external_data=False, **common)
    print(f"{out}: {args.shape} {args.dtype}, context {args.context}, {os.path.getsize(out) / 1e6:.1f} MB (torch {torch.__version__})")


if __name__ == "__main__":
    main()
