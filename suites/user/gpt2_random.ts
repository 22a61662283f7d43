/**
 * A user's suite, written by `deno task suite new --model src/onnx/testdata/gpt2.dynamo.onnx --data random:8 --id gpt2-random --force`.
 * The model and data are pinned by content; rerun with `deno task bench --suite gpt2-random`.
 *
 * @module
 */

import { defineSuite } from "../../src/suite.ts";
import type { ModelSuite } from "../../src/suite.ts";

const suite: ModelSuite = {
  "kind": "model",
  "id": "gpt2-random",
  "title": "gpt2.dynamo.onnx on 8 seeded random inputs",
  "description":
    "A user's model: every applicable method; quality against the dense model's own outputs; speed on the CPU targets.",
  "model": {
    "id": "gpt2-dynamo",
    "path": "src/onnx/testdata/gpt2.dynamo.onnx",
    "sha256": "2ef2dafa589d8291fb804b9d802fa10cd48ed13b34dbdcf5e1069f986868a755",
  },
  "dataset": {
    "id": "random",
    "package": "random",
    "version": "1",
    "hash": "553951fa88b0558b27603236676ad8e1cd8e58af1d6769c4bce5c1e4fe5405a3",
    "evaluation": {
      "split": "evaluation",
      "samples": 8,
    },
    "calibration": {
      "split": "calibration",
      "samples": 8,
    },
    "source": {
      "kind": "random",
      "inputs": [
        {
          "name": "input_ids",
          "type": "int64",
          "dims": [
            1,
            32,
          ],
          "fill": "ids",
          "high": 256,
        },
      ],
      "evaluation": 8,
      "calibration": 8,
      "seed": 1,
    },
  },
  "task": {
    "kind": "tensors",
    "inputs": [
      "input_ids",
    ],
    "output": "output",
    "scoring": "none",
  },
  "metric": "agreement",
  "targets": [
    "ort-wasm",
    "ort-node",
  ],
  "accuracyTarget": "ort-node",
  "variants": [
    {
      "method": "teal",
      "sparsity": [
        0.25,
        0.5,
        0.7,
        0.9,
      ],
    },
    {
      "method": "wina",
      "sparsity": [
        0.25,
        0.5,
        0.7,
        0.9,
      ],
    },
    {
      "method": "wina",
      "params": {
        "select": "threshold",
      },
      "sparsity": [
        0.25,
        0.5,
        0.7,
        0.9,
      ],
    },
    {
      "method": "cats",
      "sparsity": [
        0.25,
        0.5,
        0.7,
        0.9,
      ],
    },
    {
      "method": "stat-topk",
      "sparsity": [
        0.25,
        0.5,
        0.7,
        0.9,
      ],
    },
    {
      "method": "topk",
      "sparsity": [
        0.25,
        0.5,
        0.7,
        0.9,
      ],
    },
    {
      "method": "magnitude",
      "sparsity": [
        0.25,
        0.5,
        0.7,
        0.9,
      ],
    },
    {
      "method": "wanda",
      "sparsity": [
        0.25,
        0.5,
        0.7,
        0.9,
      ],
    },
    {
      "method": "sparsegpt",
      "sparsity": [
        0.25,
        0.5,
        0.7,
        0.9,
      ],
    },
  ],
  "timing": {
    "warmupRuns": 3,
    "minRuns": 20,
    "minTimeMs": 500,
    "maxRuns": 200,
    "maxTimeMs": 8000,
  },
  "seed": 1,
  "evalBatch": 1,
  "quick": {
    "evaluationSamples": 8,
    "calibrationSamples": 8,
    "variants": [
      {
        "method": "teal",
        "sparsity": [
          0.5,
        ],
      },
      {
        "method": "wina",
        "sparsity": [
          0.5,
        ],
      },
      {
        "method": "wina",
        "params": {
          "select": "threshold",
        },
        "sparsity": [
          0.5,
        ],
      },
      {
        "method": "cats",
        "sparsity": [
          0.5,
        ],
      },
      {
        "method": "stat-topk",
        "sparsity": [
          0.5,
        ],
      },
      {
        "method": "topk",
        "sparsity": [
          0.5,
        ],
      },
      {
        "method": "magnitude",
        "sparsity": [
          0.5,
        ],
      },
      {
        "method": "wanda",
        "sparsity": [
          0.5,
        ],
      },
      {
        "method": "sparsegpt",
        "sparsity": [
          0.5,
        ],
      },
    ],
    "timing": {
      "warmupRuns": 2,
      "minRuns": 10,
      "minTimeMs": 0,
      "maxRuns": 10,
      "maxTimeMs": 3000,
    },
  },
  "inDefault": false,
};

export default defineSuite(suite);
