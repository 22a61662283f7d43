"""Renders the OCR evaluation set (datasets/ocr/) from datasets/ocr/lines.json.

Run: /usr/bin/python3 models/ocr_render.py   (Debian python3; needs python3-pil, python3-numpy and Debian's fonts-dejavu-core)

- lines.images.npy  uint8 [N, 48, 480]: one text line each, DejaVu Sans 30 px, black on white,
  as PaddleOCR's recogniser takes a wide crop (height 48, width 48 x 10 for a 10:1 line,
  never squeezed: squeezing merges doubled letters under CTC); columns past
  lines.widths.npy are padding.
- lines.labels.npy  int32 [N, 32]: the line's characters as PP-OCR classes (1 + index in
  ppocr_keys_v1.txt, space = 6624), padded with -1.
- pages.images.npy  uint8 [P, 320, 320]: six lines of DejaVu Sans 20 px per page at seeded offsets.
- pages.masks.npy   uint8 [P, 320, 320]: each line's box shrunk as DB's training target
  (offset A (1 - 0.4^2) / L), the region the detector's probability map should cover.
- manifest.json: counts, font and its sha256, the sha256 of every file.
The first 128 lines / 16 pages are the evaluation split, the rest calibration.
"""

import hashlib
import json
import os
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "datasets", "ocr")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
KEYS = os.path.join(ROOT, "node_modules", "@gutenye", "ocr-models", "assets", "ppocr_keys_v1.txt")
H, W, MAXLEN = 48, 480, 32
PAGE = 320


def classes(text, keys):
    index = {k: i + 1 for i, k in enumerate(keys)}
    index[" "] = len(keys) + 1
    return [index[c] for c in text]


def render_line(text, font):
    left, top, right, bottom = font.getbbox(text)
    w = right - left + 12
    img = Image.new("L", (w, H), 255)
    ImageDraw.Draw(img).text((6 - left, (H - (bottom - top)) // 2 - top), text, font=font, fill=0)
    if w > W:
        img = img.resize((W, H), Image.BILINEAR)
        w = W
    canvas = Image.new("L", (W, H), 255)
    canvas.paste(img, (0, 0))
    return np.asarray(canvas, dtype=np.uint8), w


def render_page(lines, font, rng):
    img = Image.new("L", (PAGE, PAGE), 255)
    mask = np.zeros((PAGE, PAGE), dtype=np.uint8)
    draw = ImageDraw.Draw(img)
    boxes = []
    for i, text in enumerate(lines):
        x, y = 8 + rng.randrange(0, 24), 10 + i * 50 + rng.randrange(0, 14)
        draw.text((x, y), text, font=font, fill=0)
        l, t, r, b = draw.textbbox((x, y), text, font=font)
        r = min(r, PAGE - 1)
        w, h = r - l, b - t
        d = w * h * (1 - 0.4**2) / (2 * (w + h))
        mask[int(round(t + d)):int(round(b - d)), int(round(l + d)):int(round(r - d))] = 1
        boxes.append([l, t, r, b])
    return np.asarray(img, dtype=np.uint8), mask, boxes


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    spec = json.load(open(os.path.join(OUT, "lines.json")))
    keys = open(KEYS, encoding="utf-8").read().split("\n")
    line_font = ImageFont.truetype(FONT, 30)
    page_font = ImageFont.truetype(FONT, 20)
    texts = spec["lines"]["evaluation"] + spec["lines"]["calibration"]
    images, widths, labels = [], [], []
    for t in texts:
        img, w = render_line(t, line_font)
        images.append(img)
        widths.append(w)
        c = classes(t, keys)
        labels.append(c + [-1] * (MAXLEN - len(c)))
    np.save(os.path.join(OUT, "lines.images.npy"), np.stack(images))
    np.save(os.path.join(OUT, "lines.widths.npy"), np.array(widths, dtype=np.int32))
    np.save(os.path.join(OUT, "lines.labels.npy"), np.array(labels, dtype=np.int32))
    rng = random.Random(15)
    page_lines = spec["pages"]["evaluation"] + spec["pages"]["calibration"]
    pages, masks, boxes = [], [], []
    for p in range(len(page_lines) // 6):
        img, mask, b = render_page(page_lines[p * 6:(p + 1) * 6], page_font, rng)
        pages.append(img)
        masks.append(mask)
        boxes.append(b)
    np.save(os.path.join(OUT, "pages.images.npy"), np.stack(pages))
    np.save(os.path.join(OUT, "pages.masks.npy"), np.stack(masks))
    files = ["lines.json", "lines.images.npy", "lines.widths.npy", "lines.labels.npy",
             "pages.images.npy", "pages.masks.npy"]
    manifest = {
        "font": "DejaVu Sans (Debian fonts-dejavu-core 2.37-6)",
        "font_sha256": sha256(FONT),
        "lines": {"evaluation": len(spec["lines"]["evaluation"]),
                  "calibration": len(spec["lines"]["calibration"])},
        "pages": {"evaluation": len(spec["pages"]["evaluation"]) // 6,
                  "calibration": len(spec["pages"]["calibration"]) // 6},
        "page_boxes": boxes,
        "sha256": {f: sha256(os.path.join(OUT, f)) for f in files},
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"{OUT}: {len(texts)} lines, {len(pages)} pages")


if __name__ == "__main__":
    main()
