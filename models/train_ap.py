"""AP (Activating-while-Pruning, Liu et al.) against plain iterative magnitude pruning on mlp-relu-mnist.

Usage:
  deno task export-data mnist
  python3 models/train_ap.py [--data .cache/export/mnist] [--model models/mlp-relu-mnist.onnx] [--out models/ap_rounds.json]

Both arms start from the trained mlp-relu-mnist weights (read from its ONNX file) and run the same
rounds with the same seed: prune, then fine-tune for --epochs with the mask fixed.
- IMP: each round prunes --rate of the remaining weights globally by |w|.
- AP: each round prunes (--rate − --ap-rate) by |w|, plus --ap-rate of the remaining weights
  among the negative ones that moved least over the round (smallest |w_t − w_{t−1}|), AP's rule
  for weights that keep neurons dead.
After each round the evaluation accuracy and the dead-neuron rate (fraction of ReLU outputs that
are zero over the evaluation split, per layer) are recorded in --out.
"""
import argparse


def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=".cache/export/mnist")
    p.add_argument("--model", default="models/mlp-relu-mnist.onnx")
    p.add_argument("--out", default="models/ap_rounds.json")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--rate", type=float, default=0.2)
    p.add_argument("--ap-rate", type=float, default=0.02)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    return p


ARGS = build_parser().parse_args() if __name__ == "__main__" else None

import json  # noqa: E402

import onnx  # noqa: E402
import torch  # noqa: E402
from onnx import numpy_helper  # noqa: E402

from _common import Stopwatch, device_name, load_images, random_shift, seed_everything  # noqa: E402
from train_mlp import Mlp  # noqa: E402


def load_trained(path):
    m = onnx.load(path)
    inits = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    model = Mlp()
    state = {}
    for name in ["fc1", "fc2", "fc3"]:
        state[f"{name}.weight"] = next(v for k, v in inits.items() if k.endswith(f"{name}.weight"))
        state[f"{name}.bias"] = next(v for k, v in inits.items() if k.endswith(f"{name}.bias"))
    model.load_state_dict(state)
    return model


def evaluate(model, images, labels):
    model.eval()
    with torch.no_grad():
        x = images.reshape(-1, 784)
        h1 = torch.relu(model.fc1(x))
        h2 = torch.relu(model.fc2(h1))
        acc = (model.fc3(h2).argmax(1) == labels).float().mean().item()
        dnr = [(h1 == 0).float().mean().item(), (h2 == 0).float().mean().item()]
    return acc, dnr


def prune(model, masks, before, rate, ap_rate):
    weights = [model.fc1.weight, model.fc2.weight]
    alive = torch.cat([w.detach()[m].abs() for w, m in zip(weights, masks)])
    n_mag = int((rate - ap_rate) * alive.numel())
    threshold = alive.kthvalue(max(1, n_mag)).values if n_mag > 0 else -1
    for w, m in zip(weights, masks):
        m &= ~(w.detach().abs() <= threshold)
    if ap_rate > 0:
        # Exactly n_ap weights: the negative ones that moved least (ties, e.g. the weights of
        # always-zero border pixels that never move, must not take the whole layer with them).
        n_ap = int(ap_rate * alive.numel())
        flat = []
        for li, (w, b, m) in enumerate(zip(weights, before, masks)):
            cand = (m & (w.detach() < 0)).flatten().nonzero().flatten()
            moves = (w.detach() - b).abs().flatten()[cand]
            flat.append((moves, cand, li))
        moves = torch.cat([f[0] for f in flat])
        owner = torch.cat([torch.full_like(f[1], f[2]) for f in flat])
        where = torch.cat([f[1] for f in flat])
        if n_ap > 0 and moves.numel() > n_ap:
            pick = torch.topk(moves, n_ap, largest=False).indices
            for li, m in enumerate(masks):
                sel = where[pick][owner[pick] == li]
                m.view(-1)[sel] = False
    with torch.no_grad():
        for w, m in zip(weights, masks):
            w.mul_(m)


def run_arm(ap, x_train, y_train, x_eval, y_eval, args):
    seed_everything(args.seed)
    model = load_trained(args.model)
    masks = [torch.ones_like(model.fc1.weight, dtype=torch.bool), torch.ones_like(model.fc2.weight, dtype=torch.bool)]
    acc, dnr = evaluate(model, x_eval, y_eval)
    rounds = [{"round": 0, "weight_sparsity": 0.0, "accuracy": acc, "dnr_layers": dnr, "dnr": sum(dnr) / 2}]
    before = [model.fc1.weight.detach().clone(), model.fc2.weight.detach().clone()]
    for r in range(1, args.rounds + 1):
        prune(model, masks, before, args.rate, args.ap_rate if ap else 0.0)
        before = [model.fc1.weight.detach().clone(), model.fc2.weight.detach().clone()]
        opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0)
        for _ in range(args.epochs):
            model.train()
            perm = torch.randperm(len(x_train))
            for i in range(0, len(x_train), 128):
                idx = perm[i:i + 128]
                loss = torch.nn.functional.cross_entropy(model(random_shift(x_train[idx], 2).reshape(-1, 784)), y_train[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                with torch.no_grad():
                    model.fc1.weight.mul_(masks[0])
                    model.fc2.weight.mul_(masks[1])
        acc, dnr = evaluate(model, x_eval, y_eval)
        total = sum(m.numel() for m in masks)
        sparsity = 1 - sum(m.sum().item() for m in masks) / total
        rounds.append({"round": r, "weight_sparsity": sparsity, "accuracy": acc, "dnr_layers": dnr, "dnr": sum(dnr) / 2})
        print(f"{'AP ' if ap else 'IMP'} round {r}: sparsity {sparsity:.3f} accuracy {acc:.4f} dnr {sum(dnr) / 2:.4f}", flush=True)
    return rounds


def main():
    args = ARGS
    clock = Stopwatch()
    x_train, y_train = load_images(args.data, "train")
    x_eval, y_eval = load_images(args.data, "evaluation")
    record = {
        "experiment": "AP vs IMP on mlp-relu-mnist (fc1, fc2 pruned; fc3 dense)",
        "rate": args.rate, "ap_rate": args.ap_rate, "epochs_per_round": args.epochs, "seed": args.seed,
        "imp": run_arm(False, x_train, y_train, x_eval, y_eval, args),
        "ap": run_arm(True, x_train, y_train, x_eval, y_eval, args),
        "seconds": round(clock.seconds(), 1), "ran_on": device_name(), "torch": torch.__version__,
        "eval_samples": len(x_eval),
    }
    with open(args.out, "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
