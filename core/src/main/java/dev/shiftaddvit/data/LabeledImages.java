package dev.shiftaddvit.data;

import java.util.SplittableRandom;

/**
 * Labelled 8-bit images of one size, the input of {@link dev.shiftaddvit.data.BatchSource}:
 * Fashion-MNIST held in memory ({@link Dataset}) or image files decoded on demand
 * ({@link ImageFolder}). Pixels stay bytes so that both are scaled to [0, 1] by the same division.
 */
public interface LabeledImages {
    /** Number of images. */
    int n();

    int h();

    int w();

    /** Bytes per pixel: 1 (gray) or 3 (RGB). */
    int channels();

    /** The label of image i. */
    int label(int i);

    /** Copies image i to dst[off .. off + h·w·channels) as unsigned bytes, row-major, channels last. */
    void copyPixels(int i, byte[] dst, int off);

    /**
     * As {@link #copyPixels}, for a training batch: a source that transforms its images at
     * training time (an image folder's random resized crop) draws from {@code rng}; the others
     * copy the image unchanged.
     */
    default void copyTrainingPixels(int i, byte[] dst, int off, SplittableRandom rng) {
        copyPixels(i, dst, off);
    }

    /** Where the images come from, for messages. */
    String source();
}
