package dev.shiftaddvit.data;

import java.util.SplittableRandom;

/**
 * Seeded train-time augmentation of one normalised single- or multi-channel HWC image:
 * random crop from a zero-padded copy (padding in pixels), horizontal flip, random erasing.
 */
public record Augment(int padding, boolean flip, float eraseProb) {
    public static final Augment NONE = new Augment(0, false, 0f);

    public Augment {
        if (padding < 0 || eraseProb < 0 || eraseProb > 1) {
            throw new IllegalArgumentException("bad augmentation: padding " + padding + ", erase " + eraseProb);
        }
    }

    /** Transforms src (h×w×c, normalised, background value bg) into dst using rng. */
    public void apply(float[] src, int srcOff, float[] dst, int dstOff, int h, int w, int c, float[] bg,
                      SplittableRandom rng) {
        int dy = padding > 0 ? rng.nextInt(2 * padding + 1) - padding : 0;
        int dx = padding > 0 ? rng.nextInt(2 * padding + 1) - padding : 0;
        boolean mirror = flip && rng.nextBoolean();
        for (int y = 0; y < h; y++) {
            int sy = y + dy;
            for (int x = 0; x < w; x++) {
                int sx = (mirror ? w - 1 - x : x) + dx;
                int o = dstOff + (y * w + x) * c;
                boolean inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
                for (int ch = 0; ch < c; ch++) dst[o + ch] = inside ? src[srcOff + (sy * w + sx) * c + ch] : bg[ch];
            }
        }
        if (eraseProb > 0 && rng.nextFloat() < eraseProb) erase(dst, dstOff, h, w, c, bg, rng);
    }

    /** Random erasing (Zhong et al.): a rectangle of 2–33% of the area, aspect 0.3–3.3, set to background. */
    private static void erase(float[] img, int off, int h, int w, int c, float[] bg, SplittableRandom rng) {
        for (int attempt = 0; attempt < 10; attempt++) {
            double area = h * w * (0.02 + rng.nextDouble() * 0.31);
            double logRatio = Math.log(0.3) + rng.nextDouble() * (Math.log(1 / 0.3) - Math.log(0.3));
            double ratio = Math.exp(logRatio);
            int eh = (int) Math.round(Math.sqrt(area * ratio));
            int ew = (int) Math.round(Math.sqrt(area / ratio));
            if (eh < 1 || ew < 1 || eh >= h || ew >= w) continue;
            int y0 = rng.nextInt(h - eh + 1);
            int x0 = rng.nextInt(w - ew + 1);
            for (int y = y0; y < y0 + eh; y++) {
                for (int x = x0; x < x0 + ew; x++) {
                    for (int ch = 0; ch < c; ch++) img[off + (y * w + x) * c + ch] = bg[ch];
                }
            }
            return;
        }
    }
}
