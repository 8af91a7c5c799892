package dev.shiftaddvit.nn;

import dev.shiftaddvit.kernel.Conv2dKernel;
import dev.shiftaddvit.profile.OpCount;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/** 2-D convolution on NHWC maps [B, H, W, C] with PyTorch's weight layout [out, in, k, k]. */
public final class Conv2d implements Layer {
    private final int inC;
    private final int outC;
    private final int kernel;
    private final int stride;
    private final int pad;
    private final Parameter weight;
    private final Parameter bias;
    private boolean inputGrad = true;
    private Tensor input;
    private float[] cols;

    public Conv2d(String name, int inC, int outC, int kernel, int stride, int pad, SplittableRandom rng) {
        this.inC = inC;
        this.outC = outC;
        this.kernel = kernel;
        this.stride = stride;
        this.pad = pad;
        this.weight = new Parameter(name + ".weight", Tensor.zeros(outC, inC, kernel, kernel), true);
        Init.convFanOut(weight.value().data(), kernel * kernel * outC, rng);
        this.bias = new Parameter(name + ".bias", Tensor.zeros(outC), false);
    }

    /** The first layer of a model needs no gradient for the image; skipping it saves a col2im. */
    public Conv2d withoutInputGrad() {
        inputGrad = false;
        return this;
    }

    public int outSize(int in) {
        return Conv2dKernel.outSize(in, kernel, stride, pad);
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        if (x.rank() != 4 || x.dim(3) != inC) {
            throw new ShapeException(weight.name() + ": expected NHWC input with " + inC + " channels but got " + x);
        }
        long t0 = System.nanoTime();
        int b = x.dim(0);
        int h = x.dim(1);
        int w = x.dim(2);
        int ho = outSize(h);
        int wo = outSize(w);
        float[] c = new float[Tensor.checkedSize(b, ho, wo, inC * kernel * kernel)];
        Tensor y = Tensor.zeros(b, ho, wo, outC);
        Conv2dKernel.forward(x.data(), b, h, w, inC, weight.value().data(), bias.value().data(), outC,
                kernel, kernel, stride, pad, c, y.data());
        input = training ? x : null;
        cols = training ? c : null;
        if (Profiler.active()) {
            Profiler.record(weight.name().replace(".weight", ""), "Conv2d", y,
                    (long) b * ho * wo * outC * inC * kernel * kernel,
                    OpCount.dense((long) b * ho * wo, (long) inC * kernel * kernel, outC, true), t0);
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        long t0 = System.nanoTime();
        Tensor x = input;
        Tensor dx = inputGrad ? Tensor.zeros(x.shape()) : null;
        float[] dcols = inputGrad ? new float[cols.length] : null;
        Conv2dKernel.backward(dy.data(), cols, x.dim(0), x.dim(1), x.dim(2), inC, weight.value().data(), outC,
                kernel, kernel, stride, pad, dx == null ? null : dx.data(), weight.grad().data(),
                bias.grad().data(), dcols);
        input = null;
        cols = null;
        if (Profiler.active()) {
            long macs = (long) dy.size() * inC * kernel * kernel;
            Profiler.record(weight.name().replace(".weight", ""), "Conv2d/bwd", x, inputGrad ? 2 * macs : macs, t0);
        }
        return dx;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }
}
