package dev.shiftaddvit.data;

/**
 * Resizes 8-bit RGB images exactly as Pillow's {@code Image.resize} does for the bilinear and
 * bicubic filters, so a model sees the pixels it was evaluated with in Python.
 *
 * <p>Pillow's algorithm (re-implemented from its description in {@code libImaging/Resample.c}):
 * a separable convolution, horizontal pass first, each pass skipped when its size is unchanged.
 * When downsampling, the filter is stretched by the scale factor (antialiasing), so every source
 * pixel contributes. The weights of each output sample are normalised in double precision, then
 * rounded to 22-bit fixed point; each pass accumulates integers from a rounding offset of one
 * half and clips to [0, 255], so the intermediate image is 8-bit as in Pillow. The result is
 * bit-identical to Pillow 12 (see {@code ResizeTest}).
 */
public final class Resize {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private Resize() {
    }

    /** The interpolation filters timm and torchvision name "bilinear" and "bicubic". */
    public enum Filter {
        /** Triangle filter, support 1. */
        BILINEAR(1.0),
        /** Keys cubic with a = -0.5 (Pillow's choice; OpenCV and PyTorch tensors use -0.75), support 2. */
        BICUBIC(2.0);

        private final double support;

        Filter(double support) {
            this.support = support;
        }

        double weight(double x) {
            x = Math.abs(x);
            if (this == BILINEAR) return x < 1.0 ? 1.0 - x : 0.0;
            double a = -0.5;
            if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
            if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
            return 0.0;
        }

        /** The filter named by timm/torchvision ("bilinear", "bicubic"), case-insensitive. */
        public static Filter parse(String name) {
            for (Filter f : values()) if (f.name().equalsIgnoreCase(name)) return f;
            throw new IllegalArgumentException("unknown interpolation \"" + name + "\" (expected bilinear or bicubic)");
        }
    }

    /** Resizes {@code src} to {@code width × height}. */
    public static RgbImage resize(RgbImage src, int width, int height, Filter filter) {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("target size " + width + "x" + height);
        RgbImage out = src;
        if (width != src.width()) out = horizontal(out, width, Taps.of(src.width(), width, filter));
        if (height != src.height()) out = vertical(out, height, Taps.of(src.height(), height, filter));
        return out == src ? new RgbImage(src.pixels().clone(), src.width(), src.height()) : out;
    }

    /**
     * Fixed-point weights: output sample j reads {@code count[j]} inputs from {@code first[j]} with
     * weights {@code weights[j * stride ...]}.
     */
    private record Taps(int[] first, int[] count, int[] weights, int stride) {
        static Taps of(int inSize, int outSize, Filter filter) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filter.support * filterScale;
            int stride = (int) Math.ceil(support) * 2 + 1;
            int[] first = new int[outSize];
            int[] count = new int[outSize];
            int[] weights = new int[outSize * stride];
            double[] k = new double[stride];
            for (int j = 0; j < outSize; j++) {
                double center = (j + 0.5) * scale;
                // (int) truncates like Pillow's C casts; negative starts are clamped just after.
                int lo = Math.max(0, (int) (center - support + 0.5));
                int hi = Math.min(inSize, (int) (center + support + 0.5));
                int n = hi - lo;
                double sum = 0.0;
                for (int t = 0; t < n; t++) {
                    k[t] = filter.weight((t + lo - center + 0.5) / filterScale);
                    sum += k[t];
                }
                for (int t = 0; t < n; t++) {
                    double w = sum != 0.0 ? k[t] / sum : k[t];
                    weights[j * stride + t] = (int) (w < 0 ? -0.5 + w * (1 << PRECISION_BITS)
                            : 0.5 + w * (1 << PRECISION_BITS));
                }
                first[j] = lo;
                count[j] = n;
            }
            return new Taps(first, count, weights, stride);
        }
    }

    private static byte clip8(int acc) {
        return (byte) Math.clamp(acc >> PRECISION_BITS, 0, 255);
    }

    private static RgbImage horizontal(RgbImage src, int outW, Taps taps) {
        int inW = src.width();
        int h = src.height();
        byte[] in = src.pixels();
        byte[] out = new byte[outW * h * 3];
        for (int y = 0; y < h; y++) {
            int row = y * inW * 3;
            for (int x = 0; x < outW; x++) {
                int r = 1 << (PRECISION_BITS - 1);
                int g = r;
                int b = r;
                int w0 = x * taps.stride;
                int p = row + taps.first[x] * 3;
                for (int t = 0; t < taps.count[x]; t++, p += 3) {
                    int w = taps.weights[w0 + t];
                    r += (in[p] & 0xff) * w;
                    g += (in[p + 1] & 0xff) * w;
                    b += (in[p + 2] & 0xff) * w;
                }
                int o = (y * outW + x) * 3;
                out[o] = clip8(r);
                out[o + 1] = clip8(g);
                out[o + 2] = clip8(b);
            }
        }
        return new RgbImage(out, outW, h);
    }

    private static RgbImage vertical(RgbImage src, int outH, Taps taps) {
        int w = src.width();
        int rowBytes = w * 3;
        byte[] in = src.pixels();
        byte[] out = new byte[outH * rowBytes];
        int[] acc = new int[rowBytes];
        for (int y = 0; y < outH; y++) {
            java.util.Arrays.fill(acc, 1 << (PRECISION_BITS - 1));
            int w0 = y * taps.stride;
            for (int t = 0; t < taps.count[y]; t++) {
                int wt = taps.weights[w0 + t];
                int row = (taps.first[y] + t) * rowBytes;
                for (int i = 0; i < rowBytes; i++) acc[i] += (in[row + i] & 0xff) * wt;
            }
            for (int i = 0; i < rowBytes; i++) out[y * rowBytes + i] = clip8(acc[i]);
        }
        return new RgbImage(out, w, outH);
    }
}
