package dev.shiftaddvit.nn;

import dev.shiftaddvit.kernel.DwConvKernel;
import dev.shiftaddvit.profile.OpCount;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Depthwise convolution with "same" padding over tokens laid out on an h×w grid: input
 * [B, h·w, C] (PVTv2's DWConv inside the MLP), weight [C, 1, kh, kw].
 */
public final class DwConv implements Layer {
    private final int channels;
    private final int h;
    private final int w;
    private final int kh;
    private final int kw;
    private final Parameter weight;
    private final Parameter bias;
    private Tensor input;

    public DwConv(String name, int channels, int h, int w, int kh, int kw, SplittableRandom rng) {
        this.channels = channels;
        this.h = h;
        this.w = w;
        this.kh = kh;
        this.kw = kw;
        this.weight = new Parameter(name + ".weight", Tensor.zeros(channels, 1, kh, kw), true);
        Init.convFanOut(weight.value().data(), kh * kw, rng);
        this.bias = new Parameter(name + ".bias", Tensor.zeros(channels), false);
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        if (x.rank() != 3 || x.dim(1) != h * w || x.dim(2) != channels) {
            throw new ShapeException(weight.name() + ": expected [B, " + h * w + ", " + channels + "] but got " + x);
        }
        long t0 = System.nanoTime();
        Tensor y = Tensor.zeros(x.shape());
        DwConvKernel.forward(x.data(), x.dim(0), h, w, channels, weight.value().data(), bias.value().data(), kh, kw,
                y.data());
        input = training ? x : null;
        if (Profiler.active()) {
            // Padding taps are counted, as in the MACs (one dot product of kh·kw taps per output).
            Profiler.record(weight.name().replace(".weight", ""), "DwConv", y, (long) y.size() * kh * kw,
                    OpCount.dense(y.size(), (long) kh * kw, 1, true), t0);
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        long t0 = System.nanoTime();
        Tensor dx = Tensor.zeros(input.shape());
        DwConvKernel.backward(dy.data(), input.data(), input.dim(0), h, w, channels, weight.value().data(), kh, kw,
                dx.data(), weight.grad().data(), bias.grad().data());
        input = null;
        if (Profiler.active()) {
            Profiler.record(weight.name().replace(".weight", ""), "DwConv/bwd", dx, 2L * dx.size() * kh * kw, t0);
        }
        return dx;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }
}
