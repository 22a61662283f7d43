"""Trains vit-relu-fmnist / vit-gelu-fmnist on the Fashion-MNIST train split and exports to ONNX.

Usage:
  deno task export-data fashion-mnist
  python3 models/train_vit.py --act relu [--data .cache/export/fashion-mnist] [--out models/vit-relu-fmnist.onnx]

Architecture: 2x2 patches (196 tokens) + class token, width 128, 4 pre-LayerNorm blocks with
4-head attention (separate q/k/v projections) and a 512-wide FFN (ReLU or exact GELU), learned
position embeddings, linear head on the class token: about 0.8M parameters.
Recipe: AdamW (lr 1e-3, weight decay 0.05), batch 256, 5 % warm-up then cosine, random crop
(pad 2) and horizontal flip, bf16 autocast on CUDA, seed 0. The ONNX graph takes `pixels`
[batch, 1, 28, 28] and returns `logits` [batch, 10].
"""
import argparse
import math

def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--act", choices=["relu", "gelu"], required=True)
    p.add_argument("--data", default=".cache/export/fashion-mnist")
    p.add_argument("--out", default=None)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-steps", type=int, default=0, help="stop early (smoke tests)")
    p.add_argument("--eval-samples", type=int, default=0, help="evaluate on the first N only (smoke tests)")
    return p


# Parse before importing torch, so that --help works on machines without it.
ARGS = build_parser().parse_args() if __name__ == "__main__" else None

import torch  # noqa: E402

from _common import Stopwatch, dataset_hash, device_name, load_images, random_shift, seed_everything, write_training_record  # noqa: E402


class Block(torch.nn.Module):
    def __init__(self, width, heads, ffn, act):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(width)
        self.q = torch.nn.Linear(width, width)
        self.k = torch.nn.Linear(width, width)
        self.v = torch.nn.Linear(width, width)
        self.proj = torch.nn.Linear(width, width)
        self.ln2 = torch.nn.LayerNorm(width)
        self.up = torch.nn.Linear(width, ffn)
        self.down = torch.nn.Linear(ffn, width)
        self.act = torch.nn.ReLU() if act == "relu" else torch.nn.GELU()

    def forward(self, x):
        b, t, c = x.shape
        h = self.ln1(x)
        dh = c // self.heads
        q = self.q(h).reshape(b, t, self.heads, dh).transpose(1, 2)
        k = self.k(h).reshape(b, t, self.heads, dh).transpose(1, 2)
        v = self.v(h).reshape(b, t, self.heads, dh).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(dh), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.down(self.act(self.up(self.ln2(x))))


class Vit(torch.nn.Module):
    def __init__(self, act, width=128, depth=4, heads=4, ffn=512, patch=2):
        super().__init__()
        self.patch = torch.nn.Conv2d(1, width, patch, stride=patch)
        tokens = (28 // patch) ** 2
        self.cls = torch.nn.Parameter(torch.zeros(1, 1, width))
        self.pos = torch.nn.Parameter(torch.randn(1, tokens + 1, width) * 0.02)
        self.blocks = torch.nn.ModuleList([Block(width, heads, ffn, act) for _ in range(depth)])
        self.ln = torch.nn.LayerNorm(width)
        self.head = torch.nn.Linear(width, 10)

    def forward(self, pixels):
        x = self.patch(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln(x[:, 0]))


def evaluate(model, images, labels, device):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), 1000):
            xb = images[i:i + 1000].to(device).unsqueeze(1)
            correct += (model(xb).argmax(1).cpu() == labels[i:i + 1000]).sum().item()
    return correct / len(images)


def main():
    args = ARGS
    out = args.out or f"models/vit-{args.act}-fmnist.onnx"

    seed_everything(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    x_train, y_train = load_images(args.data, "train")
    x_eval, y_eval = load_images(args.data, "evaluation")
    if args.eval_samples:
        x_eval, y_eval = x_eval[:args.eval_samples], y_eval[:args.eval_samples]
    model = Vit(args.act).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    batch = 256
    steps = args.epochs * ((len(x_train) + batch - 1) // batch)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
    clock = Stopwatch()
    step = 0
    x_dev, y_dev = x_train.to(device), y_train.to(device)
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x_train), device=device)
        for i in range(0, len(x_train), batch):
            idx = perm[i:i + batch]
            xb = random_shift(x_dev[idx], 2)
            flip = torch.rand(len(idx), device=device) < 0.5
            xb = torch.where(flip[:, None, None], xb.flip(-1), xb).unsqueeze(1)
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
                loss = torch.nn.functional.cross_entropy(model(xb), y_dev[idx], label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if args.max_steps and step >= args.max_steps:
                break
        if args.max_steps and step >= args.max_steps:
            break
        if epoch % 5 == 4 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1}: loss {loss.item():.4f} eval acc {evaluate(model, x_eval, y_eval, device):.4f}", flush=True)
    seconds = clock.seconds()
    acc = evaluate(model, x_eval, y_eval, device)
    model = model.float().cpu().eval()
    torch.save(model.state_dict(), out + ".pt")
    exporter = export(model, out)
    write_training_record(out + ".train.json", {
        "model": f"vit-{args.act}-fmnist",
        "architecture": f"ViT: 2x2 patches (196 tokens) + class token, width 128, 4 blocks, 4 heads, FFN 512 {args.act.upper()}",
        "params": sum(p.numel() for p in model.parameters()), "dataset_hash": dataset_hash(args.data),
        "recipe": "AdamW lr 1e-3 wd 0.05, batch 256, warm-up 5 % + cosine, random crop (pad 2) + flip, label smoothing 0.1, bf16 autocast",
        "epochs": args.epochs, "seed": args.seed, "train_seconds": round(seconds, 1), "trained_on": device_name(),
        "torch": torch.__version__, "exporter": exporter, "eval_accuracy_torch": acc,
    })
    print(f"{out}: eval accuracy {acc:.4f}, {seconds:.0f} s", flush=True)


def export(model, out):
    example = torch.zeros(2, 1, 28, 28)
    kwargs = dict(input_names=["pixels"], output_names=["logits"], dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}})
    if int(torch.__version__.split(".")[0]) >= 2:
        try:
            torch.onnx.export(model, (example,), out, dynamo=True, opset_version=18, external_data=False, **kwargs)
            return "dynamo"
        except Exception as e:  # the TorchScript exporter is the fallback users also reach for
            print(f"dynamo export failed ({e}); using the TorchScript exporter", flush=True)
            torch.onnx.export(model, example, out, opset_version=17, dynamo=False, **kwargs)
            return "torchscript"
    torch.onnx.export(model, example, out, opset_version=17, **kwargs)
    return "torchscript"


if __name__ == "__main__":
    main()
