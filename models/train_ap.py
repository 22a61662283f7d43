"""AP (Activating-while-Pruning, Liu et al.) against plain iterative magnitude pruning (IMP):
trains a small dense model, runs both pruning arms from it, and exports every round's model to ONNX.

Usage:
  deno task export-data mnist && deno task export-data fashion-mnist
  python3 models/train_ap.py --model ap-mlp-mnist
  python3 models/train_ap.py --model ap-cnn-fmnist

Models (small on purpose: every round of both arms is a committed file):
- ap-mlp-mnist: 784-100-100-10 MLP, ReLU, on MNIST; fc1 and fc2 are pruned, fc3 stays dense.
- ap-cnn-fmnist: three 3x3 conv layers (16, 32, 32 channels, each ReLU then 2x2 max-pool) and
  a 288-64-10 head (ReLU), on Fashion-MNIST, the small CIFAR-style ReLU CNN where the paper's
  claim (+3-4 % over IMP) can show; conv2, conv3 and fc1 are pruned, conv1 and fc2 stay dense.
Both arms start from the same dense model (round 0) and run the same rounds with the same seed:
prune, then fine-tune on --round-samples images with the mask fixed.
- IMP: each round prunes --rate of the remaining weights globally by |w|.
- AP: each round prunes (--rate - --ap-rate) by |w|, plus --ap-rate of the remaining weights
  among the negative ones that moved least over the round (smallest |w_t - w_{t-1}|), AP's rule
  for weights that keep neurons dead.
Every parameter is rounded to float16 after each round and stored as float16 in the ONNX file
(one Cast to float32 per initializer at the top of the graph), so the files are half the size and
the model PyTorch evaluates is exactly the one stored. Files: models/ap/<model>-r0.onnx (dense),
models/ap/<model>-<imp|ap>-r<k>.onnx; the training record (recipe, sha256 and PyTorch's accuracy
per file, for the card's cross-check) goes to models/ap/<model>.train.json. The `ap` suite
measures the files on ORT; PyTorch's figures are not reported.
"""
import argparse

MODELS = {
    "ap-mlp-mnist": {"data": ".cache/export/mnist", "epochs": 30, "round_samples": 4 * 7499, "rounds": 8},
    "ap-cnn-fmnist": {"data": ".cache/export/fashion-mnist", "epochs": 6, "round_samples": 20000, "rounds": 10},
}


def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=sorted(MODELS), required=True)
    p.add_argument("--data", default=None, help="exported dataset folder (default: the model's)")
    p.add_argument("--out-dir", default="models/ap")
    p.add_argument("--epochs", type=int, default=None, help="dense training epochs")
    p.add_argument("--round-samples", type=int, default=None,
                   help="training images seen per round of fine-tuning (drawn without replacement per epoch)")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--rate", type=float, default=0.2)
    p.add_argument("--ap-rate", type=float, default=0.02)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    return p


# Parse before importing torch, so that --help works on machines without it.
ARGS = build_parser().parse_args() if __name__ == "__main__" else None

import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

import onnx  # noqa: E402
import torch  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from _common import Stopwatch, dataset_hash, device_name, load_images, random_shift, seed_everything  # noqa: E402


class Mlp(torch.nn.Module):
    pruned = ["fc1", "fc2"]

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 100)
        self.fc2 = torch.nn.Linear(100, 100)
        self.fc3 = torch.nn.Linear(100, 10)

    def forward(self, x):
        return self.fc3(self.hidden(x)[-1])

    def hidden(self, x):
        h1 = torch.relu(self.fc1(x.reshape(-1, 784)))
        return [h1, torch.relu(self.fc2(h1))]


class Cnn(torch.nn.Module):
    pruned = ["conv2", "conv3", "fc1"]

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = torch.nn.Conv2d(32, 32, 3, padding=1)
        self.fc1 = torch.nn.Linear(288, 64)
        self.fc2 = torch.nn.Linear(64, 10)

    def forward(self, x):
        return self.fc2(self.hidden(x)[-1])

    def hidden(self, x):
        pool = torch.nn.functional.max_pool2d
        h1 = torch.relu(self.conv1(x.reshape(-1, 1, 28, 28)))
        h2 = torch.relu(self.conv2(pool(h1, 2)))
        h3 = torch.relu(self.conv3(pool(h2, 2)))
        return [h1, h2, h3, torch.relu(self.fc1(pool(h3, 2).flatten(1)))]


def make_model(name):
    return Mlp() if name == "ap-mlp-mnist" else Cnn()


def round_to_half(model):
    """Rounds every parameter to float16 values: the stored file is then exactly this model."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())


def evaluate(model, images, labels):
    model.eval()
    with torch.no_grad():
        hs = model.hidden(images)
        logits = model.forward(images)
        acc = (logits.argmax(1) == labels).float().mean().item()
        dnr = [(h == 0).float().mean().item() for h in hs]
    return acc, dnr


def train_samples(model, x, y, samples, lr, masks=None, cosine=False):
    """Trains on `samples` images in batches of 128, each pass over the data in a fresh order."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4 if masks is None else 0)
    steps = (samples + 127) // 128
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps) if cosine else None
    order = torch.cat([torch.randperm(len(x)) for _ in range((samples + len(x) - 1) // len(x))])[:samples]
    model.train()
    for i in range(0, samples, 128):
        idx = order[i:i + 128]
        loss = torch.nn.functional.cross_entropy(model(random_shift(x[idx], 2)), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched:
            sched.step()
        if masks is not None:
            with torch.no_grad():
                for w, m in masks:
                    w.mul_(m)


def prune(masks, before, rate, ap_rate):
    alive = torch.cat([w.detach()[m].abs() for w, m in masks])
    n_mag = int((rate - ap_rate) * alive.numel())
    threshold = alive.kthvalue(max(1, n_mag)).values if n_mag > 0 else -1
    for w, m in masks:
        m &= ~(w.detach().abs() <= threshold)
    if ap_rate > 0:
        # Exactly n_ap weights: the negative ones that moved least (ties, e.g. the weights of
        # always-zero border pixels that never move, must not take a whole layer with them).
        n_ap = int(ap_rate * alive.numel())
        flat = []
        for li, ((w, m), b) in enumerate(zip(masks, before)):
            cand = (m & (w.detach() < 0)).flatten().nonzero().flatten()
            moves = (w.detach() - b).abs().flatten()[cand]
            flat.append((moves, cand, li))
        moves = torch.cat([f[0] for f in flat])
        owner = torch.cat([torch.full_like(f[1], f[2]) for f in flat])
        where = torch.cat([f[1] for f in flat])
        if n_ap > 0 and moves.numel() > n_ap:
            pick = torch.topk(moves, n_ap, largest=False).indices
            for li, (_, m) in enumerate(masks):
                sel = where[pick][owner[pick] == li]
                m.view(-1)[sel] = False
    with torch.no_grad():
        for w, m in masks:
            w.mul_(m)


def export(model, name, path):
    """ONNX export with float16 initializers, each cast to float32 once at the top of the graph."""
    model.eval()
    mlp = name == "ap-mlp-mnist"
    dummy = torch.zeros(1, 784) if mlp else torch.zeros(1, 1, 28, 28)
    inp = "input" if mlp else "pixels"
    tmp = path + ".tmp"
    torch.onnx.export(model, dummy, tmp, input_names=[inp], output_names=["logits"],
                      dynamic_axes={inp: {0: "batch"}, "logits": {0: "batch"}}, opset_version=17)
    m = onnx.load(tmp)
    os.remove(tmp)
    casts = []
    for init in m.graph.initializer:
        if init.data_type != TensorProto.FLOAT:
            continue
        arr = numpy_helper.to_array(init).astype("float16")
        init.CopyFrom(numpy_helper.from_array(arr, init.name))
        f32 = init.name + "_f32"
        for node in m.graph.node:
            for i, x in enumerate(node.input):
                if x == init.name:
                    node.input[i] = f32
        casts.append(helper.make_node("Cast", [init.name], [f32], to=TensorProto.FLOAT, name=f"cast_{init.name}"))
    nodes = casts + list(m.graph.node)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    m.producer_name = "sparsebench models/train_ap.py"
    onnx.checker.check_model(m)
    onnx.save(m, path)
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest(), os.path.getsize(path)


def run_arm(ap, dense_state, data, args, name, out):
    seed_everything(args.seed)
    x_train, y_train, x_eval, y_eval = data
    model = make_model(name)
    model.load_state_dict(dense_state)
    masks = [(getattr(model, n).weight, torch.ones_like(getattr(model, n).weight, dtype=torch.bool)) for n in model.pruned]
    arm = "ap" if ap else "imp"
    rounds = []
    before = [w.detach().clone() for w, _ in masks]
    for r in range(1, args.rounds + 1):
        prune(masks, before, args.rate, args.ap_rate if ap else 0.0)
        before = [w.detach().clone() for w, _ in masks]
        train_samples(model, x_train, y_train, args.round_samples, 5e-4, masks=masks)
        round_to_half(model)
        acc, dnr = evaluate(model, x_eval, y_eval)
        total = sum(m.numel() for _, m in masks)
        sparsity = 1 - sum(m.sum().item() for _, m in masks) / total
        path = os.path.join(args.out_dir, f"{name}-{arm}-r{r}.onnx")
        sha, size = export(model, name, path)
        rounds.append({"round": r, "file": path, "sha256": sha, "bytes": size, "weight_sparsity": sparsity,
                       "accuracy_torch": acc, "dnr_torch": dnr})
        print(f"{arm:3} round {r}: sparsity {sparsity:.3f} accuracy {acc:.4f} dnr {sum(dnr) / len(dnr):.4f}", flush=True)
        out[arm] = rounds
    return rounds


def main():
    args = ARGS
    cfg = MODELS[args.model]
    args.data = args.data or cfg["data"]
    args.epochs = cfg["epochs"] if args.epochs is None else args.epochs
    args.round_samples = cfg["round_samples"] if args.round_samples is None else args.round_samples
    args.rounds = cfg["rounds"] if args.rounds is None else args.rounds
    torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    clock = Stopwatch()
    x_train, y_train = load_images(args.data, "train")
    x_eval, y_eval = load_images(args.data, "evaluation")
    data = (x_train, y_train, x_eval, y_eval)
    seed_everything(args.seed)
    model = make_model(args.model)
    train_samples(model, x_train, y_train, args.epochs * len(x_train), 1e-3, cosine=True)
    round_to_half(model)
    acc, dnr = evaluate(model, x_eval, y_eval)
    print(f"dense: accuracy {acc:.4f} dnr {sum(dnr) / len(dnr):.4f} ({clock.seconds():.0f} s)", flush=True)
    path = os.path.join(args.out_dir, f"{args.model}-r0.onnx")
    sha, size = export(model, args.model, path)
    record = {
        "model": args.model,
        "architecture": "784-100-100-10 MLP, ReLU" if args.model == "ap-mlp-mnist"
        else "conv3x3(16)-pool-conv3x3(32)-pool-conv3x3(32)-pool-fc(64)-fc(10), ReLU",
        "params": sum(p.numel() for p in model.parameters()),
        "pruned": [f"{n}.weight" for n in model.pruned],
        "dataset_hash": dataset_hash(args.data),
        "recipe": f"dense: AdamW lr 1e-3 wd 1e-4, batch 128, cosine, random shift 2 px, {args.epochs} epochs; "
                  f"each round: prune, then AdamW lr 5e-4 on {args.round_samples} images with the mask fixed",
        "rate": args.rate, "ap_rate": args.ap_rate, "rounds": args.rounds, "seed": args.seed,
        "dense": {"round": 0, "file": path, "sha256": sha, "bytes": size, "weight_sparsity": 0.0,
                  "accuracy_torch": acc, "dnr_torch": dnr},
    }
    dense_state = {k: v.clone() for k, v in model.state_dict().items()}
    run_arm(False, dense_state, data, args, args.model, record)
    run_arm(True, dense_state, data, args, args.model, record)
    record.update({"train_seconds": round(clock.seconds(), 1), "trained_on": device_name(), "threads": args.threads,
                   "torch": torch.__version__, "onnx": onnx.__version__, "eval_samples": len(x_eval)})
    with open(os.path.join(args.out_dir, f"{args.model}.train.json"), "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
