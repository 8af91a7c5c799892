package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link Conv2dKernel} against at every vector width: direct convolution
 * in double, no im2col and no GEMM.
 */
public final class Conv2dKernelReference {
    private Conv2dKernelReference() {
    }

    /** Oracle of {@link Conv2dKernel#forward}: direct seven-loop convolution. */
    public static void forward(float[] x, int batch, int h, int w, int inC, float[] weight, float[] bias,
                               int outC, int kh, int kw, int stride, int pad, float[] y) {
        int ho = Conv2dKernel.outSize(h, kh, stride, pad);
        int wo = Conv2dKernel.outSize(w, kw, stride, pad);
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                    for (int o = 0; o < outC; o++) {
                        double s = bias == null ? 0 : bias[o];
                        for (int c = 0; c < inC; c++)
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++) {
                                    int iy = oy * stride - pad + ky;
                                    int ix = ox * stride - pad + kx;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                    s += (double) weight[((o * inC + c) * kh + ky) * kw + kx]
                                            * x[((b * h + iy) * w + ix) * inC + c];
                                }
                        y[((b * ho + oy) * wo + ox) * outC + o] = (float) s;
                    }
    }

    /**
     * Oracle of {@link Conv2dKernel#backward}: direct scatter; dx (when non-null) overwritten, dweight/dbias
     * accumulated.
     */
    public static void backward(float[] dy, float[] x, int batch, int h, int w, int inC, float[] weight,
                                int outC, int kh, int kw, int stride, int pad, float[] dx, float[] dweight,
                                float[] dbias) {
        int ho = Conv2dKernel.outSize(h, kh, stride, pad);
        int wo = Conv2dKernel.outSize(w, kw, stride, pad);
        double[] dxd = dx == null ? null : new double[batch * h * w * inC];
        double[] dwd = new double[outC * inC * kh * kw];
        double[] dbd = new double[outC];
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                    for (int o = 0; o < outC; o++) {
                        float g = dy[((b * ho + oy) * wo + ox) * outC + o];
                        dbd[o] += g;
                        for (int c = 0; c < inC; c++)
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++) {
                                    int iy = oy * stride - pad + ky;
                                    int ix = ox * stride - pad + kx;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                    int wi = ((o * inC + c) * kh + ky) * kw + kx;
                                    int xi = ((b * h + iy) * w + ix) * inC + c;
                                    dwd[wi] += (double) g * x[xi];
                                    if (dxd != null) dxd[xi] += (double) g * weight[wi];
                                }
                    }
        if (dxd != null) for (int i = 0; i < dxd.length; i++) dx[i] = (float) dxd[i];
        if (dweight != null) for (int i = 0; i < dwd.length; i++) dweight[i] += (float) dwd[i];
        if (dbias != null) for (int i = 0; i < dbd.length; i++) dbias[i] += (float) dbd[i];
    }
}
