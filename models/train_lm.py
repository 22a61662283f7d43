"""Trains lm-char (decoder-only character LM) on the English text train split and exports it twice.

Usage:
  deno task export-data english-text
  python3 models/train_lm.py [--ffn gelu|swiglu] [--data .cache/export/english-text]

Architecture: 96-symbol vocabulary, width 192, 4 pre-LayerNorm blocks, 4 causal heads (separate
q/k/v), FFN 640 with exact GELU (or, with --ffn swiglu, a gated SiLU FFN of width 384, slightly
smaller), learned positions, context 128: about 1.6M parameters.
Recipe: AdamW (lr 2e-3, weight decay 0.1, betas 0.9/0.95), batch 128 random windows (a --focus
fraction of them from Moby Dick's train chapters, the rest anywhere in the train split), dropout
0.1, 5 % warm-up then cosine over --steps, bf16 autocast on CUDA, seed 0; the checkpoint with the
best calibration-split bpc (checked every 1000 steps) is kept, so the evaluation split never
steers training.

Exports (dynamo exporter on torch >= 2, TorchScript exporter otherwise):
  models/lm-char[-swiglu].onnx         ids [batch, seq] int64 -> logits [batch, seq, 96]
  models/lm-char[-swiglu]-decode.onnx  ids [batch, 1], past_keys/past_values [4, batch, 4, past, 48]
                                       -> logits [batch, 1, 96], present_keys/present_values (past + 1)
"""
import argparse
import copy
import json
import math
import os

def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ffn", choices=["gelu", "swiglu"], default="gelu")
    p.add_argument("--data", default=".cache/export/english-text")
    p.add_argument("--steps", type=int, default=12000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-windows", type=int, default=0, help="evaluate on the first N windows only (smoke tests)")
    p.add_argument("--out-dir", default="models")
    p.add_argument("--focus", type=float, default=0.3, help="fraction of windows drawn from Moby Dick's train chapters")
    p.add_argument("--no-decode", action="store_true", help="skip the decode-step export")
    return p


# Parse before importing torch, so that --help works on machines without it.
ARGS = build_parser().parse_args() if __name__ == "__main__" else None

import torch  # noqa: E402

from _common import Stopwatch, dataset_hash, device_name, load_text, seed_everything, write_training_record  # noqa: E402

CONTEXT = 128


class Block(torch.nn.Module):
    def __init__(self, width, heads, ffn_kind, ffn_width, dropout):
        super().__init__()
        self.heads = heads
        self.drop = torch.nn.Dropout(dropout)
        self.ln1 = torch.nn.LayerNorm(width)
        self.q = torch.nn.Linear(width, width)
        self.k = torch.nn.Linear(width, width)
        self.v = torch.nn.Linear(width, width)
        self.proj = torch.nn.Linear(width, width)
        self.ln2 = torch.nn.LayerNorm(width)
        self.ffn_kind = ffn_kind
        if ffn_kind == "swiglu":
            self.gate = torch.nn.Linear(width, ffn_width, bias=False)
            self.up = torch.nn.Linear(width, ffn_width, bias=False)
            self.down = torch.nn.Linear(ffn_width, width, bias=False)
        else:
            self.up = torch.nn.Linear(width, ffn_width)
            self.down = torch.nn.Linear(ffn_width, width)

    def ffn(self, h):
        if self.ffn_kind == "swiglu":
            return self.down(torch.nn.functional.silu(self.gate(h)) * self.up(h))
        return self.down(torch.nn.functional.gelu(self.up(h)))

    def attend(self, q, k, v, mask):
        dh = q.shape[-1]
        att = q @ k.transpose(-2, -1) / math.sqrt(dh)
        if mask is not None:
            att = att + mask
        return torch.softmax(att, dim=-1) @ v

    def split(self, x):
        b, t, c = x.shape
        return x.reshape(b, t, self.heads, c // self.heads).transpose(1, 2)

    def forward(self, x, mask):
        b, t, c = x.shape
        h = self.ln1(x)
        y = self.attend(self.split(self.q(h)), self.split(self.k(h)), self.split(self.v(h)), mask)
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(b, t, c)))
        return x + self.drop(self.ffn(self.ln2(x)))

    def step(self, x, past_k, past_v):
        b, t, c = x.shape
        h = self.ln1(x)
        k = torch.cat([past_k, self.split(self.k(h))], dim=2)
        v = torch.cat([past_v, self.split(self.v(h))], dim=2)
        y = self.attend(self.split(self.q(h)), k, v, None)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.ffn(self.ln2(x)), k, v


class CharLm(torch.nn.Module):
    def __init__(self, vocab, ffn_kind, width=192, depth=4, heads=4, dropout=0.0):
        super().__init__()
        ffn_width = 384 if ffn_kind == "swiglu" else 640
        self.embed = torch.nn.Embedding(vocab, width)
        self.pos = torch.nn.Parameter(torch.randn(CONTEXT, width) * 0.02)
        self.blocks = torch.nn.ModuleList([Block(width, heads, ffn_kind, ffn_width, dropout) for _ in range(depth)])
        self.ln = torch.nn.LayerNorm(width)
        self.head = torch.nn.Linear(width, vocab)
        self.register_buffer("causal", torch.triu(torch.full((CONTEXT, CONTEXT), float("-inf")), 1), persistent=False)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.embed(ids) + self.pos[:t]
        mask = self.causal[:t, :t]
        for blk in self.blocks:
            x = blk(x, mask)
        return self.head(self.ln(x))


class DecodeStep(torch.nn.Module):
    """One decoding step with a KV cache: the graph batch-1 decode latency is measured on."""

    def __init__(self, lm):
        super().__init__()
        self.lm = lm

    def forward(self, ids, past_keys, past_values):
        p = past_keys.shape[3]
        x = self.lm.embed(ids) + self.lm.pos[p:p + 1]
        keys, values = [], []
        for i, blk in enumerate(self.lm.blocks):
            x, k, v = blk.step(x, past_keys[i], past_values[i])
            keys.append(k)
            values.append(v)
        return self.lm.head(self.lm.ln(x)), torch.stack(keys), torch.stack(values)


def bits_per_char(model, ids, device, windows=0):
    model.eval()
    n = (len(ids) - 1) // CONTEXT
    if windows:
        n = min(n, windows)
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, n, 64):
            rows = torch.stack([ids[j * CONTEXT:j * CONTEXT + CONTEXT + 1] for j in range(i, min(n, i + 64))]).to(device)
            logits = model(rows[:, :-1]).float()
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1), reduction="sum")
            total += loss.item()
            count += rows[:, 1:].numel()
    return total / count / math.log(2)


def export(model, out, decode_out):
    model = model.eval()
    ids = torch.zeros(2, 16, dtype=torch.long)
    heads, dh = model.blocks[0].heads, model.embed.embedding_dim // model.blocks[0].heads
    # Two distinct tensors: passing one object for both caches lets the exporter alias them.
    past = torch.zeros(len(model.blocks), 2, heads, 5, dh)
    step = DecodeStep(model).eval()
    full_axes = {"ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
    step_axes = {"ids": {0: "batch"}, "past_keys": {1: "batch", 3: "past"}, "past_values": {1: "batch", 3: "past"},
                 "logits": {0: "batch"}, "present_keys": {1: "batch", 3: "present"}, "present_values": {1: "batch", 3: "present"}}
    step_names = dict(input_names=["ids", "past_keys", "past_values"], output_names=["logits", "present_keys", "present_values"])
    used = "torchscript"
    if int(torch.__version__.split(".")[0]) >= 2:
        try:
            torch.onnx.export(model, (ids,), out, dynamo=True, opset_version=18, external_data=False,
                              input_names=["ids"], output_names=["logits"], dynamic_axes=full_axes)
            if decode_out:
                torch.onnx.export(step, (ids[:, :1], past, past.clone()), decode_out, dynamo=True, opset_version=18,
                                  external_data=False, dynamic_axes=step_axes, **step_names)
            used = "dynamo"
        except Exception as e:  # the TorchScript exporter is the fallback users also reach for
            print(f"dynamo export failed ({e}); using the TorchScript exporter", flush=True)
    if used == "torchscript":
        kw = dict(opset_version=17)
        if int(torch.__version__.split(".")[0]) >= 2:
            kw["dynamo"] = False
        torch.onnx.export(model, ids, out, input_names=["ids"], output_names=["logits"], dynamic_axes=full_axes, **kw)
        if decode_out:
            torch.onnx.export(step, (ids[:, :1], past, past.clone()), decode_out, dynamic_axes=step_axes, **step_names, **kw)
    return used


def check_decode_agrees(model, ids):
    """Full-sequence logits and step-by-step decoding agree (the exports compute the same thing)."""
    model = model.eval()
    step = DecodeStep(model)
    heads, dh = model.blocks[0].heads, model.embed.embedding_dim // model.blocks[0].heads
    past_k = torch.zeros(len(model.blocks), 1, heads, 0, dh)
    past_v = past_k.clone()
    with torch.no_grad():
        full = model(ids[None, :32])
        worst = 0.0
        for t in range(32):
            logits, past_k, past_v = step(ids[None, t:t + 1], past_k, past_v)
            worst = max(worst, (logits[0, 0] - full[0, t]).abs().max().item())
    return worst


def main():
    args = ARGS
    name = "lm-char" if args.ffn == "gelu" else "lm-char-swiglu"
    out, decode_out = f"{args.out_dir}/{name}.onnx", f"{args.out_dir}/{name}-decode.onnx"

    seed_everything(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train, vocab = load_text(args.data, "train")
    evaluation, _ = load_text(args.data, "evaluation")
    calibration, _ = load_text(args.data, "calibration")
    moby = next(s for s in json.load(open(os.path.join(args.data, "meta.json")))["train"]["sections"] if s["name"] == "moby-dick")
    model = CharLm(len(vocab), args.ffn, dropout=0.1).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.1, betas=(0.9, 0.95))
    warm = max(1, args.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.steps))))
    train_dev = train.to(device)
    clock = Stopwatch()
    best = (float("inf"), 0, None)
    for step in range(args.steps):
        model.train()
        focused = int(128 * args.focus)
        starts = torch.cat([
            torch.randint(moby["start"], moby["start"] + moby["length"] - CONTEXT - 1, (focused,), device=device),
            torch.randint(0, len(train) - CONTEXT - 1, (128 - focused,), device=device)])
        rows = train_dev[starts[:, None] + torch.arange(CONTEXT + 1, device=device)[None, :]]
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
            logits = model(rows[:, :-1])
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), rows[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 1000 == 999 or step == args.steps - 1:
            cal = bits_per_char(model, calibration, device)
            print(f"step {step + 1}: loss {loss.item():.4f} calibration bpc {cal:.4f}", flush=True)
            if cal < best[0]:
                best = (cal, step + 1, copy.deepcopy(model.state_dict()))
    seconds = clock.seconds()
    model.load_state_dict(best[2])
    bpc = bits_per_char(model, evaluation, device, args.eval_windows)
    model = model.float().cpu().eval()
    torch.save(model.state_dict(), out + ".pt")
    exporter = export(model, out, None if args.no_decode else decode_out)
    worst = check_decode_agrees(model, evaluation)
    write_training_record(out + ".train.json", {
        "model": name,
        "architecture": f"decoder-only char LM: vocab 96, width 192, 4 blocks, 4 causal heads, FFN {'SwiGLU 448' if args.ffn == 'swiglu' else 'GELU 640'}, context 128",
        "params": sum(p.numel() for p in model.parameters()), "dataset_hash": dataset_hash(args.data),
        "recipe": f"AdamW lr 2e-3 wd 0.1 betas 0.9/0.95, batch 128 random windows ({args.focus:.0%} from Moby Dick's train chapters), dropout 0.1, warm-up 5 % + cosine, bf16 autocast, best calibration-bpc checkpoint",
        "steps": args.steps, "kept_step": best[1], "calibration_bpc_torch": best[0], "focus_moby_dick": args.focus, "seed": args.seed, "train_seconds": round(seconds, 1), "trained_on": device_name(),
        "torch": torch.__version__, "exporter": exporter, "eval_bpc_torch": bpc, "decode_vs_full_max_abs_diff": worst,
    })
    print(f"{out}: eval bpc {bpc:.4f}, {seconds:.0f} s, exporter {exporter}, decode-vs-full {worst:.2e}", flush=True)


if __name__ == "__main__":
    main()
