/**
 * 2-D convolutions as the weight-pruning methods see them: each output channel's filter is one
 * row of a matrix [out, in/groups · kh · kw] (the layout ONNX already stores), and the layer is a
 * linear over im2col patches of its input, so Wanda's input norms and SparseGPT's Hessian are taken
 * over the unfolded patches (stride, padding, dilation and groups respected).
 *
 * @module
 */

import { attrInt, attrInts, GraphIndex } from "../src/onnx/graph.ts";
import type { ModelProto, NodeProto } from "../src/onnx/model.ts";
import { floatTensor } from "../src/onnx/tensor_data.ts";
import type { MethodContext } from "../src/method.ts";
import { replaceInitializer } from "./_weights.ts";

/** A 2-D Conv with a constant weight [out, in/groups, kh, kw]. */
export interface ConvLayer {
  /** The Conv node. */
  node: NodeProto;
  /** Name used in reports and FLOP counts (the node name, or its output when unnamed). */
  name: string;
  /** The activation input [n, in, h, w]. */
  input: string;
  /** Initializer holding W. */
  weight: string;
  /** Output channels. */
  outChannels: number;
  /** Input channels per group. */
  inPerGroup: number;
  /** Groups. */
  groups: number;
  /** Kernel height and width. */
  kernel: [number, number];
  /** Strides (h, w). */
  stride: [number, number];
  /** Pads: top, left, bottom, right. */
  pads: [number, number, number, number];
  /** Dilations (h, w). */
  dilation: [number, number];
  /** Row length of the filter matrix: inPerGroup · kh · kw. */
  rowLength: number;
}

/**
 * The 2-D convolutions of a model with a constant float weight and explicit padding, in graph
 * order. Others (1-D/3-D, auto_pad) are left out: the methods leave them dense.
 *
 * @param model The model.
 * @returns The convolutions.
 */
export function findConvs(model: ModelProto): ConvLayer[] {
  const idx = new GraphIndex(model.graph!);
  const out: ConvLayer[] = [];
  for (const node of model.graph!.node ?? []) {
    if (node.opType !== "Conv") continue;
    const weight = node.input?.[1] ?? "";
    if (!idx.initializers.has(weight)) continue;
    const dims = idx.constantFloats(weight)?.dims;
    if (!dims || dims.length !== 4) continue;
    const autoPad = node.attribute?.find((a) => a.name === "auto_pad");
    if (autoPad && new TextDecoder().decode(autoPad.s ?? new Uint8Array()) !== "NOTSET") continue;
    const [o, ipg, kh, kw] = dims as [number, number, number, number];
    const s = attrInts(node, "strides") ?? [1, 1];
    const p = attrInts(node, "pads") ?? [0, 0, 0, 0];
    const d = attrInts(node, "dilations") ?? [1, 1];
    out.push({
      node,
      name: node.name || node.output?.[0] || "",
      input: node.input![0]!,
      weight,
      outChannels: o,
      inPerGroup: ipg,
      groups: attrInt(node, "group", 1),
      kernel: [kh, kw],
      stride: [s[0]!, s[1]!],
      // ONNX orders pads as [top, left, bottom, right] (begins of every axis, then ends).
      pads: [p[0]!, p[1]!, p[2]!, p[3]!],
      dilation: [d[0]!, d[1]!],
      rowLength: ipg * kh * kw,
    });
  }
  return out;
}

/**
 * Whether a conv is depthwise-like (one input channel per group): its rows are only kh·kw long,
 * too short for Wanda's per-row ranking or an OBS Hessian to mean much.
 *
 * @param c The conv.
 * @returns True for one input channel per group.
 */
export function isDepthwise(c: ConvLayer): boolean {
  return c.inPerGroup === 1;
}

/**
 * The conv's weight as [out, rowLength] row-major (a copy).
 *
 * @param model The model.
 * @param c The conv.
 * @returns The filter matrix.
 */
export function readConvWeight(model: ModelProto, c: ConvLayer): Float32Array {
  const w = new GraphIndex(model.graph!).constantFloats(c.weight);
  if (!w) throw new Error(`Weight ${c.weight} of ${c.name} is not a float constant`);
  return w.data.slice();
}

/**
 * Writes a filter matrix [out, rowLength] back into the conv's initializer.
 *
 * @param model The model (rewritten in place).
 * @param c The conv.
 * @param w The matrix.
 */
export function writeConvWeight(model: ModelProto, c: ConvLayer, w: Float32Array): void {
  replaceInitializer(
    model,
    floatTensor(c.weight, [c.outChannels, c.inPerGroup, ...c.kernel], w),
  );
}

/**
 * Output height and width of a conv on an input of height h and width w.
 *
 * @param c The conv.
 * @param hw Input height and width.
 * @returns Output height and width.
 */
export function convOutputSize(c: ConvLayer, hw: [number, number]): [number, number] {
  const size = (n: number, a: number) =>
    Math.floor(
      (n + c.pads[a]! + c.pads[a + 2]! - c.dilation[a]! * (c.kernel[a]! - 1) - 1) / c.stride[a]!,
    ) + 1;
  return [size(hw[0], 0), size(hw[1], 1)];
}

/**
 * im2col of one group's input channels: every output position of every sample becomes a row of
 * rowLength values ordered (channel, ky, kx) like the filter rows; padding reads zeros.
 *
 * @param x Input [n, groups · inPerGroup, h, w] row-major.
 * @param dims Its dimensions.
 * @param options The conv, the group, and the output positions to keep (row indices over
 *   n · oh · ow; all when left out).
 * @returns Patches [rows, rowLength].
 */
export function unfoldPatches(
  x: Float32Array,
  dims: readonly number[],
  options: { conv: ConvLayer; group: number; rows?: readonly number[] },
): Float32Array {
  const { conv: c, group } = options;
  const [n, ch, h, w] = dims as [number, number, number, number];
  const [oh, ow] = convOutputSize(c, [h, w]);
  const [kh, kw] = c.kernel;
  const rows = options.rows ?? [...Array(n * oh * ow).keys()];
  const out = new Float32Array(rows.length * c.rowLength);
  rows.forEach((r, at) => {
    const b = Math.floor(r / (oh * ow));
    const oy = Math.floor(r / ow) % oh;
    const ox = r % ow;
    let k = at * c.rowLength;
    for (let ci = 0; ci < c.inPerGroup; ci++) {
      const base = (b * ch + group * c.inPerGroup + ci) * h * w;
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * c.stride[0] - c.pads[0] + ky * c.dilation[0];
        for (let kx = 0; kx < kw; kx++, k++) {
          const ix = ox * c.stride[1] - c.pads[1] + kx * c.dilation[1];
          if (iy >= 0 && iy < h && ix >= 0 && ix < w) out[k] = x[base + iy * w + ix]!;
        }
      }
    }
  });
  return out;
}

/**
 * Evenly spaced indices: at most `max` of `total`, all when total ≤ max.
 *
 * @param total How many there are.
 * @param max How many to keep.
 * @returns Ascending indices.
 */
export function spreadRows(total: number, max: number): number[] {
  if (total <= max) return [...Array(total).keys()];
  return Array.from({ length: max }, (_, i) => Math.floor((i * total) / max));
}

/**
 * The calibration input of a conv on the model as pruned so far, with its dimensions
 * [n, in, h, w] (n from the captured length; h from the timed input's shape).
 *
 * @param ctx The method context.
 * @param c The conv.
 * @returns The input and its dimensions.
 * @throws {Error} When the captured input does not fit the conv's shape.
 */
export async function convCalibrationInput(
  ctx: MethodContext,
  c: ConvLayer,
): Promise<{ x: Float32Array; dims: number[] }> {
  const got = (await ctx.capture(ctx.model, [c.input])).get(c.input)!;
  const shape = ctx.valueShape(c.input);
  const ch = c.inPerGroup * c.groups;
  if (!shape || shape.length !== 4 || shape[1] !== ch || shape[3] !== got.width) {
    throw new Error(
      `${c.name}: calibration input of shape ${
        shape?.join("x")
      } (width ${got.width}) does not fit a conv over ${ch} channels; calibrate on inputs of the timed shape`,
    );
  }
  const per = ch * shape[2]! * shape[3]!;
  if (got.data.length % per !== 0) {
    throw new Error(`${c.name}: calibration input length ${got.data.length} is not n·${per}`);
  }
  return { x: got.data, dims: [got.data.length / per, ch, shape[2]!, shape[3]!] };
}
