package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link DwConvKernel} against at every vector width: direct loops over
 * the taps, accumulated in double.
 */
public final class DwConvKernelReference {
    private DwConvKernelReference() {
    }

    /** Oracle of {@link DwConvKernel#forward}. */
    public static void forward(float[] x, int batch, int h, int w, int c, float[] weight, float[] bias, int kh,
                               int kw, float[] y) {
        DwConvKernel.check(kh, kw);
        int ph = kh / 2;
        int pw = kw / 2;
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < h; oy++)
                for (int ox = 0; ox < w; ox++)
                    for (int ch = 0; ch < c; ch++) {
                        double s = bias == null ? 0 : bias[ch];
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++) {
                                int iy = oy + ky - ph;
                                int ix = ox + kx - pw;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                s += (double) weight[(ch * kh + ky) * kw + kx] * x[((b * h + iy) * w + ix) * c + ch];
                            }
                        y[((b * h + oy) * w + ox) * c + ch] = (float) s;
                    }
    }

    /** Oracle of {@link DwConvKernel#backward} (direct scatter, double accumulation). */
    public static void backward(float[] dy, float[] x, int batch, int h, int w, int c, float[] weight, int kh,
                                int kw, float[] dx, float[] dweight, float[] dbias) {
        DwConvKernel.check(kh, kw);
        int ph = kh / 2;
        int pw = kw / 2;
        double[] dxd = new double[batch * h * w * c];
        double[] dwd = new double[c * kh * kw];
        double[] dbd = new double[c];
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < h; oy++)
                for (int ox = 0; ox < w; ox++)
                    for (int ch = 0; ch < c; ch++) {
                        float g = dy[((b * h + oy) * w + ox) * c + ch];
                        dbd[ch] += g;
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++) {
                                int iy = oy + ky - ph;
                                int ix = ox + kx - pw;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                int xi = ((b * h + iy) * w + ix) * c + ch;
                                int wi = (ch * kh + ky) * kw + kx;
                                dxd[xi] += (double) g * weight[wi];
                                dwd[wi] += (double) g * x[xi];
                            }
                    }
        if (dx != null) for (int i = 0; i < dxd.length; i++) dx[i] = (float) dxd[i];
        if (dweight != null) for (int i = 0; i < dwd.length; i++) dweight[i] += (float) dwd[i];
        if (dbias != null) for (int i = 0; i < dbd.length; i++) dbias[i] += (float) dbd[i];
    }
}
