"""Re-exports lm-char's decode-step graph from the weights in models/lm-char.onnx.

Usage: python3 models/export_lm_decode.py [--full models/lm-char.onnx] [--out models/lm-char-decode.onnx]

Why: the first decode export passed one tensor object as both KV-cache example inputs, and the
dynamo exporter read both caches from `past_values`. This script rebuilds the PyTorch model from
the full-sequence graph's initializers (each MatMul weight is the transpose of the named Linear's
weight, identified by the bias Add that follows it), checks that the rebuilt model reproduces the
full graph's logits, and exports DecodeStep with distinct cache inputs.
"""
import argparse


def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--full", default="models/lm-char.onnx")
    p.add_argument("--out", default="models/lm-char-decode.onnx")
    return p


ARGS = build_parser().parse_args() if __name__ == "__main__" else None

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402
import torch  # noqa: E402

from train_lm import CharLm, DecodeStep, check_decode_agrees  # noqa: E402


def state_dict_from_onnx(path):
    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    consumers = {}
    for n in m.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    state = {k: v for k, v in inits.items() if not k.startswith("val_") and k != "causal"}
    for n in m.graph.node:
        if n.op_type != "MatMul" or n.input[1] not in inits or not n.input[1].startswith("val_"):
            continue
        add = [c for c in consumers.get(n.output[0], []) if c.op_type == "Add"]
        bias = next((i for a in add for i in a.input if i.endswith(".bias")), None)
        if bias is None:
            raise SystemExit(f"no bias Add after {n.name}: cannot name its weight")
        state[bias[:-len(".bias")] + ".weight"] = inits[n.input[1]].T.copy()
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, m


def main():
    args = ARGS
    state, full = state_dict_from_onnx(args.full)
    model = CharLm(96, "gelu")
    missing = model.load_state_dict(state, strict=False)
    if missing.missing_keys or missing.unexpected_keys:
        raise SystemExit(f"weights do not fit: missing {missing.missing_keys}, unexpected {missing.unexpected_keys}")
    model.eval()
    ids = torch.randint(0, 96, (64,))
    worst = check_decode_agrees(model, ids)
    heads, dh = model.blocks[0].heads, model.embed.embedding_dim // model.blocks[0].heads
    past_k = torch.zeros(len(model.blocks), 2, heads, 5, dh)
    past_v = torch.zeros(len(model.blocks), 2, heads, 5, dh)
    axes = {"ids": {0: "batch"}, "past_keys": {1: "batch", 3: "past"}, "past_values": {1: "batch", 3: "past"},
            "logits": {0: "batch"}, "present_keys": {1: "batch", 3: "present"}, "present_values": {1: "batch", 3: "present"}}
    kw = {"dynamo": False} if int(torch.__version__.split(".")[0]) >= 2 else {}
    torch.onnx.export(DecodeStep(model).eval(), (ids[None, :2].repeat(2, 1)[:, :1], past_k, past_v), args.out,
                      input_names=["ids", "past_keys", "past_values"], output_names=["logits", "present_keys", "present_values"],
                      dynamic_axes=axes, opset_version=17, **kw)
    print(f"{args.out}: decode vs full max |diff| {worst:.2e} (torch {torch.__version__}, TorchScript exporter)")


if __name__ == "__main__":
    main()
