/**
 * The registry of study reports: each study's findings, sections, charts and labels, handed to
 * the reporter (`deno task report`, `compare`, `bench`) so that it knows no study by name.
 *
 * @module
 */

import type { StudyReport } from "../src/report/study.ts";
import { activationSparsityReport } from "./activation_sparsity_report.ts";
import { apReport, deadNeuronReport } from "./ap_report.ts";
import { coreMatchingReport } from "./corematching_report.ts";
import { decodeReport } from "./decode_report.ts";
import { kernelsReport } from "./kernels_report.ts";
import { lazyNeuronReport } from "./lazy_neuron_report.ts";
import { obsDiffReport } from "./obs_diff_report.ts";
import { ocrReport } from "./ocr_report.ts";
import { pruningReport } from "./pruning_report.ts";
import { recsaeReport } from "./recsae_report.ts";
import { sdrReport } from "./sdr_report.ts";
import { turboVbiReport } from "./turbo_vbi_report.ts";
import { sparkReport } from "./spark_report.ts";

/** Every study report, in the order their sections appear. */
export const STUDY_REPORTS: readonly StudyReport[] = [
  activationSparsityReport,
  lazyNeuronReport,
  coreMatchingReport,
  pruningReport,
  apReport,
  kernelsReport,
  sdrReport,
  ocrReport,
  decodeReport,
  sparkReport,
  obsDiffReport,
  recsaeReport,
  turboVbiReport,
  deadNeuronReport,
];
