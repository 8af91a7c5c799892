package dev.shiftaddvit.data;

import dev.shiftaddvit.tensor.Tensor;

/** A prepared mini-batch: normalised NHWC images and their labels. */
public record Batch(Tensor images, int[] labels) {
    public int size() {
        return labels.length;
    }
}
