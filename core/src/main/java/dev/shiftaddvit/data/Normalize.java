package dev.shiftaddvit.data;

/**
 * A model's per-channel input normalisation, (v − mean[c]) / std[c], over interleaved (HWC) pixels whose
 * channel is the index modulo the channel count: the one place both the training batches and the
 * classifier API apply it.
 */
public final class Normalize {
    private Normalize() {
    }

    /** dst[dstOff + p] = (src[srcOff + p] − mean[c]) / std[c] for pixel values in [0, 1]. */
    public static void values(float[] src, int srcOff, float[] dst, int dstOff, int n, float[] mean, float[] std) {
        int channels = mean.length;
        for (int p = 0; p < n; p++) {
            int ch = p % channels;
            dst[dstOff + p] = (src[srcOff + p] - mean[ch]) / std[ch];
        }
    }

    /** As {@link #values} for 8-bit pixels, read as v = byte / 255. */
    public static void bytes(byte[] src, float[] dst, int dstOff, int n, float[] mean, float[] std) {
        int channels = mean.length;
        for (int p = 0; p < n; p++) {
            int ch = p % channels;
            dst[dstOff + p] = ((src[p] & 0xff) / 255f - mean[ch]) / std[ch];
        }
    }
}
