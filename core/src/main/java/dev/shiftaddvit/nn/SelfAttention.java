package dev.shiftaddvit.nn;

import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** ViT multi-head self-attention: fused qkv projection (rows Q, K, V), softmax attention, output projection. */
public final class SelfAttention implements Layer {
    private final int dim;
    private final Linear qkv;
    private final Linear proj;
    private final ScaledDotProductAttention sdpa;
    private Tensor qkvOut;

    public SelfAttention(String name, int dim, int heads, boolean qkvBias, SplittableRandom rng) {
        if (dim % heads != 0) throw new IllegalArgumentException(name + ": dim " + dim + " not divisible by heads " + heads);
        this.dim = dim;
        this.qkv = new Linear(name + ".qkv", dim, 3 * dim, qkvBias, rng);
        this.proj = new Linear(name + ".proj", dim, dim, true, rng);
        this.sdpa = new ScaledDotProductAttention(name + ".softmax", heads, dim / heads);
    }

    public Linear qkv() {
        return qkv;
    }

    public Linear proj() {
        return proj;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        int b = x.dim(0);
        int n = x.dim(1);
        Tensor t = qkv.forward(x, training);
        float[] d = t.data();
        float[] o = sdpa.forward(b, n, n, d, 0, 3 * dim, d, dim, 3 * dim, d, 2 * dim, 3 * dim, training);
        qkvOut = training ? t : null;
        return proj.forward(Tensor.of(o, b, n, dim), training);
    }

    @Override
    public Tensor backward(Tensor dy) {
        Tensor t = qkvOut;
        int b = t.dim(0);
        int n = t.dim(1);
        Tensor dout = proj.backward(dy);
        float[] d = t.data();
        Tensor dqkv = Tensor.zeros(t.shape());
        float[] g = dqkv.data();
        sdpa.backward(b, n, n, dout.data(), d, 0, 3 * dim, d, dim, 3 * dim, d, 2 * dim, 3 * dim, g, g, g);
        qkvOut = null;
        return qkv.backward(dqkv);
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(qkv.parameters());
        p.addAll(proj.parameters());
        return p;
    }
}
