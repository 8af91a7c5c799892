#!/usr/bin/env python3
"""Reference fixtures for ResizeTest and PreprocessTest, written with Pillow.

    python3 -m venv /tmp/pilenv && /tmp/pilenv/bin/pip install pillow numpy
    /tmp/pilenv/bin/python scripts/make_resize_fixtures.py

Writes core/src/test/resources/dev/shiftaddvit/data/resize/:
  src_37x23.png              seeded RGB noise (noise is the hardest case for rounding and clipping)
  <filter>_<w>x<h>.png       Pillow's Image.resize of it (bilinear/bicubic; down, up, one axis only)
  eval_transforms.json       timm's eval transform of a formula image the Java test rebuilds:
                             SHA-256 of the uint8 crop and of the normalised float32 tensor (HWC)

The eval transform is written out from timm 1.0's transforms_imagenet_eval and torchvision 0.2x
(Resize(floor(crop / crop_pct)) on the shorter side, CenterCrop, ToTensor, Normalize) because no
torchvision wheel matching the local torch could be installed; Pillow does the resizing, numpy
float32 does ToTensor's division by 255 and Normalize's (x - mean) / std as torch does in float32.
"""
import hashlib
import json
import math
import pathlib

import numpy as np
import PIL
from PIL import Image

OUT = pathlib.Path(__file__).resolve().parent.parent / "core/src/test/resources/dev/shiftaddvit/data/resize"
SIZES = [(16, 16), (50, 40), (37, 12), (9, 23), (3, 2)]
FILTERS = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def formula_image(w, h):
    """Must match PreprocessTest.formulaImage: edges, gradients and texture without an RNG."""
    y, x = np.mgrid[0:h, 0:w]
    chans = [(x * 7 + y * 13 + c * 50 + (x * y) % 17 + ((x // 9 + y // 7) % 2) * 90) % 256 for c in range(3)]
    return Image.fromarray(np.stack(chans, axis=-1).astype(np.uint8), "RGB")


def eval_transform(img, crop, crop_pct, interpolation):
    """timm's eval transform: returns the uint8 HWC crop and the normalised float32 HWC tensor."""
    w, h = img.size
    size = math.floor(crop / crop_pct)
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(size * long / short)  # torchvision's _compute_resized_output_size
    new_w, new_h = (size, new_long) if w <= h else (new_long, size)
    if (new_w, new_h) != (w, h):
        img = img.resize((new_w, new_h), FILTERS[interpolation])
    top = int(round((new_h - crop) / 2.0))  # torchvision's center_crop; round() is half-to-even
    left = int(round((new_w - crop) / 2.0))
    crop_px = np.asarray(img, dtype=np.uint8)[top:top + crop, left:left + crop]
    x = crop_px.astype(np.float32) / np.float32(255)
    x = (x - np.array(IMAGENET_MEAN, dtype=np.float32)) / np.array(IMAGENET_STD, dtype=np.float32)
    return crop_px, x.astype("<f4")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    src = np.random.default_rng(20240607).integers(0, 256, (23, 37, 3), dtype=np.uint8)
    img = Image.fromarray(src, "RGB")
    img.save(OUT / "src_37x23.png")
    for name, f in FILTERS.items():
        for w, h in SIZES:
            img.resize((w, h), f).save(OUT / f"{name}_{w}x{h}.png")

    cases = []
    for w, h, crop, pct, interp in [(333, 251, 224, 0.875, "bicubic"), (250, 301, 224, 0.9, "bicubic"),
                                    (100, 77, 32, 0.875, "bilinear"), (224, 224, 224, 1.0, "bicubic")]:
        crop_px, tensor = eval_transform(formula_image(w, h), crop, pct, interp)
        cases.append({"width": w, "height": h, "crop": crop, "crop_pct": pct, "interpolation": interp,
                      "crop_sha256": hashlib.sha256(crop_px.tobytes()).hexdigest(),
                      "tensor_sha256": hashlib.sha256(tensor.tobytes()).hexdigest()})
    (OUT / "eval_transforms.json").write_text(json.dumps(
        {"pillow": PIL.__version__, "mean": IMAGENET_MEAN, "std": IMAGENET_STD, "cases": cases}, indent=1) + "\n")


if __name__ == "__main__":
    main()
