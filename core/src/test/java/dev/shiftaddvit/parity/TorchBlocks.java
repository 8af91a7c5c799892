package dev.shiftaddvit.parity;

import ai.djl.ndarray.NDArray;

import static dev.shiftaddvit.parity.TorchOps.attention;
import static dev.shiftaddvit.parity.TorchOps.columns;
import static dev.shiftaddvit.parity.TorchOps.conv2d;
import static dev.shiftaddvit.parity.TorchOps.gelu;
import static dev.shiftaddvit.parity.TorchOps.layerNorm;
import static dev.shiftaddvit.parity.TorchOps.linear;
import static dev.shiftaddvit.parity.TorchOps.mapToTokens;
import static dev.shiftaddvit.parity.TorchOps.tokensToMap;

/** Transformer blocks as timm writes them, over parameters named prefix.{norm1, attn.*, norm2, mlp.*}. */
public final class TorchBlocks {
    private TorchBlocks() {
    }

    /** ViT self-attention: fused qkv (columns Q, K, V), heads, proj. x [B, N, D]. */
    public static NDArray selfAttention(TorchParams p, String name, NDArray x, int heads) {
        long d = x.getShape().get(2);
        NDArray qkv = linear(p, name + ".qkv", x);
        NDArray o = attention(columns(qkv, 0, d), columns(qkv, d, 2 * d), columns(qkv, 2 * d, 3 * d), heads);
        return linear(p, name + ".proj", o);
    }

    /** PVTv2 spatial-reduction attention: q from x, kv (columns K, V) from x reduced by a stride-sr conv + LayerNorm. */
    public static NDArray spatialReductionAttention(TorchParams p, String name, NDArray x, int heads, int grid,
                                                    int sr) {
        long d = x.getShape().get(2);
        NDArray q = linear(p, name + ".q", x);
        NDArray xs = x;
        if (sr > 1) {
            NDArray m = conv2d(tokensToMap(x, grid, grid), p.get(name + ".sr.weight"), p.get(name + ".sr.bias"), sr,
                    0, 1);
            xs = layerNorm(p, name + ".norm", mapToTokens(m), 1e-5f);
        }
        NDArray kv = linear(p, name + ".kv", xs);
        return linear(p, name + ".proj", attention(q, columns(kv, 0, d), columns(kv, d, 2 * d), heads));
    }

    /** fc1 → (depthwise 3×3 conv, padding 1, on the grid when grid &gt; 0) → GELU → fc2. */
    public static NDArray mlp(TorchParams p, String name, NDArray x, int grid) {
        NDArray h = linear(p, name + ".fc1", x);
        if (grid > 0) {
            long hidden = h.getShape().get(2);
            NDArray m = conv2d(tokensToMap(h, grid, grid), p.get(name + ".dwconv.weight"),
                    p.get(name + ".dwconv.bias"), 1, 1, (int) hidden);
            h = mapToTokens(m);
        }
        return linear(p, name + ".fc2", gelu(h));
    }

    /** Pre-norm ViT block: x + attn(norm1(x)), then + mlp(norm2(·)). */
    public static NDArray vitBlock(TorchParams p, String name, NDArray x, int heads, float eps) {
        NDArray a = x.add(selfAttention(p, name + ".attn", layerNorm(p, name + ".norm1", x, eps), heads));
        return a.add(mlp(p, name + ".mlp", layerNorm(p, name + ".norm2", a, eps), 0));
    }

    /** Pre-norm PVTv2 block (norms eps 1e-6 as timm) on a grid×grid token map. */
    public static NDArray pvtBlock(TorchParams p, String name, NDArray x, int heads, int grid, int sr) {
        NDArray a = x.add(spatialReductionAttention(p, name + ".attn", layerNorm(p, name + ".norm1", x, 1e-6f),
                heads, grid, sr));
        return a.add(mlp(p, name + ".mlp", layerNorm(p, name + ".norm2", a, 1e-6f), grid));
    }
}
