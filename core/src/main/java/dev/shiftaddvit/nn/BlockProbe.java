package dev.shiftaddvit.nn;

import dev.shiftaddvit.tensor.Tensor;

/**
 * Watches one block's output: {@link Block} calls {@link #forwarded} with it after every forward and,
 * in backward, adds {@link #extraGradient} to the gradient arriving at that output. Block-wise
 * distillation reads the parent's outputs and pulls the student's towards them this way.
 */
public interface BlockProbe {
    void forwarded(Tensor y, boolean training);

    /** The gradient of an extra loss term with respect to the last training output, or null for none. */
    Tensor extraGradient();
}
