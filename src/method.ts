/**
 * The interface every sparsity method implements (one file per method under `methods/`).
 *
 * A method turns the dense model into a variant: it calibrates on the calibration split when it
 * needs to, rewrites the ONNX graph so that ORT backends compute exactly what the sparse model
 * computes (accuracy), and says which linear layers' work shrinks and by which measured density
 * (effective FLOPs, and the plan a skipping kernel follows).
 *
 * @module
 */

import type { ModelProto } from "./onnx/model.ts";
import type { SelectRule } from "../kernels/select.ts";

/** Activations captured on the calibration split: each value flattened to [rows, lastDim]. */
export interface Captured {
  /** Elements, row-major. */
  data: Float32Array;
  /** Size of the last dimension (features per row). */
  width: number;
}

/** What a method's `prepare` gets. */
export interface MethodContext {
  /** A private copy of the dense model; the method may rewrite it in place. */
  model: ModelProto;
  /** Target sparsity in [0, 1), or null for methods without one. */
  sparsity: number | null;
  /** Method parameters from the suite. */
  params: Record<string, number | string | boolean>;
  /** Seed. */
  seed: number;
  /**
   * Runs a model on the calibration split and returns the named values.
   *
   * @param model The model to run (usually the dense one, or a partly rewritten one).
   * @param values Value names to capture.
   * @returns The captured values.
   */
  capture(model: ModelProto, values: string[]): Promise<Map<string, Captured>>;
  /**
   * The shape of a value of the dense model for the timed (batch-1) input.
   *
   * @param name Value name.
   * @returns Its dimensions, or undefined.
   */
  valueShape(name: string): number[] | undefined;
}

/** A linear layer whose work a skipping kernel reduces. */
export interface SparseLinear {
  /** Name of the linear (see `Linear.name`). */
  linear: string;
  /** The value whose fraction of nonzero elements is the density the work scales with. */
  densityOf: string;
  /**
   * `input`: rows of W for zero inputs are skipped (input-sparse GEMV); `output`: only the
   * neurons (columns) selected are computed (gathered FFN).
   */
  mode: "input" | "output";
}

/** The cost of selecting the active elements, charged to effective FLOPs. */
export interface SelectionCost {
  /** The value the selection reads. */
  value: string;
  /** FLOPs per element of that value. */
  flopsPerElement: number;
}

/**
 * What the `wgsl` backend's kernels skip, per linear layer, so they compute what the rewritten
 * graph computes: a selection rule on a linear's input (input-sparse GEMV), and for gated FFNs a
 * rule on the gate that picks the neurons (gathered FFN).
 */
export interface KernelPlan {
  /** By linear name: the rule on its input; `preActivation` when the rule sees the value before the previous layer's activation. */
  inputs: Record<string, { rule: SelectRule; preActivation?: boolean }>;
  /** By the down projection's name of a gated FFN: the rule on the gate, on act(g) or on g. */
  gates: Record<string, { rule: SelectRule; on: "activation" | "pre-activation" }>;
  /** Build the kernels from the variant's own weights (pruned or sliced), not the dense model's. */
  weightsFromVariant?: boolean;
}

/** A prepared variant. */
export interface VariantPlan {
  /** The rewritten model (runs on every ORT backend). */
  model: ModelProto;
  /** Linears whose work shrinks. */
  sparse: SparseLinear[];
  /** What the selection costs. */
  selection: SelectionCost[];
  /** The same selection for the `wgsl` backend's kernels (omitted: the method has no kernel form). */
  kernel?: KernelPlan;
  /**
   * FLOP factors of whole nodes, for methods that shrink shapes rather than skip rows (token
   * pruning, sliced neurons): the node's dense FLOPs × `constant` × density(`probe`)^`power`,
   * where the density is measured on the evaluation split like the others.
   */
  nodeScales?: { node: string; constant: number; probe?: string; power?: number }[];
  /** Facts worth recording (e.g. calibrated thresholds), shown in the report. */
  notes?: Record<string, number | string>;
  /** Figures that become CSV columns of the variant's cells (e.g. compression_ratio). */
  extra?: Record<string, number | string>;
}

/** A sparsity method. */
export interface SparsityMethod {
  /** Method id, as suites name it. */
  id: string;
  /** One-line description, with the paper it comes from. */
  title: string;
  /** Whether it needs a target sparsity. */
  needsSparsity: boolean;
  /** Whether its thresholds are calibrated (realised sparsity should land within ±2 points). */
  calibrated: boolean;
  /**
   * Builds the variant.
   *
   * @param ctx Model, sparsity, parameters and calibration access.
   * @returns The variant.
   */
  prepare(ctx: MethodContext): Promise<VariantPlan>;
}
