package dev.shiftaddvit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Depthwise convolution over NHWC [batch, h, w, c] with PyTorch's weight layout [c, 1, kh, kw],
 * stride 1 and zero padding (kh/2, kw/2), so the output keeps h×w (odd kernels only). Vectorised
 * over channels, which are contiguous in NHWC; the weights are transposed per call to
 * [kh·kw, c] so each tap is a contiguous channel vector. Weight and bias gradients are reduced
 * through per-block partials whose split depends only on the shape (deterministic).
 */
public final class DwConvKernel {
    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int L = F.length();
    private static final int GRAIN = 16384;
    /** Output pixels that see the whole kernel horizontally go four at a time per weight load. */
    private static final int PIXELS = 4;

    private DwConvKernel() {
    }

    /** y[b,y,x,c] = bias[c] + Σ_{ky,kx} W[c,ky,kx]·x[b, y+ky−kh/2, x+kx−kw/2, c]. */
    public static void forward(float[] x, int batch, int h, int w, int c, float[] weight, float[] bias, int kh, int kw,
                               float[] y) {
        check(kh, kw);
        if (batch <= 0 || h <= 0 || w <= 0 || c <= 0) return;
        float[] wt = transpose(weight, c, kh * kw);
        int ph = kh / 2;
        int pw = kw / 2;
        Parallel.forRange(batch * h, Math.max(1, GRAIN / (w * c * kh * kw)), (q0, q1) -> {
            for (int q = q0; q < q1; q++) forwardRow(x, wt, bias, q, h, w, c, kh, kw, ph, pw, y);
        });
    }

    private static void forwardRow(float[] x, float[] wt, float[] bias, int q, int h, int w, int c, int kh, int kw,
                                   int ph, int pw, float[] y) {
        int oy = q % h;
        int b = q / h;
        int kyLo = Math.max(0, ph - oy);
        int kyHi = Math.min(kh, h + ph - oy);
        int inner = Math.max(pw, w - pw);
        int ox = 0;
        for (; ox < Math.min(pw, w); ox++) forwardPixel(x, wt, bias, q, b, oy, ox, h, w, c, kh, kw, ph, pw, kyLo, kyHi, y);
        for (; ox + PIXELS <= inner && c >= L; ox += PIXELS) {
            int yo = (q * w + ox) * c;
            int ch = 0;
            if (kw == 3) {
                ch = c - c % L;
                fourPixels3(x, wt, bias, b, oy, ox, h, w, c, ph, kyLo, kyHi, y, yo, ch);
            }
            for (; ch <= c - L; ch += L) {
                FloatVector a0 = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, ch);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                for (int ky = kyLo; ky < kyHi; ky++) {
                    int rowBase = ((b * h + oy + ky - ph) * w + ox - pw) * c + ch;
                    for (int kx = 0; kx < kw; kx++) {
                        FloatVector wv = FloatVector.fromArray(F, wt, (ky * kw + kx) * c + ch);
                        int xi = rowBase + kx * c;
                        a0 = FloatVector.fromArray(F, x, xi).fma(wv, a0);
                        a1 = FloatVector.fromArray(F, x, xi + c).fma(wv, a1);
                        a2 = FloatVector.fromArray(F, x, xi + 2 * c).fma(wv, a2);
                        a3 = FloatVector.fromArray(F, x, xi + 3 * c).fma(wv, a3);
                    }
                }
                a0.intoArray(y, yo + ch);
                a1.intoArray(y, yo + c + ch);
                a2.intoArray(y, yo + 2 * c + ch);
                a3.intoArray(y, yo + 3 * c + ch);
            }
            for (; ch < c; ch++) {
                for (int i = 0; i < PIXELS; i++) y[yo + i * c + ch] = pixelChannel(x, wt, bias, b, oy, ox + i, ch, h, w, c,
                        kw, ph, pw, kyLo, kyHi, 0, kw);
            }
        }
        for (; ox < w; ox++) forwardPixel(x, wt, bias, q, b, oy, ox, h, w, c, kh, kw, ph, pw, kyLo, kyHi, y);
    }

    /**
     * Four interior output pixels of a 3-wide kernel, channel vectors [0, chEnd): each kernel row reads
     * the six input pixels the four windows share once (a sliding window) instead of twelve times.
     */
    private static void fourPixels3(float[] x, float[] wt, float[] bias, int b, int oy, int ox, int h, int w, int c,
                                    int ph, int kyLo, int kyHi, float[] y, int yo, int chEnd) {
        for (int ch = 0; ch < chEnd; ch += L) {
            FloatVector a0 = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, ch);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int ky = kyLo; ky < kyHi; ky++) {
                int xi = ((b * h + oy + ky - ph) * w + ox - 1) * c + ch;
                int wi = ky * 3 * c + ch;
                FloatVector w0 = FloatVector.fromArray(F, wt, wi);
                FloatVector w1 = FloatVector.fromArray(F, wt, wi + c);
                FloatVector w2 = FloatVector.fromArray(F, wt, wi + 2 * c);
                FloatVector x0 = FloatVector.fromArray(F, x, xi);
                FloatVector x1 = FloatVector.fromArray(F, x, xi + c);
                FloatVector x2 = FloatVector.fromArray(F, x, xi + 2 * c);
                a0 = x2.fma(w2, x1.fma(w1, x0.fma(w0, a0)));
                FloatVector x3 = FloatVector.fromArray(F, x, xi + 3 * c);
                a1 = x3.fma(w2, x2.fma(w1, x1.fma(w0, a1)));
                FloatVector x4 = FloatVector.fromArray(F, x, xi + 4 * c);
                a2 = x4.fma(w2, x3.fma(w1, x2.fma(w0, a2)));
                FloatVector x5 = FloatVector.fromArray(F, x, xi + 5 * c);
                a3 = x5.fma(w2, x4.fma(w1, x3.fma(w0, a3)));
            }
            a0.intoArray(y, yo + ch);
            a1.intoArray(y, yo + c + ch);
            a2.intoArray(y, yo + 2 * c + ch);
            a3.intoArray(y, yo + 3 * c + ch);
        }
    }

    /** One output pixel, any position (the kernel clipped at the borders). */
    private static void forwardPixel(float[] x, float[] wt, float[] bias, int q, int b, int oy, int ox, int h, int w,
                                     int c, int kh, int kw, int ph, int pw, int kyLo, int kyHi, float[] y) {
        int kxLo = Math.max(0, pw - ox);
        int kxHi = Math.min(kw, w + pw - ox);
        int yo = (q * w + ox) * c;
        int ch = 0;
        for (; ch <= c - L; ch += L) {
            FloatVector acc = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, ch);
            for (int ky = kyLo; ky < kyHi; ky++) {
                int rowBase = ((b * h + oy + ky - ph) * w + ox - pw) * c + ch;
                for (int kx = kxLo; kx < kxHi; kx++) {
                    acc = FloatVector.fromArray(F, x, rowBase + kx * c)
                            .fma(FloatVector.fromArray(F, wt, (ky * kw + kx) * c + ch), acc);
                }
            }
            acc.intoArray(y, yo + ch);
        }
        for (; ch < c; ch++) {
            y[yo + ch] = pixelChannel(x, wt, bias, b, oy, ox, ch, h, w, c, kw, ph, pw, kyLo, kyHi, kxLo, kxHi);
        }
    }

    private static float pixelChannel(float[] x, float[] wt, float[] bias, int b, int oy, int ox, int ch, int h, int w,
                                      int c, int kw, int ph, int pw, int kyLo, int kyHi, int kxLo, int kxHi) {
        float acc = bias == null ? 0f : bias[ch];
        for (int ky = kyLo; ky < kyHi; ky++) {
            int rowBase = ((b * h + oy + ky - ph) * w + ox - pw) * c + ch;
            for (int kx = kxLo; kx < kxHi; kx++) acc = Math.fma(x[rowBase + kx * c], wt[(ky * kw + kx) * c + ch], acc);
        }
        return acc;
    }

    /**
     * dx (overwritten) = Σ_taps dy shifted back ⊙ W; dweight[c,ky,kx] += Σ dy⊙x shifted;
     * dbias[c] += Σ dy (when non-null). dx may be null to skip the input gradient.
     */
    public static void backward(float[] dy, float[] x, int batch, int h, int w, int c, float[] weight, int kh, int kw,
                                float[] dx, float[] dweight, float[] dbias) {
        check(kh, kw);
        if (batch <= 0 || h <= 0 || w <= 0 || c <= 0) return;
        int khw = kh * kw;
        int ph = kh / 2;
        int pw = kw / 2;
        int rows = batch * h;
        if (dx != null) {
            float[] wt = transpose(weight, c, khw);
            Parallel.forRange(rows, Math.max(1, GRAIN / (w * c * khw)), (q0, q1) -> {
                for (int q = q0; q < q1; q++) inputGradRow(dy, wt, q, h, w, c, kh, kw, ph, pw, dx);
            });
        }
        if (dweight == null && dbias == null) return;
        int nb = Ops.blocks(rows, w * c * khw);
        int stride = (khw + 1) * c;   // per block: [khw, c] weight partials then [c] bias partials
        float[] part = new float[nb * stride];
        Parallel.forRange(nb, 1, (b0, b1) -> {
            for (int blk = b0; blk < b1; blk++) {
                int q0 = (int) ((long) rows * blk / nb);
                int q1 = (int) ((long) rows * (blk + 1) / nb);
                for (int q = q0; q < q1; q++) paramGradRow(dy, x, q, h, w, c, kh, kw, ph, pw, part, blk * stride);
            }
        });
        for (int blk = 1; blk < nb; blk++) Ops.addInto(part, 0, part, blk * stride, stride);
        if (dweight != null) {
            for (int ch = 0; ch < c; ch++) {
                for (int t = 0; t < khw; t++) dweight[ch * khw + t] += part[t * c + ch];
            }
        }
        if (dbias != null) Ops.addInto(dbias, 0, part, khw * c, c);
    }

    private static void inputGradRow(float[] dy, float[] wt, int q, int h, int w, int c, int kh, int kw,
                                     int ph, int pw, float[] dx) {
        int iy = q % h;
        int b = q / h;
        // output row oy = iy − ky + ph must lie in [0, h)
        int kyLo = Math.max(0, iy + ph - h + 1);
        int kyHi = Math.min(kh, iy + ph + 1);
        for (int ix = 0; ix < w; ix++) {
            int kxLo = Math.max(0, ix + pw - w + 1);
            int kxHi = Math.min(kw, ix + pw + 1);
            int xo = (q * w + ix) * c;
            int ch = 0;
            for (; ch <= c - L; ch += L) {
                FloatVector acc = FloatVector.zero(F);
                for (int ky = kyLo; ky < kyHi; ky++) {
                    int rowBase = ((b * h + iy - ky + ph) * w + ix + pw) * c + ch;
                    for (int kx = kxLo; kx < kxHi; kx++) {
                        acc = FloatVector.fromArray(F, dy, rowBase - kx * c)
                                .fma(FloatVector.fromArray(F, wt, (ky * kw + kx) * c + ch), acc);
                    }
                }
                acc.intoArray(dx, xo + ch);
            }
            for (; ch < c; ch++) {
                float acc = 0f;
                for (int ky = kyLo; ky < kyHi; ky++) {
                    int rowBase = ((b * h + iy - ky + ph) * w + ix + pw) * c + ch;
                    for (int kx = kxLo; kx < kxHi; kx++) {
                        acc = Math.fma(dy[rowBase - kx * c], wt[(ky * kw + kx) * c + ch], acc);
                    }
                }
                dx[xo + ch] = acc;
            }
        }
    }

    private static void paramGradRow(float[] dy, float[] x, int q, int h, int w, int c, int kh, int kw,
                                     int ph, int pw, float[] part, int po) {
        int oy = q % h;
        int b = q / h;
        int khw = kh * kw;
        int kyLo = Math.max(0, ph - oy);
        int kyHi = Math.min(kh, h + ph - oy);
        int bo = po + khw * c;
        for (int ox = 0; ox < w; ox++) {
            int kxLo = Math.max(0, pw - ox);
            int kxHi = Math.min(kw, w + pw - ox);
            int go = (q * w + ox) * c;
            Ops.addInto(part, bo, dy, go, c);
            for (int ky = kyLo; ky < kyHi; ky++) {
                int rowBase = ((b * h + oy + ky - ph) * w + ox - pw) * c;
                for (int kx = kxLo; kx < kxHi; kx++) {
                    int xo = rowBase + kx * c;
                    int to = po + (ky * kw + kx) * c;
                    int ch = 0;
                    for (; ch <= c - L; ch += L) {
                        FloatVector.fromArray(F, dy, go + ch).fma(FloatVector.fromArray(F, x, xo + ch),
                                FloatVector.fromArray(F, part, to + ch)).intoArray(part, to + ch);
                    }
                    for (; ch < c; ch++) part[to + ch] = Math.fma(dy[go + ch], x[xo + ch], part[to + ch]);
                }
            }
        }
    }

    /** [c, taps] → [taps, c]. */
    private static float[] transpose(float[] weight, int c, int taps) {
        float[] wt = new float[taps * c];
        for (int ch = 0; ch < c; ch++) {
            for (int t = 0; t < taps; t++) wt[t * c + ch] = weight[ch * taps + t];
        }
        return wt;
    }

    static void check(int kh, int kw) {
        if (kh < 1 || kw < 1 || kh % 2 == 0 || kw % 2 == 0) {
            throw new IllegalArgumentException("depthwise conv keeps h×w only for odd kernels; got " + kh + "x" + kw);
        }
    }
}
