package dev.shiftaddvit.nn;

import dev.shiftaddvit.kernel.Gelu;
import dev.shiftaddvit.profile.OpCount;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.Tensor;

import java.util.List;

/** Exact (erf) GELU as PyTorch's default. */
public final class GeluLayer implements Layer {
    private Tensor input;

    @Override
    public Tensor forward(Tensor x, boolean training) {
        return forward(x, training, Tensor.zeros(x.shape()));
    }

    /**
     * As {@link #forward}, but at inference the result overwrites x: for a caller that owns x and
     * reads it no more (the MLP's hidden activation), saving an allocation the size of the widest
     * activation in the model.
     */
    Tensor forwardConsuming(Tensor x, boolean training) {
        return forward(x, training, training ? Tensor.zeros(x.shape()) : x);
    }

    private Tensor forward(Tensor x, boolean training, Tensor y) {
        long t0 = System.nanoTime();
        Gelu.forward(x.data(), y.data(), x.size());
        input = training ? x : null;
        if (Profiler.active()) Profiler.record("gelu", "GELU", y, 0, OpCount.gelu(y.size()), t0);
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        long t0 = System.nanoTime();
        Tensor dx = Tensor.zeros(dy.shape());
        Gelu.backward(input.data(), dy.data(), dx.data(), dy.size());
        input = null;
        if (Profiler.active()) Profiler.record("gelu", "GELU/bwd", dx, 0, t0);
        return dx;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of();
    }
}
