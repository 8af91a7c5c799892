package dev.shiftaddvit.nn;

import dev.shiftaddvit.tensor.Tensor;

import java.util.List;

/**
 * A module with an explicit forward and backward (as in llm.c): forward with training=true caches
 * what backward needs; backward accumulates parameter gradients and returns the input gradient.
 */
public interface Layer {
    Tensor forward(Tensor x, boolean training);

    Tensor backward(Tensor dy);

    List<Parameter> parameters();
}
