package dev.shiftaddvit.kernel;

import java.util.Arrays;

/**
 * 2-D convolution over NHWC activations with PyTorch's weight layout [outC, inC, kh, kw], any
 * stride and symmetric zero padding, through im2col + GEMM.
 *
 * <p>im2col writes a buffer [batch·ho·wo, inC·kh·kw]. With at least as many patches as output
 * channels its columns are in the input's own (ky, kx, c) order, so each patch row inside the image
 * is one contiguous copy of kw·inC floats from the NHWC input, and the weight [outC, inC, kh, kw] is
 * permuted to match per call (outC·k moves, against m·k for the patches); with fewer patches (a late
 * PVT stage at batch 1) they keep the weight's (c, ky, kx) order and are gathered. The forward is
 * then one {@code Gemm.nt}: y = cols·Wᵀ, token-major [batch, ho, wo, outC]. The backward forms
 * dW = dyᵀ·cols ({@code Gemm.tn}, permuted back when needed), db += Σ dy, and, when asked,
 * dcols = dy·W ({@code Gemm.nn}) followed by col2im. col2im is written as a gather over input
 * pixels (each pixel sums the patch entries that read it), so it parallelises without write races and
 * overwrites dx.
 */
public final class Conv2dKernel {
    private static final int GRAIN = 16384;

    private Conv2dKernel() {
    }

    /** Output extent floor((in + 2·pad − k)/stride) + 1, as PyTorch. */
    public static int outSize(int in, int k, int stride, int pad) {
        if (k < 1 || stride < 1 || pad < 0) {
            throw new IllegalArgumentException("conv needs k >= 1, stride >= 1, pad >= 0; got k=" + k
                    + ", stride=" + stride + ", pad=" + pad);
        }
        int span = in + 2 * pad - k;
        if (span < 0) {
            throw new IllegalArgumentException("conv kernel " + k + " is larger than the padded input "
                    + (in + 2 * pad));
        }
        return span / stride + 1;
    }

    /**
     * y[b,oy,ox,o] = bias[o] + Σ_{c,ky,kx} W[o,c,ky,kx]·x[b, oy·s−p+ky, ox·s−p+kx, c];
     * cols (size batch·ho·wo·inC·kh·kw) is filled and must be kept for the backward.
     */
    public static void forward(float[] x, int batch, int h, int w, int inC, float[] weight, float[] bias, int outC,
                               int kh, int kw, int stride, int pad, float[] cols, float[] y) {
        int ho = outSize(h, kh, stride, pad);
        int wo = outSize(w, kw, stride, pad);
        int m = batch * ho * wo;
        int k = inC * kh * kw;
        if (m == 0) return;
        boolean po = patchOrder(m, outC);
        im2col(x, batch, h, w, inC, kh, kw, stride, pad, ho, wo, po, cols);
        Gemm.nt(m, outC, k, cols, 0, k, po ? toPatchOrder(weight, outC, inC, kh * kw) : weight, 0, k, y, 0, outC,
                false);
        if (bias != null) Ops.addBiasRows(y, bias, m, outC);
    }

    /**
     * dweight += dyᵀ·cols; dbias += Σ dy (when non-null); dx (when non-null) is overwritten with
     * col2im(dy·W), using dcolsScratch (size batch·ho·wo·inC·kh·kw) as the intermediate.
     */
    public static void backward(float[] dy, float[] cols, int batch, int h, int w, int inC, float[] weight, int outC,
                                int kh, int kw, int stride, int pad, float[] dx, float[] dweight, float[] dbias,
                                float[] dcolsScratch) {
        int ho = outSize(h, kh, stride, pad);
        int wo = outSize(w, kw, stride, pad);
        int m = batch * ho * wo;
        int k = inC * kh * kw;
        if (m == 0) return;
        int khw = kh * kw;
        boolean po = patchOrder(m, outC);
        if (dweight != null && po) {
            float[] dw = new float[outC * k];
            Gemm.tn(outC, k, m, dy, 0, outC, cols, 0, k, dw, 0, k, false);
            for (int o = 0; o < outC; o++) {
                for (int c = 0; c < inC; c++) {
                    for (int t = 0; t < khw; t++) dweight[(o * inC + c) * khw + t] += dw[(o * khw + t) * inC + c];
                }
            }
        } else if (dweight != null) {
            Gemm.tn(outC, k, m, dy, 0, outC, cols, 0, k, dweight, 0, k, true);
        }
        if (dbias != null) Ops.sumRows(dy, dbias, m, outC);
        if (dx != null) {
            Gemm.nn(m, k, outC, dy, 0, outC, po ? toPatchOrder(weight, outC, inC, khw) : weight, 0, k, dcolsScratch,
                    0, k, false);
            col2im(dcolsScratch, batch, h, w, inC, kh, kw, stride, pad, ho, wo, po, dx);
        }
    }

    /** Whether the patch columns are in (ky, kx, c) order: when the m patches outnumber the outC weight rows. */
    static boolean patchOrder(int m, int outC) {
        return m >= outC;
    }

    /** [outC, inC, taps] → [outC, taps, inC], the patch-order columns of {@link #im2col}. */
    private static float[] toPatchOrder(float[] weight, int outC, int inC, int taps) {
        float[] wp = new float[outC * inC * taps];
        for (int o = 0; o < outC; o++) {
            for (int c = 0; c < inC; c++) {
                for (int t = 0; t < taps; t++) wp[(o * taps + t) * inC + c] = weight[(o * inC + c) * taps + t];
            }
        }
        return wp;
    }

    /**
     * cols[(b,oy,ox), (ky,kx,c)] (patch order) or cols[(b,oy,ox), (c,ky,kx)] = x[b, oy·s−p+ky, ox·s−p+kx, c],
     * or 0 outside the image.
     */
    static void im2col(float[] x, int batch, int h, int w, int inC, int kh, int kw, int stride, int pad,
                       int ho, int wo, boolean patchOrder, float[] cols) {
        if (!patchOrder) {
            im2colChannelOrder(x, batch, h, w, inC, kh, kw, stride, pad, ho, wo, cols);
            return;
        }
        int k = inC * kh * kw;
        int m = batch * ho * wo;
        int rowLen = kw * inC;
        Parallel.forRange(m, Math.max(1, GRAIN / k), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int ox = r % wo;
                int t = r / wo;
                int oy = t % ho;
                int b = t / ho;
                int ix0 = ox * stride - pad;
                // the kx range that lands inside the image, the same for every ky
                int kxLo = Math.max(0, -ix0);
                int kxHi = Math.min(kw, w - ix0);
                for (int ky = 0; ky < kh; ky++) {
                    int iy = oy * stride - pad + ky;
                    int co = r * k + ky * rowLen;
                    if (iy < 0 || iy >= h || kxLo >= kxHi) {
                        Arrays.fill(cols, co, co + rowLen, 0f);
                        continue;
                    }
                    if (kxLo > 0) Arrays.fill(cols, co, co + kxLo * inC, 0f);
                    System.arraycopy(x, ((b * h + iy) * w + ix0 + kxLo) * inC, cols, co + kxLo * inC,
                            (kxHi - kxLo) * inC);
                    if (kxHi < kw) Arrays.fill(cols, co + kxHi * inC, co + rowLen, 0f);
                }
            }
        });
    }

    private static void im2colChannelOrder(float[] x, int batch, int h, int w, int inC, int kh, int kw, int stride,
                                           int pad, int ho, int wo, float[] cols) {
        int khw = kh * kw;
        int k = inC * khw;
        int m = batch * ho * wo;
        Parallel.forRange(m, Math.max(1, GRAIN / k), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int ox = r % wo;
                int t = r / wo;
                int oy = t % ho;
                int b = t / ho;
                int ro = r * k;
                for (int ky = 0; ky < kh; ky++) {
                    int iy = oy * stride - pad + ky;
                    boolean rowIn = iy >= 0 && iy < h;
                    for (int kx = 0; kx < kw; kx++) {
                        int ix = ox * stride - pad + kx;
                        int co = ro + ky * kw + kx;
                        if (rowIn && ix >= 0 && ix < w) {
                            int xo = ((b * h + iy) * w + ix) * inC;
                            for (int c = 0; c < inC; c++) cols[co + c * khw] = x[xo + c];
                        } else {
                            for (int c = 0; c < inC; c++) cols[co + c * khw] = 0f;
                        }
                    }
                }
            }
        });
    }

    /** dx[b,iy,ix,c] = Σ dcols over the (patch, ky, kx) entries that read input pixel (iy, ix). */
    static void col2im(float[] dcols, int batch, int h, int w, int inC, int kh, int kw, int stride, int pad,
                       int ho, int wo, boolean patchOrder, float[] dx) {
        int khw = kh * kw;
        int k = inC * khw;
        int rowsIn = batch * h;
        Parallel.forRange(rowsIn, Math.max(1, GRAIN / Math.max(1, w * inC * khw)), (q0, q1) -> {
            for (int q = q0; q < q1; q++) {
                int iy = q % h;
                int b = q / h;
                for (int ix = 0; ix < w; ix++) {
                    int xo = (q * w + ix) * inC;
                    for (int c = 0; c < inC; c++) dx[xo + c] = 0f;
                    for (int ky = 0; ky < kh; ky++) {
                        int ty = iy + pad - ky;
                        if (ty < 0) break;
                        if (ty % stride != 0) continue;
                        int oy = ty / stride;
                        if (oy >= ho) continue;
                        for (int kx = 0; kx < kw; kx++) {
                            int tx = ix + pad - kx;
                            if (tx < 0) break;
                            if (tx % stride != 0) continue;
                            int ox = tx / stride;
                            if (ox >= wo) continue;
                            int patch = ((b * ho + oy) * wo + ox) * k;
                            if (patchOrder) {
                                int co = patch + (ky * kw + kx) * inC;
                                for (int c = 0; c < inC; c++) dx[xo + c] += dcols[co + c];
                            } else {
                                int co = patch + ky * kw + kx;
                                for (int c = 0; c < inC; c++) dx[xo + c] += dcols[co + c * khw];
                            }
                        }
                    }
                }
            }
        });
    }
}
