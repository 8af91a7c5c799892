#!/usr/bin/env python3
"""TorchScript files of our models' weights, for the libtorch rows of the engine shootout.

    java ... dev.shiftaddvit.bench.EngineShootout --torchscript-dir=DIR --weights-only
    python3 scripts/make_torchscript.py DIR
    java ... dev.shiftaddvit.bench.EngineShootout --torchscript-dir=DIR

For every DIR/NAME.safetensors written by our engine (a checkpoint: float32 tensors under timm's
parameter names, the model config in the metadata) this builds the timm model of the same config
(VisionTransformer for arch=vit, e.g. deit_tiny = timm's deit_tiny_patch16_224; PyramidVisionTransformerV2
for arch=pvt_v2, e.g. pvt_v2_b0, and pvt_v2_b0_msa = pvt_v2_b0 with sr_ratios=(1, 1, 1, 1)), loads the
weights strictly, traces it in eval mode with torch.jit.trace and saves DIR/NAME.pt. The traced module is
checked against the eager one at two batch sizes, so a batch size baked into the trace is caught here.

Needs torch and timm (tested: torch 2.13 CPU, timm 1.0.29; the files load in libtorch 2.5.1 through DJL).
A torchvision that cannot load its native operators (e.g. a CUDA build beside a CPU torch) is tolerated:
timm imports it, but these two models use none of its operators.
"""
import argparse
import json
import struct
import sys
from functools import partial
from pathlib import Path


def import_timm():
    import torch
    import torch.library

    real = torch.library.register_fake

    def tolerant(op, *args, **kwargs):
        register = real(op, *args, **kwargs)

        def apply(fn):
            try:
                return register(fn)
            except RuntimeError:  # the operator is missing: torchvision's native library did not load
                return fn

        return apply

    torch.library.register_fake = tolerant
    try:
        import torchvision  # noqa: F401  (imported by timm; loaded here under the tolerant registration)
    except ImportError:
        pass
    finally:
        torch.library.register_fake = real
    import timm
    return timm


def read_safetensors(path):
    """(metadata, {name: float32 tensor}) of a safetensors file; only F32 tensors are expected."""
    import torch

    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            sys.exit(f"{path}: tensor {name} has dtype {t['dtype']}, expected F32 (a dense checkpoint)")
        begin, end = t["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(body[begin:end]), dtype=torch.float32).reshape(t["shape"])
    return meta, tensors


def ints(meta, key):
    return tuple(int(v) for v in meta[key].split(","))


def build(timm, meta, path):
    import torch.nn as nn
    from timm.models.pvt_v2 import PyramidVisionTransformerV2
    from timm.models.vision_transformer import VisionTransformer

    arch = meta.get("arch")
    if arch == "vit":
        token = meta["class_token"] == "true"
        return VisionTransformer(
            img_size=int(meta["img_size"]), patch_size=int(meta["patch_size"]), in_chans=int(meta["in_chans"]),
            num_classes=int(meta["num_classes"]), embed_dim=int(meta["embed_dim"]), depth=int(meta["depth"]),
            num_heads=int(meta["num_heads"]), mlp_ratio=float(meta["mlp_ratio"]),
            qkv_bias=meta["qkv_bias"] == "true", class_token=token, global_pool="token" if token else "avg",
            norm_layer=partial(nn.LayerNorm, eps=float(meta["norm_eps"])))
    if arch == "pvt_v2":
        if (meta["stem_kernel"], meta["stem_stride"]) != ("7", "4"):
            sys.exit(f"{path}: timm's PVTv2 has a 7x7 stride-4 stem, this model has "
                     f"{meta['stem_kernel']}x{meta['stem_kernel']} stride {meta['stem_stride']}")
        return PyramidVisionTransformerV2(
            in_chans=int(meta["in_chans"]), num_classes=int(meta["num_classes"]), depths=ints(meta, "depths"),
            embed_dims=ints(meta, "embed_dims"), num_heads=ints(meta, "num_heads"),
            mlp_ratios=ints(meta, "mlp_ratios"), sr_ratios=ints(meta, "sr_ratios"),
            qkv_bias=meta["qkv_bias"] == "true")
    sys.exit(f"{path}: arch {arch!r} has no timm counterpart here (expected vit or pvt_v2)")


def convert(timm, path):
    import torch

    meta, tensors = read_safetensors(path)
    if any(k.startswith("shiftadd.attn") or k.startswith("shiftadd.moe") for k in meta):
        sys.exit(f"{path}: a ShiftAddViT model; only dense models have a timm counterpart")
    model = build(timm, meta, path).eval()
    model.load_state_dict(tensors, strict=True)
    size, chans = int(meta["img_size"]), int(meta["in_chans"])
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        traced = torch.jit.trace(model, torch.randn(2, chans, size, size, generator=gen))
        for batch in (1, 3):
            x = torch.randn(batch, chans, size, size, generator=gen)
            diff = (traced(x) - model(x)).abs().max().item()
            if not diff <= 1e-4:
                sys.exit(f"{path}: the traced module differs from the eager one by {diff:.3g} at batch {batch}")
    out = path.with_suffix(".pt")
    tmp = out.with_suffix(".pt.tmp")
    torch.jit.save(traced, str(tmp))
    tmp.replace(out)
    print(f"{out}: {meta.get('name', path.stem)}, {sum(t.numel() for t in tensors.values()):,} parameters, "
          f"torch {torch.__version__}, timm {timm.__version__}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir", type=Path, help="directory with NAME.safetensors files written by the engine shootout")
    args = p.parse_args()
    files = sorted(args.dir.glob("*.safetensors"))
    if not files:
        sys.exit(f"{args.dir}: no .safetensors files (write them with EngineShootout --torchscript-dir="
                 f"{args.dir} --weights-only)")
    try:
        timm = import_timm()
    except ImportError as e:
        sys.exit(f"{sys.argv[0]}: needs a Python with torch and timm ({e})")
    for f in files:
        convert(timm, f)


if __name__ == "__main__":
    main()
