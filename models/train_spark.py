"""Trains a Spark Transformer variant of lm-char-swiglu and its dense twin at one CPU budget.

Usage:
  deno task export-data english-text
  python3 models/train_spark.py --active 1.0            # the dense twin, lm-char-spark-dense
  python3 models/train_spark.py --active 0.08           # Spark at 8 % active neurons, lm-char-spark-k8
  python3 models/train_spark.py --active 0.25           # Spark at 25 %, lm-char-spark-k25

Architecture: lm-char-swiglu's (train_lm.py: width 192, 4 pre-LayerNorm blocks, 4 heads, SwiGLU
FFN of 384 neurons, context 128), with Spark's FFN (You et al., 2025) in every block: the first r
input dimensions and the matching columns of the gate projection score every neuron,
u = x[:r]·Wg[:, :r]ᵀ (the predictor, r·m multiply-adds instead of d·m); statistical top-k keeps
the neurons with u > θ, θ = mean(u) + std(u)·Φ⁻¹(1 − k/m) (population std, linear time, no sort);
only the kept neurons are computed in full, down(silu(x·Wgᵀ) ⊙ (x·Wuᵀ) ⊙ 1[u > θ]). The predictor
is part of the gate, so Spark and its twin have the same parameters; the mask passes no
gradient (the predictor learns through the gate it is part of). --active 1.0 trains the plain
SwiGLU FFN, the twin.

Recipe: train_lm.py's (AdamW lr 2e-3, wd 0.1, betas 0.9/0.95, dropout 0.1, 30 % of windows from
Moby Dick's train chapters, 5 % warm-up then cosine, seed 0, the best calibration-bpc checkpoint),
at a budget one CPU core finishes in about ten minutes: --steps (default 300) of --batch (default
16) windows, one thread. The zoo's lm-char-swiglu had 12000 steps of 128 windows on an H200, so
its twin here is retrained at this budget rather than reused.

Exports models/<name>.onnx with the TorchScript exporter (opset 17): ids [batch, seq] int64 ->
logits [batch, seq, 96]. The Spark FFN appears in the graph as a Slice of the input's first r
channels, the predictor MatMul, the statistical top-k (ReduceMean, Sub, Mul, ReduceMean, Sqrt,
Mul, Add, Greater), the full gate MatMul and the mask applied to the hidden activations, so ORT
computes what Spark computes.
"""
import argparse
import copy
import math
import os
import statistics


def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--active", type=float, default=0.08, help="fraction k/m of FFN neurons kept; 1.0 trains the dense twin")
    p.add_argument("--rank", type=int, default=96, help="r, the input dimensions the predictor reads")
    p.add_argument("--data", default=".cache/export/english-text")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--check-every", type=int, default=100, help="steps between calibration-bpc checks")
    p.add_argument("--calibration-windows", type=int, default=200, help="calibration windows the checkpoint choice reads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval-windows", type=int, default=0, help="evaluate on the first N windows only (smoke tests)")
    p.add_argument("--out-dir", default="models")
    p.add_argument("--focus", type=float, default=0.3, help="fraction of windows drawn from Moby Dick's train chapters")
    return p


ARGS = build_parser().parse_args() if __name__ == "__main__" else None

import json  # noqa: E402

import torch  # noqa: E402

from _common import Stopwatch, dataset_hash, device_name, load_text, seed_everything, write_training_record  # noqa: E402
from train_lm import CONTEXT, Block, CharLm, bits_per_char  # noqa: E402


def model_name(active):
    return "lm-char-spark-dense" if active >= 1 else f"lm-char-spark-k{round(active * 100)}"


class SparkBlock(Block):
    """A train_lm Block whose SwiGLU FFN selects its neurons with Spark's predictor."""

    def __init__(self, width, heads, ffn_width, dropout, active, rank):
        super().__init__(width, heads, "swiglu", ffn_width, dropout)
        self.rank = rank
        # Kept as a Python float so the export folds it into one constant.
        self.z = statistics.NormalDist().inv_cdf(1 - active)
        # The gate as two slices, so the predictor's columns are a weight of their own in the graph.
        del self.gate
        self.gate_pred = torch.nn.Linear(rank, ffn_width, bias=False)
        self.gate_rest = torch.nn.Linear(width - rank, ffn_width, bias=False)
        # The twin's gate initialisation (uniform ±1/sqrt(width)), not each slice's own fan-in.
        bound = 1 / math.sqrt(width)
        torch.nn.init.uniform_(self.gate_pred.weight, -bound, bound)
        torch.nn.init.uniform_(self.gate_rest.weight, -bound, bound)

    def ffn(self, h):
        u = self.gate_pred(h[..., :self.rank])
        mean = u.mean(-1, keepdim=True)
        centered = u - mean
        std = torch.sqrt((centered * centered).mean(-1, keepdim=True))
        keep = (u > mean + std * self.z).to(u.dtype)
        g = u + self.gate_rest(h[..., self.rank:])
        return self.down(torch.nn.functional.silu(g) * self.up(h) * keep)


def build_model(vocab, active, rank, dropout):
    model = CharLm(vocab, "swiglu", dropout=dropout)
    if active < 1:
        width, heads, ffn_width = 192, 4, 384
        model.blocks = torch.nn.ModuleList([SparkBlock(width, heads, ffn_width, dropout, active, rank) for _ in range(4)])
    return model


def realised_active(model, ids, windows=16):
    """Mean fraction of FFN neurons kept per token on the first windows (Spark only)."""
    kept = []

    def hook(block):
        def run(_module, _inputs, h):
            u = block.gate_pred(h[..., :block.rank])
            mean = u.mean(-1, keepdim=True)
            std = (u - mean).pow(2).mean(-1, keepdim=True).sqrt()
            kept.append((u > mean + std * block.z).float().mean().item())
        return run

    handles = [b.ln2.register_forward_hook(hook(b)) for b in model.blocks]
    with torch.no_grad():
        rows = torch.stack([ids[j * CONTEXT:j * CONTEXT + CONTEXT] for j in range(windows)])
        model.eval()(rows)
    for hnd in handles:
        hnd.remove()
    return sum(kept) / len(kept)


def export(model, out):
    model = model.eval()
    ids = torch.zeros(2, 16, dtype=torch.long)
    axes = {"ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
    kw = dict(opset_version=17)
    if int(torch.__version__.split(".")[0]) >= 2:
        kw["dynamo"] = False
    torch.onnx.export(model, ids, out, input_names=["ids"], output_names=["logits"], dynamic_axes=axes, **kw)


def main():
    args = ARGS
    torch.set_num_threads(args.threads)
    name = model_name(args.active)
    out = f"{args.out_dir}/{name}.onnx"
    seed_everything(args.seed)
    train, vocab = load_text(args.data, "train")
    evaluation, _ = load_text(args.data, "evaluation")
    calibration, _ = load_text(args.data, "calibration")
    calibration_check = calibration[:args.calibration_windows * CONTEXT + 1]
    moby = next(s for s in json.load(open(os.path.join(args.data, "meta.json")))["train"]["sections"] if s["name"] == "moby-dick")
    model = build_model(len(vocab), args.active, args.rank, 0.1)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.1, betas=(0.9, 0.95))
    warm = max(1, args.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.steps))))
    clock = Stopwatch()
    best = (float("inf"), 0, None)
    b = args.batch
    for step in range(args.steps):
        model.train()
        focused = int(b * args.focus)
        starts = torch.cat([
            torch.randint(moby["start"], moby["start"] + moby["length"] - CONTEXT - 1, (focused,)),
            torch.randint(0, len(train) - CONTEXT - 1, (b - focused,))])
        rows = train[starts[:, None] + torch.arange(CONTEXT + 1)[None, :]]
        logits = model(rows[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % args.check_every == args.check_every - 1 or step == args.steps - 1:
            cal = bits_per_char(model, calibration_check, "cpu")
            print(f"step {step + 1}: loss {loss.item():.4f} calibration bpc {cal:.4f} ({clock.seconds():.0f} s)", flush=True)
            if cal < best[0]:
                best = (cal, step + 1, copy.deepcopy(model.state_dict()))
    seconds = clock.seconds()
    model.load_state_dict(best[2])
    model = model.eval()
    bpc = bits_per_char(model, evaluation, "cpu", args.eval_windows)
    active = realised_active(model, evaluation) if args.active < 1 else 1.0
    export(model, out)
    spark = args.active < 1
    write_training_record(out + ".train.json", {
        "model": name,
        "architecture": "decoder-only char LM: vocab 96, width 192, 4 blocks, 4 causal heads, SwiGLU FFN 384, context 128"
        + (f"; Spark FFN: predictor on the first {args.rank} input dims of the gate, statistical top-k at k/m = {args.active}" if spark else ""),
        "params": sum(p.numel() for p in model.parameters()), "dataset_hash": dataset_hash(args.data),
        "recipe": f"AdamW lr 2e-3 wd 0.1 betas 0.9/0.95, batch {b} random windows ({args.focus:.0%} from Moby Dick's train chapters), dropout 0.1, warm-up 5 % + cosine, fp32, best calibration-bpc checkpoint (first {args.calibration_windows} calibration windows, every {args.check_every} steps)",
        "steps": args.steps, "batch": b, "kept_step": best[1], "calibration_bpc_torch": best[0], "focus_moby_dick": args.focus,
        "seed": args.seed, "threads": args.threads, "train_seconds": round(seconds, 1), "trained_on": device_name(),
        "torch": torch.__version__, "exporter": "torchscript", "eval_bpc_torch": bpc,
        "active_fraction": args.active, "predictor_rank": args.rank if spark else None,
        "z": statistics.NormalDist().inv_cdf(1 - args.active) if spark else None,
        "realised_active_torch": active,
    })
    print(f"{out}: eval bpc {bpc:.4f}, active {active:.3f}, {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
