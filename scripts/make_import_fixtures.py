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
  pvt_v1_official.pth    PVTv1 (no library has one: the reference below), torch.save(state_dict) in the
                         whai362/PVT naming; its expected file adds "input_48"/"logits_48", the same weights
                         run on a 48-pixel image (position embeddings resized bilinearly)
  dtypes.pt              fp16 / bf16 / non-contiguous / offset tensors for the pickle reader's tests
  <name>.expected.safetensors   "input" [2, 3, 32, 32] (NCHW) and "logits" [2, 10] from the reference
  *.config.json          our flat model metadata for the fixtures that carry no config of their own

The official PVT code is not a package; its checkpoint is written by renaming the timm state dict
with the inverse of timm's own checkpoint_filter_fn, and the script checks that timm's filter maps it
back and loads strictly, so the file is what timm would accept from an original checkpoint.

Needs torch, torchvision, timm and transformers (tested with torch 2.13, torchvision 0.28, timm
1.0.29, transformers 5.17); pvt_v1 needs torch alone. Run from the repository root:
python3 scripts/make_import_fixtures.py [--only NAME ...] (default: every fixture).
"""
import argparse
import json
import os
import re

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torchvision = timm_pvt = timm_vit = transformers = None


def load_libraries():
    """The reference libraries, imported only when a fixture needs them."""
    global torchvision, timm_pvt, timm_vit, transformers
    # The torchvision wheel at hand may be a CUDA build whose C++ ops cannot load beside a CPU torch; its
    # import then fails registering fake kernels for those ops. VisionTransformer is plain PyTorch and
    # needs none of them, so the registration is skipped while importing.
    register_fake = torch.library.register_fake
    torch.library.register_fake = lambda *args, **kwargs: (lambda fn: fn)
    import torchvision as tv
    torch.library.register_fake = register_fake
    import timm.models.pvt_v2 as tp
    import timm.models.vision_transformer as tvit
    import transformers as tf
    torchvision, timm_pvt, timm_vit, transformers = tv, tp, tvit, tf

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


class SpatialReductionAttention(torch.nn.Module):
    """PVT attention: queries from every token, keys and values from the grid shrunk by a stride-sr conv."""

    def __init__(self, dim, heads, sr):
        super().__init__()
        self.heads = heads
        self.q = torch.nn.Linear(dim, dim)
        self.kv = torch.nn.Linear(dim, 2 * dim)
        self.proj = torch.nn.Linear(dim, dim)
        if sr > 1:
            self.sr = torch.nn.Conv2d(dim, dim, sr, stride=sr)
            self.norm = torch.nn.LayerNorm(dim)

    def forward(self, x, h, w):
        b, n, c = x.shape
        src = x
        if hasattr(self, "sr"):
            src = self.norm(self.sr(x.transpose(1, 2).reshape(b, c, h, w)).flatten(2).transpose(1, 2))
        q = self.q(x).unflatten(-1, (self.heads, -1)).transpose(1, 2)
        k, v = self.kv(src).unflatten(-1, (2, self.heads, -1)).permute(2, 0, 3, 1, 4)
        o = F.scaled_dot_product_attention(q, k, v)
        return self.proj(o.transpose(1, 2).flatten(2))


class PvtV1Block(torch.nn.Module):
    def __init__(self, dim, heads, mlp_ratio, sr):
        super().__init__()
        self.norm1 = torch.nn.LayerNorm(dim, eps=1e-6)
        self.attn = SpatialReductionAttention(dim, heads, sr)
        self.norm2 = torch.nn.LayerNorm(dim, eps=1e-6)
        self.mlp = torch.nn.Module()
        self.mlp.fc1 = torch.nn.Linear(dim, dim * mlp_ratio)
        self.mlp.fc2 = torch.nn.Linear(dim * mlp_ratio, dim)

    def forward(self, x, h, w):
        x = x + self.attn(self.norm1(x), h, w)
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))


class PvtV1(torch.nn.Module):
    """PVTv1 (Wang et al., ICCV 2021) as whai362/PVT classification/pvt.py structures it, with its parameter
    names: per stage a non-overlapping patch conv + LayerNorm (eps 1e-5), a learned position embedding
    (resized bilinearly to another grid), blocks with spatial-reduction attention and a plain MLP (norms
    eps 1e-6); the class token joins the last stage, whose final norm's token 0 feeds the head. Upstream's
    resize compares every stage's grid with the first stage's, which breaks stages 2+ at a new size; this
    compares each stage with its own."""

    def __init__(self, img_size, patch, dims, heads, mlp_ratios, sr_ratios, depths, num_classes):
        super().__init__()
        self.grids = []
        grid, prev = img_size // patch, 3
        for i, d in enumerate(dims):
            if i > 0:
                grid //= 2
            k = patch if i == 0 else 2
            embed = torch.nn.Module()
            embed.proj = torch.nn.Conv2d(prev, d, k, stride=k)
            embed.norm = torch.nn.LayerNorm(d)
            last = i == len(dims) - 1
            setattr(self, f"patch_embed{i + 1}", embed)
            setattr(self, f"pos_embed{i + 1}", torch.nn.Parameter(torch.zeros(1, grid * grid + last, d)))
            setattr(self, f"block{i + 1}", torch.nn.ModuleList(
                PvtV1Block(d, heads[i], mlp_ratios[i], sr_ratios[i]) for _ in range(depths[i])))
            self.grids.append(grid)
            prev = d
        self.norm = torch.nn.LayerNorm(prev, eps=1e-6)
        self.cls_token = torch.nn.Parameter(torch.zeros(1, 1, prev))
        self.head = torch.nn.Linear(prev, num_classes)

    def position(self, i, h, w, cls):
        pos = getattr(self, f"pos_embed{i + 1}")
        head, grid_pos = pos[:, :cls], pos[:, cls:]
        g = self.grids[i]
        if (h, w) != (g, g):
            grid_pos = F.interpolate(grid_pos.reshape(1, g, g, -1).permute(0, 3, 1, 2), size=(h, w), mode="bilinear",
                                     align_corners=False).flatten(2).transpose(1, 2)
        return torch.cat([head, grid_pos], dim=1)

    def forward(self, x):
        stages = len(self.grids)
        for i in range(stages):
            embed = getattr(self, f"patch_embed{i + 1}")
            m = embed.proj(x)
            h, w = m.shape[2:]
            t = embed.norm(m.flatten(2).transpose(1, 2))
            last = i == stages - 1
            if last:
                t = torch.cat([self.cls_token.expand(t.shape[0], -1, -1), t], dim=1)
            t = t + self.position(i, h, w, int(last))
            for blk in getattr(self, f"block{i + 1}"):
                t = blk(t, h, w)
            x = t.transpose(1, 2).reshape(t.shape[0], -1, h, w)
        return self.head(self.norm(t)[:, 0])


def pvt_v1(x):
    m = randomize(PvtV1(img_size=32, patch=4, dims=(8, 16, 16, 16), heads=(1, 2, 2, 2), mlp_ratios=(2, 2, 2, 2),
                        sr_ratios=(2, 2, 1, 1), depths=(1, 1, 1, 2), num_classes=10), 7)
    g = torch.Generator().manual_seed(8)
    with torch.no_grad():
        # randomize() scales by 1/sqrt(tokens * dim); position embeddings and the class token need unit scale
        # for the resize and the token-0 read-out to show in the logits.
        for name, p in m.named_parameters():
            if name.startswith("pos_embed") or name == "cls_token":
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
    torch.save(m.state_dict(), os.path.join(OUT, "pvt_v1_official.pth"))
    x48 = torch.randn(1, 3, 48, 48, generator=torch.Generator().manual_seed(4321))
    save_file({"input": x.contiguous(), "logits": m(x).detach().contiguous(), "input_48": x48,
               "logits_48": m(x48).detach().contiguous()},
              os.path.join(OUT, "pvt_v1_official.expected.safetensors"))
    meta = {"arch": "pvt_v1", "name": "pvt_v1_fixture", "img_size": "32", "patch_size": "4", "in_chans": "3",
            "num_classes": "10", "embed_dims": "8,16,16,16", "num_heads": "1,2,2,2", "mlp_ratios": "2,2,2,2",
            "sr_ratios": "2,2,1,1", "depths": "1,1,1,2", "qkv_bias": "true",
            "mean": ",".join(map(str, IMAGENET_MEAN)), "std": ",".join(map(str, IMAGENET_STD))}
    write_config("pvt_v1_official", meta)


FIXTURES = {"deit_timm": deit_timm, "vit_torchvision": vit_torchvision, "vit_hf": vit_hf,
            "deit_hf_distilled": lambda x: deit_hf_distilled(), "pvt": pvt, "pvt_hf": pvt_hf,
            "dtypes": lambda x: dtypes(), "pvt_v1": pvt_v1}
NEEDS_TORCH_ONLY = {"dtypes", "pvt_v1"}


def main():
    parser = argparse.ArgumentParser(description="Writes the checkpoint-import test fixtures.")
    parser.add_argument("--only", nargs="+", choices=list(FIXTURES), help="write only these fixtures")
    names = parser.parse_args().only or list(FIXTURES)
    if not set(names) <= NEEDS_TORCH_ONLY:
        load_libraries()
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    x = fixed_input()
    with torch.no_grad():
        for name in names:
            FIXTURES[name](x)


if __name__ == "__main__":
    main()
