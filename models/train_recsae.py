"""Trains recsae-words, a top-k sparse autoencoder on sasrec-words' hidden state, and exports it.

Usage (after models/train_sasrec.py, which leaves its weights in .cache/recsae/sasrec-words.pt):
  nice -n 10 python3 models/train_recsae.py [--data .cache/export/word-sequences] [--steps 2500]

Architecture (RecSAE, after Gao et al. 2024's top-k SAE): 64 inputs, 2,048 latents (32x), k = 32.
  pre = W_enc (h - b_dec) + b_enc;  z = ReLU(TopK_32(pre));  h' = W_dec z + b_dec
with W_dec's columns kept at unit norm (renormalised after every step), W_enc initialised as
W_dec's transpose and b_dec as the mean hidden state. Loss: ||h - h'||^2 / ||h - mean h||^2 (the
batch's fraction of variance unexplained) plus 1/32 of the auxiliary loss against dead latents:
the residual h - h' reconstructed by the top 32 pre-activations among the latents that fired on
none of the last 100,000 training states, as its own fraction of the residual's energy.
Data: the hidden states of 300,000 train-split histories (positions drawn at random, seed 0),
Adam (lr 5e-4), batch 1,024, CPU with one thread.

Exports models/recsae-words.onnx:
  inputs  hidden [batch, 64], latent_scale [batch, 2048] (1 keeps a latent, 0 ablates it)
  outputs latents [batch, 2048] (z before the scale), recon [batch, 64] (W_dec (z * scale) + b_dec),
          logits [batch, 2000] (recon scored against sasrec-words' item embeddings, as SASRec scores
          its own hidden state)
The decoder is the initializer `dec_t` [2048, 64] (row j = latent j's decoder vector) and `b_dec`.
"""
import argparse
import hashlib
import os


def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=".cache/export/word-sequences")
    p.add_argument("--steps", type=int, default=2500)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--states", type=int, default=300_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default="models")
    p.add_argument("--cache", default=".cache/recsae")
    return p


ARGS = build_parser().parse_args() if __name__ == "__main__" else None

import torch  # noqa: E402

from _common import Stopwatch, device_name, seed_everything, write_training_record  # noqa: E402
from train_sasrec import FIRST_ITEM, WIDTH, SASRec, histories, item_positions, load_words  # noqa: E402

LATENTS = 2048
K = 32
AUX_K = 32
AUX_COEF = 1 / 32
DEAD_AFTER = 100_000


class TopKSae(torch.nn.Module):
    def __init__(self, b_dec, item_emb):
        super().__init__()
        dec = torch.randn(LATENTS, WIDTH)
        dec = dec / dec.norm(dim=1, keepdim=True)
        self.dec_t = torch.nn.Parameter(dec)  # [latents, width]: row j is latent j's direction
        self.enc = torch.nn.Parameter(dec.clone())  # [latents, width]
        self.b_enc = torch.nn.Parameter(torch.zeros(LATENTS))
        self.b_dec = torch.nn.Parameter(b_dec.clone())
        self.register_buffer("item_emb", item_emb.clone(), persistent=False)

    def pre(self, h):
        return (h - self.b_dec) @ self.enc.t() + self.b_enc

    def latents(self, h):
        pre = self.pre(h)
        kth = torch.topk(pre, K, dim=1).values[:, -1:]
        return torch.relu(pre) * (pre >= kth).float(), pre

    def decode(self, z):
        return z @ self.dec_t + self.b_dec

    @torch.no_grad()
    def renormalise(self):
        self.dec_t /= self.dec_t.norm(dim=1, keepdim=True)


class Export(torch.nn.Module):
    def __init__(self, sae):
        super().__init__()
        self.sae = sae

    def forward(self, hidden, latent_scale):
        z, _ = self.sae.latents(hidden)
        recon = self.sae.decode(z * latent_scale)
        return z, recon, recon @ self.sae.item_emb.t()


def hidden_states(model, ids, ends, batch=4096):
    out = []
    with torch.no_grad():
        for at in range(0, ends.numel(), batch):
            out.append(model.states(histories(ids, ends[at:at + batch]))[:, -1, :])
    return torch.cat(out)


def fvu(h, r):
    return (((h - r) ** 2).sum() / ((h - h.mean(0)) ** 2).sum()).item()


def main(args):
    torch.set_num_threads(1)
    seed_everything(args.seed)
    watch = Stopwatch()
    splits, meta = load_words(args.data)
    items = len(meta["items"])
    rec = SASRec(items)
    rec.load_state_dict(torch.load(os.path.join(args.cache, "sasrec-words.pt")))
    rec.eval()
    train = splits["train"]
    gen = torch.Generator().manual_seed(args.seed)
    ends = torch.randint(1, train.numel(), (args.states,), generator=gen)
    h_train = hidden_states(rec, train, ends)
    ev = splits["evaluation"]
    ev_pos = item_positions(ev)
    h_eval = hidden_states(rec, ev, ev_pos)
    print(f"{h_train.shape[0]} train states, {h_eval.shape[0]} evaluation states ({watch.seconds():.0f} s)", flush=True)

    sae = TopKSae(h_train.mean(0), rec.item_emb.weight[FIRST_ITEM:].detach())
    opt = torch.optim.Adam(sae.parameters(), lr=5e-4)
    last_fired = torch.zeros(LATENTS, dtype=torch.long)
    seen = 0
    var = ((h_train - h_train.mean(0)) ** 2).sum(1).mean()
    for step in range(1, args.steps + 1):
        idx = torch.randint(0, h_train.shape[0], (args.batch,), generator=gen)
        h = h_train[idx]
        z, pre = sae.latents(h)
        r = sae.decode(z)
        loss_main = ((h - r) ** 2).sum(1).mean() / var
        seen += args.batch
        last_fired[(z > 0).any(0)] = seen
        dead = (seen - last_fired) >= DEAD_AFTER
        loss_aux = torch.zeros(())
        if dead.any() and seen >= DEAD_AFTER:
            e = (h - r).detach()
            masked = pre.masked_fill(~dead[None, :], float("-inf"))
            kk = min(AUX_K, int(dead.sum()))
            vals, where = torch.topk(masked, kk, dim=1)
            za = torch.zeros_like(pre).scatter(1, where, torch.relu(vals))
            e_hat = za @ sae.dec_t
            loss_aux = ((e - e_hat) ** 2).sum(1).mean() / (e ** 2).sum(1).mean().clamp(min=1e-12)
        loss = loss_main + AUX_COEF * loss_aux
        opt.zero_grad()
        loss.backward()
        opt.step()
        sae.renormalise()
        if step % 250 == 0 or step == args.steps:
            print(f"step {step} fvu {loss_main.item():.4f} aux {loss_aux.item():.3f} dead {int(dead.sum())} ({watch.seconds():.0f} s)", flush=True)

    sae.eval()
    with torch.no_grad():
        z_eval, _ = sae.latents(h_eval)
        r_eval = sae.decode(z_eval)
        eval_fvu = fvu(h_eval, r_eval)
        eval_dead = float(((z_eval > 0).sum(0) == 0).float().mean())
        z_tr, _ = sae.latents(h_train[:100_000])
        train_dead = float(((z_tr > 0).sum(0) == 0).float().mean())
    print(f"evaluation FVU {eval_fvu:.4f}, dead latents {eval_dead:.4f} (evaluation), {train_dead:.4f} (100k train states)")

    path = os.path.join(args.out_dir, "recsae-words.onnx")
    torch.onnx.export(
        Export(sae), (h_eval[:2], torch.ones(2, LATENTS)), path,
        input_names=["hidden", "latent_scale"], output_names=["latents", "recon", "logits"],
        dynamic_axes={"hidden": {0: "batch"}, "latent_scale": {0: "batch"}, "latents": {0: "batch"}, "recon": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
    )
    sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
    rec_path = os.path.join(args.out_dir, "sasrec-words.onnx")
    write_training_record(path + ".train.json", {
        "model": "recsae-words",
        "script": "models/train_recsae.py",
        "recommender": "sasrec-words",
        "recommender_sha256": hashlib.sha256(open(rec_path, "rb").read()).hexdigest(),
        "data": meta["id"],
        "data_hash": meta["hash"],
        "device": device_name(),
        "threads": 1,
        "seconds": round(watch.seconds()),
        "steps": args.steps,
        "batch": args.batch,
        "train_states": args.states,
        "seed": args.seed,
        "latents": LATENTS,
        "k": K,
        "aux_k": AUX_K,
        "aux_coef": AUX_COEF,
        "dead_after_states": DEAD_AFTER,
        "evaluation_fvu": round(eval_fvu, 5),
        "evaluation_dead_ratio": round(eval_dead, 4),
        "train_dead_ratio": round(train_dead, 4),
        "evaluation_states": int(h_eval.shape[0]),
        "sha256": sha,
        "torch": torch.__version__,
    })
    print(f"{path} {sha}")


if __name__ == "__main__":
    main(ARGS)
