#!/usr/bin/env python3
"""Writes the checkpoint-import fixtures under core/src/test/resources/import/.

Each fixture is a tiny model (image 32, dims 16-32, 1-2 blocks, 10 classes) built by the *reference*
library that owns the naming, given random weights, saved the way that library saves, with the
reference logits for a fixed input:

  deit_timm.pth          timm VisionTransformer, torch.save({"model": state_dict}) (the DeiT release layout)
  vit_torchvision.pth    torchvision.models.VisionTransformer, torch.save(state_dict)
  vit_hf/                transformers ViTForImageClassification.save_pretrained (config.json + model.safetensors)
  deit_hf_distilled/     transformers DeiTForImageClassificationWithTeacher (only to test the refusal)
  pvt_timm.safetensors   timm PyramidVisionTransformerV2, safetensors
  pvt_official.pth       the same weights in the whai362/PVT v2 naming (see below), torch.save(state_dict)
  pvt_hf/                transformers PvtV2ForImageClassification.save_pretrained, sharded safetensors
  dtypes.pt              fp16 / bf16 / non-contiguous / offset tensors for the pickle reader's tests
  <name>.expected.safetensors   "input" [2, 3, 32, 32] (NCHW) and "logits" [2, 10] from the reference
  *.config.json          our flat model metadata for the fixtures that carry no config of their own

The official PVT code is not a package; its checkpoint is written by renaming the timm state dict
with the inverse of timm's own checkpoint_filter_fn, and the script checks that timm's filter maps it
back and loads strictly, so the file is what timm would accept from an original checkpoint.

Needs torch, torchvision, timm and transformers (tested with torch 2.13, torchvision 0.28, timm
1.0.29, transformers 5.17). Run from the repository root: python3 scripts/make_import_fixtures.py
"""
import json
import os
import re

import torch

# The torchvision wheel at hand may be a CUDA build whose C++ ops cannot load beside a CPU torch; its
# import then fails registering fake kernels for those ops. VisionTransformer is plain PyTorch and
# needs none of them, so the registration is skipped while importing.
_register_fake = torch.library.register_fake
torch.library.register_fake = lambda *args, **kwargs: (lambda fn: fn)
import torchvision  # noqa: E402
torch.library.register_fake = _register_fake

import timm.models.pvt_v2 as timm_pvt
import timm.models.vision_transformer as timm_vit
import transformers
from safetensors.torch import save_file

OUT = os.path.join("core", "src", "test", "resources", "import")
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def randomize(model, seed):
    """Weights of unit scale so that every tensor, biases and norms included, moves the logits."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if p.dim() >= 2:
                fan_in = p[0].numel()
                p.copy_(r / fan_in ** 0.5)
            elif name.endswith("weight"):
                p.copy_(1 + 0.1 * r)
            else:
                p.copy_(0.1 * r)
    return model.eval()


def fixed_input():
    g = torch.Generator().manual_seed(1234)
    return torch.randn(2, 3, 32, 32, generator=g)


def expected(name, logits, x):
    save_file({"input": x.contiguous(), "logits": logits.detach().contiguous()},
              os.path.join(OUT, name + ".expected.safetensors"))


def write_config(name, meta):
    with open(os.path.join(OUT, name + ".config.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


def vit_meta(name, eps):
    return {"arch": "vit", "name": name, "img_size": "32", "patch_size": "8", "in_chans": "3",
            "num_classes": "10", "embed_dim": "16", "depth": "2", "num_heads": "2", "mlp_ratio": "2.0",
            "qkv_bias": "true", "class_token": "true", "norm_eps": repr(eps),
            "mean": ",".join(map(str, IMAGENET_MEAN)), "std": ",".join(map(str, IMAGENET_STD))}


def deit_timm(x):
    m = randomize(timm_vit.VisionTransformer(img_size=32, patch_size=8, embed_dim=16, depth=2, num_heads=2,
                                             mlp_ratio=2.0, num_classes=10), 1)
    torch.save({"model": m.state_dict()}, os.path.join(OUT, "deit_timm.pth"))
    expected("deit_timm", m(x), x)
    write_config("deit_timm", vit_meta("deit_tiny_fixture", 1e-6))


def vit_torchvision(x):
    m = randomize(torchvision.models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                                       hidden_dim=16, mlp_dim=32, num_classes=10), 2)
    torch.save(m.state_dict(), os.path.join(OUT, "vit_torchvision.pth"))
    expected("vit_torchvision", m(x), x)
    write_config("vit_torchvision", vit_meta("vit_torchvision_fixture", 1e-6))


def vit_hf(x):
    cfg = transformers.ViTConfig(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                                 image_size=32, patch_size=8, num_labels=10, hidden_act="gelu")
    m = randomize(transformers.ViTForImageClassification(cfg), 3)
    m.save_pretrained(os.path.join(OUT, "vit_hf"))
    expected("vit_hf", m(pixel_values=x).logits, x)


def deit_hf_distilled():
    cfg = transformers.DeiTConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                                  image_size=32, patch_size=8, num_labels=10)
    m = randomize(transformers.DeiTForImageClassificationWithTeacher(cfg), 4)
    m.save_pretrained(os.path.join(OUT, "deit_hf_distilled"))


def to_official_pvt(sd):
    """The inverse of timm's pvt_v2 checkpoint_filter_fn."""
    out = {}
    for k, v in sd.items():
        k = re.sub(r"^patch_embed\.", "patch_embed1.", k)
        k = re.sub(r"^stages\.(\d+)\.downsample\.", lambda g: f"patch_embed{int(g.group(1)) + 1}.", k)
        k = re.sub(r"^stages\.(\d+)\.blocks\.(\d+)\.", lambda g: f"block{int(g.group(1)) + 1}.{g.group(2)}.", k)
        k = re.sub(r"^stages\.(\d+)\.norm\.", lambda g: f"norm{int(g.group(1)) + 1}.", k)
        k = k.replace(".mlp.dwconv.", ".mlp.dwconv.dwconv.")
        out[k] = v
    return out


def pvt(x):
    kw = dict(depths=(2, 1), embed_dims=(16, 32), num_heads=(1, 2), sr_ratios=(2, 1), mlp_ratios=(2, 2),
              num_classes=10)
    m = randomize(timm_pvt.PyramidVisionTransformerV2(**kw), 5)
    sd = m.state_dict()
    save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(OUT, "pvt_timm.safetensors"))
    expected("pvt_timm", m(x), x)
    official = to_official_pvt(sd)
    check = timm_pvt.PyramidVisionTransformerV2(**kw)
    check.load_state_dict(timm_pvt.checkpoint_filter_fn(official, check), strict=True)
    torch.save(official, os.path.join(OUT, "pvt_official.pth"))
    meta = {"arch": "pvt_v2", "name": "pvt_v2_fixture", "img_size": "32", "in_chans": "3", "num_classes": "10",
            "embed_dims": "16,32", "num_heads": "1,2", "mlp_ratios": "2,2", "sr_ratios": "2,1", "depths": "2,1",
            "stem_kernel": "7", "stem_stride": "4", "qkv_bias": "true",
            "mean": ",".join(map(str, IMAGENET_MEAN)), "std": ",".join(map(str, IMAGENET_STD))}
    write_config("pvt_timm", meta)


def pvt_hf(x):
    cfg = transformers.PvtV2Config(image_size=32, num_encoder_blocks=2, depths=[2, 1], hidden_sizes=[16, 32],
                                   patch_sizes=[7, 3], strides=[4, 2], sr_ratios=[2, 1], num_attention_heads=[1, 2],
                                   mlp_ratios=[2, 2], num_labels=10)
    m = randomize(transformers.PvtV2ForImageClassification(cfg), 6)
    m.save_pretrained(os.path.join(OUT, "pvt_hf"), max_shard_size="40KB")
    expected("pvt_hf", m(pixel_values=x).logits, x)


def dtypes():
    a = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8
    state = {"f32": a, "f16": a.half(), "bf16": a.bfloat16(), "t": a.t(), "view": a[1:, 1:3], "i64": torch.arange(3)}
    torch.save({"state_dict": state, "epoch": 3}, os.path.join(OUT, "dtypes.pt"))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    x = fixed_input()
    with torch.no_grad():
        deit_timm(x)
        vit_torchvision(x)
        vit_hf(x)
        deit_hf_distilled()
        pvt(x)
        pvt_hf(x)
        dtypes()


if __name__ == "__main__":
    main()
