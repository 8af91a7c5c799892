package dev.shiftaddvit.nn;

import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/** Pre-norm transformer block: x + attn(norm1(x)), then + mlp(norm2(·)). */
public final class Block implements Layer {
    private final LayerNorm norm1;
    private Layer attn;
    private final LayerNorm norm2;
    private final Layer mlp;
    private BlockProbe probe;

    public Block(LayerNorm norm1, Layer attn, LayerNorm norm2, Layer mlp) {
        this.norm1 = norm1;
        this.attn = attn;
        this.norm2 = norm2;
        this.mlp = mlp;
    }

    public Layer attn() {
        return attn;
    }

    /** Swaps the attention (reparameterisation); the new layer must map [B, N, C] to [B, N, C] as the old one. */
    public void replaceAttn(Layer attention) {
        this.attn = java.util.Objects.requireNonNull(attention);
    }

    public Layer mlp() {
        return mlp;
    }

    /** Attaches a probe (null detaches it). */
    public void setProbe(BlockProbe probe) {
        this.probe = probe;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Tensor y = forwardBlock(x, training);
        if (probe != null) probe.forwarded(y, training);
        return y;
    }

    private Tensor forwardBlock(Tensor x, boolean training) {
        Tensor a = !training && attn instanceof NormResidualAttention s ? s.forwardNormResidual(norm1, x) : null;
        if (a == null) {
            a = attn.forward(norm1.forward(x, training), training);
            Ops.addInPlace(a.data(), x.data(), x.size());
        }
        if (!training && mlp instanceof Mlp p) {
            Tensor fused = p.forwardNormResidual(norm2, a);
            if (fused != null) return fused;
        }
        Tensor m = mlp.forward(norm2.forward(a, training), training);
        Ops.addInPlace(m.data(), a.data(), a.size());
        return m;
    }

    @Override
    public Tensor backward(Tensor dy) {
        Tensor extra = probe == null ? null : probe.extraGradient();
        if (extra != null) {
            dy = dy.copy();
            Ops.addInPlace(dy.data(), extra.data(), dy.size());
        }
        Tensor dh = norm2.backward(mlp.backward(dy));
        Ops.addInPlace(dh.data(), dy.data(), dy.size());
        Tensor dx = norm1.backward(attn.backward(dh));
        Ops.addInPlace(dx.data(), dh.data(), dh.size());
        return dx;
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(norm1.parameters());
        p.addAll(attn.parameters());
        p.addAll(norm2.parameters());
        p.addAll(mlp.parameters());
        return p;
    }
}
