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
    private volatile int version;

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

    /**
     * Bumped by {@link #changed()}: layers that keep something derived from the value (a weight
     * packed for inference) rebuild it when the version moves.
     */
    public int version() {
        return version;
    }

    /**
     * Says the value was written. The optimizer and the checkpoint loader call it; so must any code
     * that writes {@code value().data()} of a layer that has already run an inference forward.
     */
    public void changed() {
        version++;
    }

    public void zeroGrad() {
        grad.fill(0f);
    }
}
