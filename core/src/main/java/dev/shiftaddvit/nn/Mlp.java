package dev.shiftaddvit.nn;

import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** fc1 → (depthwise 3×3 conv on the token grid, PVTv2) → GELU → fc2. */
public final class Mlp implements Layer {
    private Layer fc1;
    private final DwConv dwconv;
    private final GeluLayer act = new GeluLayer();
    private Layer fc2;

    /** gridH/gridW > 0 adds PVTv2's depthwise convolution over an gridH×gridW token grid. */
    public Mlp(String name, int dim, int hidden, int gridH, int gridW, SplittableRandom rng) {
        this.fc1 = new Linear(name + ".fc1", dim, hidden, true, rng);
        this.dwconv = gridH > 0 ? new DwConv(name + ".dwconv", hidden, gridH, gridW, 3, 3, rng) : null;
        this.fc2 = new Linear(name + ".fc2", hidden, dim, true, rng);
    }

    /** A Linear, or what {@link #replaceLinears} made of it. */
    public Layer fc1() {
        return fc1;
    }

    public Layer fc2() {
        return fc2;
    }

    /** Replaces fc1 and fc2 by convert(fc) (reparameterisation: MoE layers); both must still be dense Linears. */
    public void replaceLinears(java.util.function.Function<Linear, Layer> convert) {
        fc1 = convert.apply(Linear.require(fc1));
        fc2 = convert.apply(Linear.require(fc2));
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        if (!training && dwconv == null && FusedMlp.applies(fc1, fc2, x)) {
            return FusedMlp.forward(null, (RowLinear) fc1, (RowLinear) fc2, x, false);
        }
        Tensor h = fc1.forward(x, training);
        if (dwconv != null) h = dwconv.forward(h, training);
        return fc2.forward(act.forwardConsuming(h, training), training);
    }

    /**
     * x + mlp(norm(x)) at inference, fused one row block per thread, or null where the fused path does
     * not apply (the caller then runs the layers one by one).
     */
    Tensor forwardNormResidual(LayerNorm norm, Tensor x) {
        if (!FusedMlp.applies(fc1, fc2, x) || norm.dim() != x.dim(-1) || ((RowLinear) fc2).out() != x.dim(-1)) {
            return null;
        }
        if (dwconv != null) return FusedMlp.forwardAroundConv(norm, (RowLinear) fc1, dwconv, (RowLinear) fc2, x);
        return FusedMlp.forward(norm, (RowLinear) fc1, (RowLinear) fc2, x, true);
    }

    @Override
    public Tensor backward(Tensor dy) {
        Tensor d = act.backward(fc2.backward(dy));
        if (dwconv != null) d = dwconv.backward(d);
        return fc1.backward(d);
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(fc1.parameters());
        if (dwconv != null) p.addAll(dwconv.parameters());
        p.addAll(fc2.parameters());
        return p;
    }
}
