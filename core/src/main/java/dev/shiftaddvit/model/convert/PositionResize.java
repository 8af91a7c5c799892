package dev.shiftaddvit.model.convert;

import dev.shiftaddvit.tensor.Tensor;

/**
 * Resizes a position embedding [1, lead + g·g, D] learned on a g×g token grid to another square grid,
 * bilinearly with half-pixel centres (PyTorch's {@code F.interpolate(mode="bilinear",
 * align_corners=False)}, what the official PVTv1 does when it runs at another image size); the lead
 * rows (a class token's) are kept as they are.
 */
final class PositionResize {
    private PositionResize() {
    }

    /** The grid side of an embedding [1, lead + g·g, D], or -1 when it is not of that form. */
    static int grid(Tensor t, int lead) {
        if (t.rank() != 3 || t.dim(0) != 1 || t.dim(1) <= lead) return -1;
        int cells = t.dim(1) - lead;
        int g = (int) Math.round(Math.sqrt(cells));
        return g * g == cells ? g : -1;
    }

    /** from resized to the shape of like, or null when either is not [1, lead + square, D] with the same D. */
    static Tensor resize(Tensor from, Tensor like, int lead) {
        int gIn = grid(from, lead);
        int gOut = grid(like, lead);
        if (gIn < 0 || gOut < 0 || from.dim(2) != like.dim(2)) return null;
        int d = from.dim(2);
        float[] src = from.data();
        float[] out = new float[like.size()];
        System.arraycopy(src, 0, out, 0, lead * d);
        int[] lo = new int[gOut];
        int[] hi = new int[gOut];
        float[] frac = new float[gOut];
        float scale = (float) gIn / gOut;
        for (int i = 0; i < gOut; i++) {
            float s = Math.max(0f, scale * (i + 0.5f) - 0.5f);
            lo[i] = (int) s;
            hi[i] = Math.min(lo[i] + 1, gIn - 1);
            frac[i] = s - lo[i];
        }
        for (int y = 0; y < gOut; y++) {
            for (int x = 0; x < gOut; x++) {
                int o = (lead + y * gOut + x) * d;
                int a = (lead + lo[y] * gIn + lo[x]) * d;
                int b = (lead + lo[y] * gIn + hi[x]) * d;
                int c = (lead + hi[y] * gIn + lo[x]) * d;
                int e = (lead + hi[y] * gIn + hi[x]) * d;
                float fy = frac[y];
                float fx = frac[x];
                for (int k = 0; k < d; k++) {
                    out[o + k] = (1 - fy) * ((1 - fx) * src[a + k] + fx * src[b + k])
                            + fy * ((1 - fx) * src[c + k] + fx * src[e + k]);
                }
            }
        }
        return Tensor.of(out, like.shape());
    }
}
