package dev.shiftaddvit.data;

import java.util.Objects;

/**
 * Grayscale images with labels: {@code pixels} holds n·h·w unsigned bytes, image-major then
 * row-major; {@code labels} holds n unsigned bytes. The arrays are shared, not copied.
 * {@link #equals} compares the content (sizes, pixels, labels), not the source.
 */
public record Dataset(byte[] pixels, byte[] labels, int n, int h, int w, String source) implements LabeledImages {
    public Dataset {
        Objects.requireNonNull(pixels, "pixels");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(source, "source");
        if (n < 0 || h <= 0 || w <= 0) {
            throw new IllegalArgumentException("bad dataset dimensions n=" + n + " h=" + h + " w=" + w);
        }
        if ((long) n * h * w != pixels.length) {
            throw new IllegalArgumentException(pixels.length + " pixels do not match " + n + "x" + h + "x" + w);
        }
        if (labels.length != n) {
            throw new IllegalArgumentException(labels.length + " labels for " + n + " images");
        }
    }

    /** Number of pixels in one image. */
    public int imageSize() {
        return h * w;
    }

    @Override
    public int channels() {
        return 1;
    }

    @Override
    public void copyPixels(int i, byte[] dst, int off) {
        Objects.checkIndex(i, n);
        System.arraycopy(pixels, i * h * w, dst, off, h * w);
    }

    /** A pixel as a float in [0, 1]. */
    public float pixel(int i, int y, int x) {
        Objects.checkIndex(i, n);
        Objects.checkIndex(y, h);
        Objects.checkIndex(x, w);
        return (pixels[(i * h + y) * w + x] & 0xff) * (1f / 255f);
    }

    /** The label of image i, in [0, 255]. */
    @Override
    public int label(int i) {
        return labels[Objects.checkIndex(i, n)] & 0xff;
    }

    /** Copies image i to dst[off .. off+h·w) as floats in [0, 1]. */
    public void copyImage(int i, float[] dst, int off) {
        Objects.checkIndex(i, n);
        int size = h * w;
        Objects.checkFromIndexSize(off, size, dst.length);
        int src = i * size;
        for (int k = 0; k < size; k++) dst[off + k] = (pixels[src + k] & 0xff) * (1f / 255f);
    }

    /** Image i as h·w floats in [0, 1]. */
    public float[] image(int i) {
        float[] out = new float[h * w];
        copyImage(i, out, 0);
        return out;
    }

    /** Images [from, to) as a new dataset (the arrays are copied). */
    public Dataset subset(int from, int to) {
        Objects.checkFromToIndex(from, to, n);
        int size = h * w;
        byte[] px = new byte[(to - from) * size];
        System.arraycopy(pixels, from * size, px, 0, px.length);
        byte[] lb = new byte[to - from];
        System.arraycopy(labels, from, lb, 0, lb.length);
        return new Dataset(px, lb, to - from, h, w, source + "[" + from + ":" + to + "]");
    }

    /** Count of each label value 0..numClasses-1 (labels outside are ignored). */
    public int[] labelHistogram(int numClasses) {
        int[] hist = new int[numClasses];
        for (byte b : labels) {
            int l = b & 0xff;
            if (l < numClasses) hist[l]++;
        }
        return hist;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dataset d && n == d.n && h == d.h && w == d.w
                && java.util.Arrays.equals(pixels, d.pixels) && java.util.Arrays.equals(labels, d.labels);
    }

    @Override
    public int hashCode() {
        return Objects.hash(n, h, w, java.util.Arrays.hashCode(labels));
    }

    @Override
    public String toString() {
        return "Dataset[" + n + " images " + h + "x" + w + " from " + source + "]";
    }
}
