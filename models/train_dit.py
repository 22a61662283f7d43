"""Trains dit-mnist, a small class-conditional diffusion transformer, on the MNIST train split and
exports its denoiser to ONNX.

Usage:
  deno task export-data mnist
  OPENBLAS_NUM_THREADS=1 nice -n 10 python3 models/train_dit.py [--data .cache/export/mnist] [--out models/dit-mnist.onnx]
  python3 models/train_dit.py --device cuda --steps 40000 --batch 256   (on a GPU)
  python3 models/train_dit.py --export-only   (re-exports OUT.pt, e.g. one trained elsewhere, here)

Model: DiT-style denoiser that predicts the noise eps of x_t. 4x4 patches (49 tokens) embedded by
a linear, learned position embeddings, and a conditioning vector c = MLP(sinusoidal(t)) +
Embedding(class) added to every token; 4 pre-LayerNorm blocks, each 4-head attention with separate
q/k/v/out projections and a 384-wide GELU FFN (distinct weights per head and per neuron, so heads
and neurons can be pruned and sliced away), width 96; a final LayerNorm and a linear back to 16
pixels per token. About 0.5M parameters.
Diffusion: DDPM with T = 1000 steps, linear betas 1e-4 to 0.02, pixels scaled to [-1, 1], the
plain eps-MSE loss. Recipe: AdamW (lr 1e-3, weight decay 0), batch 128, 2 % warm-up then cosine,
an EMA of the weights (decay 0.999) is what gets exported, seed 0, one CPU thread. With
`--device cuda` the same model, recipe and seeding run on the GPU (its own random streams, fused
AdamW and a foreach EMA, so not bit-identical to a CPU run); the export always runs on the CPU in
float32, and the EMA state is saved to OUT.pt first so that a failed export loses no training.
The ONNX graph takes `x_t` float32 [batch, 1, 28, 28], `t` float32 [batch] (the timestep, an
integer in 0..999 held as a float) and `class` int64 [batch], and returns `eps` [batch, 1, 28, 28].
The suite `obs-diff` samples it with DDIM (suites/_ddim.ts uses the same schedule).
"""
import argparse
import math

def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=".cache/export/mnist")
    p.add_argument("--out", default="models/dit-mnist.onnx")
    p.add_argument("--steps", type=int, default=1800, help="optimizer steps")
    p.add_argument("--batch", type=int, default=128, help="images per step")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="CPU threads")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where training runs")
    p.add_argument("--export-only", action="store_true",
                   help="skip training: export OUT.pt to OUT and note the exporter in OUT.train.json")
    return p


# Parse before importing torch, so that --help works on machines without it.
ARGS = build_parser().parse_args() if __name__ == "__main__" else None

import torch  # noqa: E402

from _common import Stopwatch, dataset_hash, device_name, load_images, seed_everything, write_training_record  # noqa: E402

STEPS_T = 1000
WIDTH = 96
DEPTH = 4
HEADS = 4
FFN = 384
PATCH = 4
TOKENS = (28 // PATCH) ** 2


def alphas_cumprod():
    betas = torch.linspace(1e-4, 0.02, STEPS_T, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0).float()


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(WIDTH)
        self.q = torch.nn.Linear(WIDTH, WIDTH)
        self.k = torch.nn.Linear(WIDTH, WIDTH)
        self.v = torch.nn.Linear(WIDTH, WIDTH)
        self.proj = torch.nn.Linear(WIDTH, WIDTH)
        self.ln2 = torch.nn.LayerNorm(WIDTH)
        self.up = torch.nn.Linear(WIDTH, FFN)
        self.down = torch.nn.Linear(FFN, WIDTH)

    def forward(self, x):
        h = self.ln1(x)
        dh = WIDTH // HEADS
        # Constant reshape targets (heads spelled out), so head surgery can rewrite them.
        q = self.q(h).reshape(-1, TOKENS, HEADS, dh).transpose(1, 2)
        k = self.k(h).reshape(-1, TOKENS, HEADS, dh).transpose(1, 2)
        v = self.v(h).reshape(-1, TOKENS, HEADS, dh).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(dh), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(-1, TOKENS, WIDTH)
        x = x + self.proj(y)
        return x + self.down(torch.nn.functional.gelu(self.up(self.ln2(x))))


class Dit(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = torch.nn.Linear(PATCH * PATCH, WIDTH)
        self.pos = torch.nn.Parameter(torch.randn(1, TOKENS, WIDTH) * 0.02)
        self.t1 = torch.nn.Linear(WIDTH, WIDTH)
        self.t2 = torch.nn.Linear(WIDTH, WIDTH)
        self.label = torch.nn.Embedding(10, WIDTH)
        self.blocks = torch.nn.ModuleList([Block() for _ in range(DEPTH)])
        self.ln = torch.nn.LayerNorm(WIDTH)
        self.head = torch.nn.Linear(WIDTH, PATCH * PATCH)
        half = WIDTH // 2
        self.register_buffer("freqs", torch.exp(-math.log(10000.0) * torch.arange(half) / half), persistent=False)

    def forward(self, x_t, t, label):
        g = 28 // PATCH
        # [b, 1, 28, 28] -> [b, 49, 16]: row-major patches, pixels row-major inside each.
        p = x_t.reshape(-1, g, PATCH, g, PATCH).transpose(2, 3).reshape(-1, TOKENS, PATCH * PATCH)
        arg = t[:, None] * self.freqs[None, :]
        temb = torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)
        c = self.t2(torch.nn.functional.silu(self.t1(temb))) + self.label(label)
        x = self.patch(p) + self.pos + c[:, None, :]
        for blk in self.blocks:
            x = blk(x)
        out = self.head(self.ln(x))
        return out.reshape(-1, g, g, PATCH, PATCH).transpose(2, 3).reshape(-1, 1, 28, 28)


@torch.no_grad()
def ddim_sample(model, labels, steps, seed):
    """Deterministic DDIM (eta 0) over `steps` evenly spaced timesteps, as suites/_ddim.ts does.
    Runs where `labels` lie; the starting noise comes from a CPU generator either way."""
    dev = labels.device
    ab = alphas_cumprod().to(dev)
    ts = [round((STEPS_T - 1) * (steps - 1 - i) / (steps - 1)) for i in range(steps)]
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(len(labels), 1, 28, 28, generator=gen).to(dev)
    for i, t in enumerate(ts):
        a = ab[t]
        a_prev = ab[ts[i + 1]] if i + 1 < steps else torch.tensor(1.0, device=dev)
        eps = model(x, torch.full((len(labels),), float(t), device=dev), labels)
        x0 = ((x - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-1, 1)
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    return x


def main():
    args = ARGS
    if args.export_only:
        export_saved(args.out)
        return
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda, but torch sees no CUDA device; drop --device or use a GPU machine")
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    seed_everything(args.seed)
    torch.set_num_threads(args.threads)
    x_train, y_train = load_images(args.data, "train")
    x_train = x_train.unsqueeze(1) * 2 - 1
    x_train, y_train = x_train.to(dev), y_train.to(dev)
    # Built on the CPU, then moved: the initial weights are the CPU run's on every device.
    model = Dit()
    ema = Dit()
    ema.load_state_dict(model.state_dict())
    model.to(dev)
    ema.to(dev)
    for p in ema.parameters():
        p.requires_grad_(False)
    ema_params, model_params = list(ema.parameters()), list(model.parameters())
    # Launch overhead, not arithmetic, bounds a model this small on a GPU: fused AdamW there.
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0, **({"fused": True} if cuda else {}))
    warm = max(1, args.steps // 50)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.steps))))
    ab = alphas_cumprod().to(dev)
    batch = args.batch
    if batch > len(x_train):
        raise SystemExit(f"error: --batch {batch} exceeds the {len(x_train)} training images; use a smaller --batch")
    clock = Stopwatch()
    perm = torch.randperm(len(x_train), device=dev)
    at = 0
    loss_avg = 0.0
    # On a GPU the moving average stays on the device (float64, as the Python float on the CPU),
    # read back only when printed, so no step waits for the GPU.
    loss_avg_dev = torch.zeros((), dtype=torch.float64, device=dev)
    for step in range(args.steps):
        if at + batch > len(perm):
            perm, at = torch.randperm(len(x_train), device=dev), 0
        idx = perm[at:at + batch]
        at += batch
        x0, y = x_train[idx], y_train[idx]
        t = torch.randint(0, STEPS_T, (batch,), device=dev)
        noise = torch.randn_like(x0)
        a = ab[t][:, None, None, None]
        x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
        loss = torch.nn.functional.mse_loss(model(x_t, t.float(), y), noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        with torch.no_grad():
            decay = min(0.999, (1 + step) / (10 + step))
            if cuda:
                torch._foreach_mul_(ema_params, decay)
                torch._foreach_add_(ema_params, model_params, alpha=1 - decay)
            else:
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.mul_(decay).add_(pm, alpha=1 - decay)
        report = step % 250 == 0 or step == args.steps - 1
        if cuda:
            loss_avg_dev = 0.98 * loss_avg_dev + 0.02 * loss.detach().double() if step else loss.detach().double()
            if report:
                loss_avg = loss_avg_dev.item()
        else:
            loss_avg = 0.98 * loss_avg + 0.02 * loss.item() if step else loss.item()
        if report:
            print(f"step {step}: loss {loss_avg:.4f} ({clock.seconds():.1f} s)", flush=True)
    if cuda:
        torch.cuda.synchronize()
    seconds = clock.seconds()
    ema.to("cpu")
    ema.eval()
    torch.save(ema.state_dict(), args.out + ".pt")
    try:
        exporter = export(ema, args.out)
    except Exception as e:  # the EMA state is saved: `--export-only` on another machine finishes the job
        exporter = f"export failed here ({type(e).__name__}: {e}); rerun with --export-only"
        print(f"{args.out}: {exporter}", flush=True)
    write_training_record(args.out + ".train.json", {
        "model": "dit-mnist",
        "architecture": f"DiT-style eps denoiser: {PATCH}x{PATCH} patches ({TOKENS} tokens), width {WIDTH}, {DEPTH} blocks, {HEADS} heads, FFN {FFN} GELU; c = MLP(sin(t)) + Embedding(class) added to every token",
        "params": sum(p.numel() for p in ema.parameters()), "dataset_hash": dataset_hash(args.data),
        "diffusion": f"DDPM, T {STEPS_T}, linear betas 1e-4..0.02, eps prediction, pixels in [-1, 1]",
        "recipe": f"AdamW lr 1e-3 wd 0, batch {batch}, warm-up 2 % + cosine, grad clip 1, EMA 0.999 exported",
        "steps": args.steps, "seed": args.seed, "threads": args.threads, "train_seconds": round(seconds, 1),
        "final_loss_ema_avg": round(loss_avg, 5), "trained_on": device_name(dev),
        "torch": torch.__version__, "exporter": exporter,
        "batch": batch, "device": args.device,
    })
    print(f"{args.out}: {seconds:.0f} s, loss {loss_avg:.4f}", flush=True)


def export(model, out):
    """Exports a CPU float32 model with the TorchScript exporter; returns how, for the record."""
    example = (torch.zeros(2, 1, 28, 28), torch.full((2,), 500.0), torch.zeros(2, dtype=torch.int64))
    # torch >= 2.9 defaults to the dynamo exporter, whose graph the engine's head surgery does not
    # expect; torch 1.x has no such argument.
    kw = {"dynamo": False} if int(torch.__version__.split(".")[0]) >= 2 else {}
    torch.onnx.export(
        model, example, out, opset_version=17, input_names=["x_t", "t", "class"], output_names=["eps"],
        dynamic_axes={n: {0: "batch"} for n in ["x_t", "t", "class", "eps"]}, **kw)
    constants_to_initializers(out)
    return "torchscript, Constant nodes moved to initializers"


def export_saved(out):
    """Exports the EMA state a training run saved to OUT.pt, on this machine's torch."""
    import json
    import os
    model = Dit()
    model.load_state_dict(torch.load(out + ".pt", map_location="cpu"))
    model.eval()
    how = export(model, out) + f" (exported from {os.path.basename(out)}.pt by torch {torch.__version__})"
    record_path = out + ".train.json"
    if os.path.exists(record_path):
        record = json.load(open(record_path))
        record["exporter"] = how
        write_training_record(record_path, record)
    print(f"{out}: {how}", flush=True)


def constants_to_initializers(path):
    """Moves the exporter's Constant nodes (reshape targets, scalars) into initializers, where
    the engine's graph rewrites (head surgery) find and edit them."""
    import onnx
    model = onnx.load(path)
    graph = model.graph
    keep = []
    for node in graph.node:
        value = [a for a in node.attribute if a.name == "value"]
        if node.op_type == "Constant" and len(value) == 1 and value[0].type == onnx.AttributeProto.TENSOR:
            t = onnx.TensorProto()
            t.CopyFrom(value[0].t)
            t.name = node.output[0]
            graph.initializer.append(t)
        else:
            keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    main()
