"""Exports small standard architectures to ONNX and records PyTorch's FLOP count for each, the
fixtures `inspect` is tested against (FLOPs within 1 % of torch.utils.flop_counter.FlopCounterMode).

Usage: python3 models/make_flop_fixtures.py [--out src/onnx/testdata]

Needs torch >= 2.1 (FlopCounterMode) and, for the transformers models, the transformers package
(on the GPU machine: torch 2.11, transformers 5.17). Models are built from configs with random
weights, so nothing is downloaded. Each is exported by the dynamo exporter and by the TorchScript
exporter when both are available. Attention runs in eager mode: FlopCounterMode counts 0 for the
CPU scaled-dot-product kernel (pytorch#195460), and the ONNX graphs hold explicit MatMuls.
"""
import argparse
import json
import os

import torch
from torch.utils.flop_counter import FlopCounterMode


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(64, 256)
        self.fc2 = torch.nn.Linear(256, 64)

    def forward(self, x):
        return self.fc2(torch.nn.functional.gelu(self.fc1(x)))


def models():
    yield "mlp-gelu", Mlp(), {"x": torch.randn(4, 64)}
    try:
        import transformers as tf
    except ImportError:
        print("transformers not installed: only the MLP fixture")
        return
    ids = torch.randint(0, 256, (1, 32))
    yield "bert", tf.BertModel(tf.BertConfig(vocab_size=256, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                              intermediate_size=256, max_position_embeddings=64, attn_implementation="eager")), {"input_ids": ids}
    yield "gpt2", tf.GPT2LMHeadModel(tf.GPT2Config(vocab_size=256, n_embd=64, n_layer=2, n_head=4, n_positions=64,
                                                     attn_implementation="eager")), {"input_ids": ids}
    yield "llama", tf.LlamaForCausalLM(tf.LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=172, num_hidden_layers=2,
                                                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                                                       attn_implementation="eager")), {"input_ids": ids}
    yield "vit", tf.ViTForImageClassification(tf.ViTConfig(image_size=32, patch_size=4, num_channels=3, hidden_size=64,
                                                            num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                                                            num_labels=10, attn_implementation="eager")), {"pixel_values": torch.randn(1, 3, 32, 32)}


class Wrapped(torch.nn.Module):
    """Calls a model with keyword inputs and returns its first output tensor (stable export)."""

    def __init__(self, model, names):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *args):
        out = self.model(**dict(zip(self.names, args)))
        if isinstance(out, torch.Tensor):
            return out
        return out.logits if hasattr(out, "logits") and out.logits is not None else out[0]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="src/onnx/testdata")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    expected = {}
    for name, model, inputs in models():
        model.eval()
        names = list(inputs)
        wrapped = Wrapped(model, names).eval()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            wrapped(*inputs.values())
        flops = counter.get_total_flops()
        shapes = {k: list(v.shape) for k, v in inputs.items()}
        for exporter in ("dynamo", "torchscript"):
            path = os.path.join(args.out, f"{name}.{exporter}.onnx")
            try:
                kw = {"dynamo": exporter == "dynamo"}
                if exporter == "dynamo":
                    kw.update(opset_version=18, external_data=False)
                else:
                    kw.update(opset_version=17)
                torch.onnx.export(wrapped, tuple(inputs.values()), path, input_names=names, output_names=["output"], **kw)
            except Exception as e:
                print(f"{name} ({exporter}): export failed: {str(e).splitlines()[0]}")
                continue
            expected[os.path.basename(path)] = {"flops": flops, "shapes": shapes, "torch": torch.__version__}
            print(f"{path}: FlopCounterMode {flops}")
    with open(os.path.join(args.out, "flop_fixtures.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
