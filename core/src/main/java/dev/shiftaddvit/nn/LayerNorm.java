package dev.shiftaddvit.nn;

import dev.shiftaddvit.kernel.LayerNormKernel;
import dev.shiftaddvit.profile.OpCount;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.Tensor;

import java.util.List;

/** LayerNorm over the last axis with affine weight and bias. */
public final class LayerNorm implements Layer {
    private final int dim;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;
    private Tensor input;
    private float[] mean;
    private float[] rstd;

    public LayerNorm(String name, int dim, float eps) {
        this.dim = dim;
        this.eps = eps;
        this.weight = new Parameter(name + ".weight", Tensor.zeros(dim), false);
        this.weight.value().fill(1f);
        this.bias = new Parameter(name + ".bias", Tensor.zeros(dim), false);
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        long t0 = System.nanoTime();
        int rows = x.size() / dim;
        Tensor y = Tensor.zeros(x.shape());
        float[] m = training ? new float[rows] : null;
        float[] r = training ? new float[rows] : null;
        LayerNormKernel.forward(x.data(), weight.value().data(), bias.value().data(), y.data(), m, r, rows, dim, eps);
        input = training ? x : null;
        mean = m;
        rstd = r;
        if (Profiler.active()) {
            Profiler.record(weight.name().replace(".weight", ""), "LayerNorm", y, 0, OpCount.layerNorm(rows, dim), t0);
        }
        return y;
    }

    /** Inference on rows [0, rows) at x[xOff + r·dim] into y[yOff + r·dim], on the calling thread (same bits as forward). */
    public void forwardRows(float[] x, int xOff, float[] y, int yOff, int rows) {
        LayerNormKernel.forwardRows(x, xOff, weight.value().data(), bias.value().data(), y, yOff, rows, dim, eps);
    }

    public int dim() {
        return dim;
    }

    @Override
    public Tensor backward(Tensor dy) {
        long t0 = System.nanoTime();
        int rows = input.size() / dim;
        Tensor dx = Tensor.zeros(input.shape());
        LayerNormKernel.backward(dy.data(), input.data(), weight.value().data(), mean, rstd, dx.data(),
                weight.grad().data(), bias.grad().data(), rows, dim);
        input = null;
        if (Profiler.active()) Profiler.record(weight.name().replace(".weight", ""), "LayerNorm/bwd", dx, 0, t0);
        return dx;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }
}
