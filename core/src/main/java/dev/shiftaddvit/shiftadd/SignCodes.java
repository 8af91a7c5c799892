package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.BitCodes;
import dev.shiftaddvit.kernel.Parallel;

/**
 * The plain sign codes of {@code LinAngularAttention_binary}: r = d bits per head, no state to
 * train or store. Rows are laid out as for {@link KshHash#encode}: head h of token n of image b
 * at {@code xOff + (b·n + k)·ldx + h·d}.
 */
public final class SignCodes {
    private SignCodes() {
    }

    /**
     * Sign codes of the normalised rows x (r = d ≤ 64): bit c of token n = 1[x_c − mean(x) &gt; 0]
     * where the mean runs over the whole tensor (all images, tokens, heads and channels, as the
     * reference; it is a constant for backward), with the STE of clamp(x, 0, 1): the gradient
     * passes where 0 ≤ x ≤ 1 (PyTorch's clamp gradient is inclusive).
     */
    public static CodeEncoding encode(float[] x, int xOff, int ldx, int batch, int n, int heads, int d) {
        if (d < 1 || d > BitCodes.MAX_BITS) throw new IllegalArgumentException("sign codes need head dim in [1, 64], got " + d);
        double s = 0;
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < n; k++) {
                int o = xOff + (b * n + k) * ldx;
                for (int c = 0; c < heads * d; c++) s += x[o + c];
            }
        }
        long count = (long) batch * n * heads * d;
        float mean = count == 0 ? 0f : (float) (s / count);
        int g = batch * heads;
        BitCodes codes = new BitCodes(g, n, d);
        long[] words = codes.tokenWords();
        long[] mask = new long[g * n];
        Parallel.forRange(g * n, 256, (r0, r1) -> {
            for (int row = r0; row < r1; row++) {
                int gi = row / n;
                int o = xOff + ((gi / heads) * n + row % n) * ldx + (gi % heads) * d;
                long w = 0;
                long pass = 0;
                for (int c = 0; c < d; c++) {
                    float v = x[o + c];
                    if (v - mean > 0f) w |= 1L << c;
                    if (v >= 0f && v <= 1f) pass |= 1L << c;
                }
                words[row] = w;
                mask[row] = pass;
            }
        });
        return new CodeEncoding(codes, mask, null, null, null, null);
    }

    /** Backward of {@link #encode}: dx (same layout as x) += dCodes [groups, N, d] where the STE passes. */
    public static void backward(CodeEncoding enc, float[] dCodes, int xOff, int ldx, int heads, float[] dx) {
        BitCodes codes = enc.codes();
        int n = codes.tokens();
        int d = codes.bits();
        long[] mask = enc.steMask();
        Parallel.forRange(codes.groups() * n, 256, (r0, r1) -> {
            for (int row = r0; row < r1; row++) {
                int gi = row / n;
                int o = xOff + ((gi / heads) * n + row % n) * ldx + (gi % heads) * d;
                long pass = mask[row];
                while (pass != 0) {
                    int c = Long.numberOfTrailingZeros(pass);
                    pass &= pass - 1;
                    dx[o + c] += dCodes[row * d + c];
                }
            }
        });
    }
}
