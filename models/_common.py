"""Shared helpers of the training scripts: the exported splits, seeding, timing, ONNX export.

The data comes from `deno task export-data` (files in .cache/export/<dataset>/), so training sees
exactly the splits the suites evaluate on.
"""
import json
import os
import random
import time

import numpy as np
import torch


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_images(data_dir, split):
    """Images (N, 28, 28) float32 in [0, 1] and labels (N,) int64 of one split."""
    meta = json.load(open(os.path.join(data_dir, "meta.json")))
    info = meta[split]
    n = info["count"]
    if info.get("format") == "u8/255":
        raw = np.fromfile(os.path.join(data_dir, f"{split}.images.u8"), dtype=np.uint8)
        images = raw.astype(np.float32) / np.float32(255)
    else:
        images = np.fromfile(os.path.join(data_dir, f"{split}.images.f32"), dtype=np.float32)
    labels = np.fromfile(os.path.join(data_dir, f"{split}.labels.u8"), dtype=np.uint8)
    assert images.size == n * 784 and labels.size == n, f"{data_dir}/{split}: sizes do not match meta.json"
    return torch.from_numpy(images.reshape(n, 28, 28)), torch.from_numpy(labels.astype(np.int64))


def load_text(data_dir, split):
    """Character ids of one split as int64, and the vocabulary."""
    meta = json.load(open(os.path.join(data_dir, "meta.json")))
    ids = np.fromfile(os.path.join(data_dir, f"{split}.ids.u8"), dtype=np.uint8)
    return torch.from_numpy(ids.astype(np.int64)), meta["vocab"]


def dataset_hash(data_dir):
    return json.load(open(os.path.join(data_dir, "meta.json")))["hash"]


def random_shift(x, max_shift):
    """Shifts each image of a (N, 28, 28) batch by up to max_shift pixels (zero fill)."""
    n = x.shape[0]
    padded = torch.nn.functional.pad(x, (max_shift,) * 4)
    dx = torch.randint(0, 2 * max_shift + 1, (n,))
    dy = torch.randint(0, 2 * max_shift + 1, (n,))
    rows = (dy[:, None] + torch.arange(28)[None, :])
    cols = (dx[:, None] + torch.arange(28)[None, :])
    return padded[torch.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


class Stopwatch:
    def __init__(self):
        self.start = time.time()

    def seconds(self):
        return time.time() - self.start


def write_training_record(path, record):
    """The facts a model card quotes about training (where, how long, recipe)."""
    with open(path, "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")


def device_name(device=None):
    """The machine a run trained on: the GPU's name when `device` is a CUDA device (or, given no
    device, whenever one is visible), else the CPU."""
    cuda = torch.cuda.is_available() if device is None else torch.device(device).type == "cuda"
    if cuda:
        return torch.cuda.get_device_name(torch.device(device or "cuda"))
    return f"CPU ({os.cpu_count()} cores), torch {torch.__version__}"
