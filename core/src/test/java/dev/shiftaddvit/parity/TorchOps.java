package dev.shiftaddvit.parity;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.LayerNorm;

/**
 * The building blocks of the reference, written with libtorch operations (through DJL NDArrays)
 * in PyTorch's own layouts: tokens [B, N, C], maps NCHW, Linear weights [out, in].
 */
public final class TorchOps {
    private static final double INV_SQRT2 = 1.0 / Math.sqrt(2.0);

    private TorchOps() {
    }

    /** y = x·Wᵀ + b over the last axis. */
    public static NDArray linear(NDArray x, NDArray w, NDArray b) {
        NDArray wt = w.transpose();
        // The view belongs to the input's manager, so a per-step manager frees it (and its graph node).
        wt.attach(x.getManager());
        NDArray y = x.matMul(wt);
        return b == null ? y : y.add(b);
    }

    public static NDArray linear(TorchParams p, String name, NDArray x) {
        return linear(x, p.get(name + ".weight"), p.optional(name + ".bias"));
    }

    /** torch.layer_norm over the last axis. */
    public static NDArray layerNorm(TorchParams p, String name, NDArray x, float eps) {
        long dim = x.getShape().get(x.getShape().dimension() - 1);
        return LayerNorm.layerNorm(x, new Shape(dim), p.get(name + ".weight"), p.get(name + ".bias"), eps)
                .singletonOrThrow();
    }

    /** Exact GELU: x/2 · (1 + erf(x/√2)). */
    public static NDArray gelu(NDArray x) {
        return x.mul(0.5).mul(x.mul(INV_SQRT2).erf().add(1.0));
    }

    /** torch conv2d on NCHW with weight [out, in/groups, k, k]. */
    public static NDArray conv2d(NDArray x, NDArray w, NDArray b, int stride, int pad, int groups) {
        return Conv2d.conv2d(x, w, b, new Shape(stride, stride), new Shape(pad, pad), new Shape(1, 1), groups)
                .singletonOrThrow();
    }

    /** Tokens [B, h·w, C] in row-major grid order to an NCHW map [B, C, h, w]. */
    public static NDArray tokensToMap(NDArray t, int h, int w) {
        long b = t.getShape().get(0);
        long c = t.getShape().get(2);
        return t.transpose(0, 2, 1).reshape(b, c, h, w);
    }

    /** An NCHW map [B, C, h, w] to tokens [B, h·w, C]. */
    public static NDArray mapToTokens(NDArray m) {
        Shape s = m.getShape();
        return m.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)).transpose(0, 2, 1);
    }

    /** [B, N, H·d] to [B, H, N, d]. */
    private static NDArray splitHeads(NDArray x, int heads) {
        Shape s = x.getShape();
        return x.reshape(s.get(0), s.get(1), heads, s.get(2) / heads).transpose(0, 2, 1, 3);
    }

    /** Multi-head softmax(Q·Kᵀ/√d)·V; q [B, N, D], k and v [B, M, D]; returns [B, N, D]. */
    public static NDArray attention(NDArray q, NDArray k, NDArray v, int heads) {
        Shape s = q.getShape();
        long d = s.get(2) / heads;
        NDArray qh = splitHeads(q, heads);
        NDArray kh = splitHeads(k, heads);
        NDArray vh = splitHeads(v, heads);
        NDArray scores = qh.matMul(kh.transpose(0, 1, 3, 2)).mul(1.0 / Math.sqrt(d));
        NDArray o = scores.softmax(-1).matMul(vh);
        return o.transpose(0, 2, 1, 3).reshape(s.get(0), s.get(1), s.get(2));
    }

    /** Columns [from, to) of the last axis of a rank-3 array. */
    public static NDArray columns(NDArray x, long from, long to) {
        return x.get(":, :, " + from + ":" + to);
    }
}
