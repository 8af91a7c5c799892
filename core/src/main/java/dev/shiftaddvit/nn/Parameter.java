package dev.shiftaddvit.nn;

import dev.shiftaddvit.tensor.Tensor;

/**
 * A trainable tensor with its gradient. Names follow timm's dotted convention so checkpoints map
 * one-to-one; decay=false exempts norms, biases and position embeddings from weight decay.
 */
public final class Parameter {
    private final String name;
    private final Tensor value;
    private final Tensor grad;
    private final boolean decay;

    public Parameter(String name, Tensor value, boolean decay) {
        this.name = name;
        this.value = value;
        this.grad = Tensor.zeros(value.shape());
        this.decay = decay;
    }

    public String name() {
        return name;
    }

    public Tensor value() {
        return value;
    }

    public Tensor grad() {
        return grad;
    }

    public boolean decay() {
        return decay;
    }

    public void zeroGrad() {
        grad.fill(0f);
    }
}
