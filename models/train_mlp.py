"""Trains mlp-relu-mnist (784-512-512-10, ReLU) on the MNIST train split and exports it to ONNX.

Usage:
  deno task export-data mnist
  python3 models/train_mlp.py [--data .cache/export/mnist] [--out models/mlp-relu-mnist.onnx]

Recipe: AdamW (lr 1e-3, weight decay 1e-4), batch 128, cosine schedule, random shifts of up to
2 pixels, 40 epochs, seed 0. The ONNX graph takes `input` [batch, 784] and returns `logits`
[batch, 10]; the training facts go to <out>.train.json for the model card.
"""
import argparse

def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=".cache/export/mnist")
    p.add_argument("--out", default="models/mlp-relu-mnist.onnx")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    return p


# Parse before importing torch, so that --help works on machines without it.
ARGS = build_parser().parse_args() if __name__ == "__main__" else None

import torch  # noqa: E402

from _common import Stopwatch, dataset_hash, device_name, load_images, random_shift, seed_everything, write_training_record  # noqa: E402


class Mlp(torch.nn.Module):
    def __init__(self, hidden=512):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, hidden)
        self.fc2 = torch.nn.Linear(hidden, hidden)
        self.fc3 = torch.nn.Linear(hidden, 10)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def evaluate(model, images, labels):
    model.eval()
    with torch.no_grad():
        return (model(images.reshape(-1, 784)).argmax(1) == labels).float().mean().item()


def main():
    args = ARGS

    seed_everything(args.seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    x_train, y_train = load_images(args.data, "train")
    x_eval, y_eval = load_images(args.data, "evaluation")
    model = Mlp()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    steps_per_epoch = (len(x_train) + 127) // 128
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * steps_per_epoch)
    clock = Stopwatch()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x_train))
        for i in range(0, len(x_train), 128):
            idx = perm[i:i + 128]
            xb = random_shift(x_train[idx], 2).reshape(-1, 784)
            loss = torch.nn.functional.cross_entropy(model(xb), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if epoch % 5 == 4 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1}: loss {loss.item():.4f} eval acc {evaluate(model, x_eval, y_eval):.4f}", flush=True)
    seconds = clock.seconds()
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 784), args.out, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17)
    write_training_record(args.out + ".train.json", {
        "model": "mlp-relu-mnist", "architecture": "784-512-512-10 MLP, ReLU",
        "params": sum(p.numel() for p in model.parameters()), "dataset_hash": dataset_hash(args.data),
        "recipe": "AdamW lr 1e-3 wd 1e-4, batch 128, cosine, random shift 2 px",
        "epochs": args.epochs, "seed": args.seed, "train_seconds": round(seconds, 1), "trained_on": device_name(),
        "torch": torch.__version__, "eval_accuracy_torch": evaluate(model, x_eval, y_eval),
    })


if __name__ == "__main__":
    main()
