package dev.shiftaddvit.shiftadd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.nn.GradCheck;
import dev.shiftaddvit.nn.Init;
import dev.shiftaddvit.nn.Layer;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.shiftadd.MoeLinear.GateMode;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** Mult/Shift MoE forward: conversion, routing, grouping and dispatch, gate modes, statistics, names. */
class MoeLinearTest {
    static final float[] ALPHA = {0.6f, 0.4f};

    /** Records what the MoE hands an expert. */
    static final class Recorder implements Layer {
        final Layer inner;
        final List<Tensor> inputs = new ArrayList<>();
        final List<Tensor> grads = new ArrayList<>();

        Recorder(Layer inner) {
            this.inner = inner;
        }

        @Override
        public Tensor forward(Tensor x, boolean training) {
            inputs.add(x.copy());
            return inner.forward(x, training);
        }

        @Override
        public Tensor backward(Tensor dy) {
            grads.add(dy.copy());
            return inner.backward(dy);
        }

        @Override
        public List<Parameter> parameters() {
            return inner.parameters();
        }
    }

    static Linear dense(SplittableRandom rng, int in, int out, boolean bias) {
        Linear d = new Linear("dense", in, out, bias, rng);
        // Larger than the 0.02 init so the shift codes span several exponents.
        float[] w = d.weight().value().data();
        for (int i = 0; i < w.length; i++) w[i] = (float) (Init.gaussian(rng) * 0.4);
        if (bias) {
            float[] b = d.bias().value().data();
            for (int i = 0; i < b.length; i++) b[i] = (float) (Init.gaussian(rng) * 0.3);
        }
        return d;
    }

    /** Router logits of row t computed in double from the gate's parameters. */
    static double[] logits(MoeLinear moe, float[] x, int t) {
        int in = moe.in();
        float[] w = moe.gate().weight().value().data();
        float[] b = moe.gate().bias().value().data();
        double[] z = new double[2];
        for (int j = 0; j < 2; j++) {
            double s = b[j];
            for (int i = 0; i < in; i++) s += (double) w[j * in + i] * x[t * in + i];
            z[j] = s;
        }
        return z;
    }

    static double[] softmax(double[] z) {
        double m = Math.max(z[0], z[1]);
        double e0 = Math.exp(z[0] - m);
        double e1 = Math.exp(z[1] - m);
        return new double[]{e0 / (e0 + e1), e1 / (e0 + e1)};
    }

    static float[] row(float[] a, int r, int cols) {
        return Arrays.copyOfRange(a, r * cols, (r + 1) * cols);
    }

    @Test
    void routingEverythingToMultReproducesTheDenseLayerExactly() {
        SplittableRandom rng = new SplittableRandom(11);
        Linear dense = dense(rng, 24, 10, true);
        MoeLinear moe = MoeLinear.fromDense("blocks.0.mlp.fc1", dense, ALPHA, rng);
        assertEquals(GateMode.STRAIGHT_THROUGH, moe.mode());
        Tensor x = GradCheck.randn(rng, 1f, 2, 7, 24);
        float[] expected = dense.forward(x, false).data();

        moe.forceExpert(MoeLinear.MULT);
        Tensor y = moe.forward(x, false);
        assertArrayEquals(new int[]{2, 7, 10}, y.shape());
        assertArrayEquals(expected, y.data());
        assertArrayEquals(expected, moe.forward(x, true).data());

        // The router itself sending every token to Mult (a large bias margin) gives the same.
        moe.forceExpert(-1);
        moe.gate().bias().value().data()[0] = 20f;
        moe.gate().bias().value().data()[1] = -20f;
        assertArrayEquals(expected, moe.forward(x, false).data());
        assertArrayEquals(new int[]{14, 0}, moe.lastTokensPerExpert());
    }

    @Test
    void tokensRoutedToAnExpertGiveThatExpertsOutput() {
        SplittableRandom rng = new SplittableRandom(12);
        Linear dense = dense(rng, 20, 9, true);
        MoeLinear moe = MoeLinear.fromDense("fc", dense, ALPHA, rng);
        Tensor x = GradCheck.randn(rng, 1f, 3, 11, 20);
        float[] yDense = dense.forward(x, false).data();
        float[] yShift = ShiftLinear.fromDense("ref", dense).forward(x, false).data();
        float[] y = moe.forward(x, false).data();
        int[] routes = moe.lastRoutes();
        int[] counts = new int[2];
        for (int t = 0; t < routes.length; t++) {
            double[] z = logits(moe, x.data(), t);
            assertEquals(z[1] > z[0] ? MoeLinear.SHIFT : MoeLinear.MULT, routes[t], "argmax of row " + t);
            counts[routes[t]]++;
            float[] want = routes[t] == MoeLinear.SHIFT ? row(yShift, t, 9) : row(yDense, t, 9);
            // An expert sees only its own rows, and GEMM picks its summation order by row count
            // (few rows: dot products), so the last bit may differ from the all-rows run.
            assertArrayEquals(want, row(y, t, 9), 1e-6f, "row " + t + " (expert " + routes[t] + ")");
        }
        assertTrue(counts[0] > 0 && counts[1] > 0, "a fresh router splits the tokens: " + Arrays.toString(counts));
        assertArrayEquals(counts, moe.lastTokensPerExpert());

        moe.forceExpert(MoeLinear.SHIFT);
        assertArrayEquals(yShift, moe.forward(x, false).data());
    }

    @Test
    void probabilityModeScalesTheChosenOutputByItsProbability() {
        SplittableRandom rng = new SplittableRandom(13);
        Linear dense = dense(rng, 8, 5, true);
        MoeLinear moe = MoeLinear.fromDense("fc", dense, ALPHA, GateMode.PROBABILITY, rng);
        float[] gw = moe.gate().weight().value().data();
        for (int i = 0; i < gw.length; i++) gw[i] = (float) (Init.gaussian(rng) * 0.5);
        Tensor x = GradCheck.randn(rng, 1f, 16, 8);
        float[] yDense = dense.forward(x, false).data();
        float[] yShift = ShiftLinear.fromDense("ref", dense).forward(x, false).data();
        float[] y = moe.forward(x, false).data();
        int[] routes = moe.lastRoutes();
        for (int t = 0; t < 16; t++) {
            double[] p = softmax(logits(moe, x.data(), t));
            int e = routes[t];
            assertTrue(p[e] >= 0.5, "top-1 has the larger probability");
            float[] ye = e == MoeLinear.SHIFT ? yShift : yDense;
            for (int o = 0; o < 5; o++) {
                assertEquals(p[e] * ye[t * 5 + o], y[t * 5 + o], 1e-6 * (1 + Math.abs(ye[t * 5 + o])), "row " + t);
            }
        }
    }

    @Test
    void groupingIsStableAndEachExpertRunsOncePerForwardOnExactlyItsRows() {
        SplittableRandom rng = new SplittableRandom(14);
        int in = 6, out = 4;
        MoeLinear moe = MoeLinear.fromDense("fc", dense(rng, in, out, true), ALPHA, rng);
        Recorder[] rec = new Recorder[2];
        for (int e = 0; e < 2; e++) {
            int ee = e;
            moe.wrapExpert(e, l -> rec[ee] = new Recorder(l));
        }
        int[] routes = {1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0};
        int t = routes.length;
        moe.overrideRoutes(routes);
        Tensor x = GradCheck.randn(rng, 1f, t, in);
        Tensor dy = GradCheck.randn(rng, 1f, t, out);
        moe.forward(x, true);
        moe.backward(dy);
        for (int e = 0; e < 2; e++) {
            assertEquals(1, rec[e].inputs.size(), "expert " + e + " forwards");
            assertEquals(1, rec[e].grads.size(), "expert " + e + " backwards");
            List<Integer> rows = new ArrayList<>();
            for (int i = 0; i < t; i++) if (routes[i] == e) rows.add(i);
            Tensor xe = rec[e].inputs.get(0);
            Tensor ge = rec[e].grads.get(0);
            assertArrayEquals(new int[]{rows.size(), in}, xe.shape());
            assertArrayEquals(new int[]{rows.size(), out}, ge.shape());
            for (int k = 0; k < rows.size(); k++) {
                assertArrayEquals(row(x.data(), rows.get(k), in), row(xe.data(), k, in), "expert " + e + " row " + k);
                // Straight-through: the expert receives dy of its tokens unscaled.
                assertArrayEquals(row(dy.data(), rows.get(k), out), row(ge.data(), k, out), "expert " + e + " grad " + k);
            }
        }
        // An expert without tokens is not called.
        moe.overrideRoutes(null);
        moe.forceExpert(MoeLinear.MULT);
        moe.forward(x, false);
        assertEquals(2, rec[0].inputs.size());
        assertEquals(t, rec[0].inputs.get(1).dim(0));
        assertEquals(1, rec[1].inputs.size());
    }

    @Test
    void routingStatisticsAndBalanceLossOfTrainingForwards() {
        SplittableRandom rng = new SplittableRandom(15);
        int in = 5, out = 3;
        MoeLinear moe = MoeLinear.fromDense("fc", dense(rng, in, out, false), ALPHA, rng);
        float[] gw = moe.gate().weight().value().data();
        for (int i = 0; i < gw.length; i++) gw[i] = (float) (Init.gaussian(rng) * 0.7);
        Tensor x = GradCheck.randn(rng, 1f, 2, 9, in);
        assertEquals(0.0, moe.balanceLoss());
        moe.forward(x, true);
        int[] last = moe.lastTokensPerExpert();
        assertEquals(18, last[0] + last[1]);
        double[] imp = new double[2];
        for (int t = 0; t < 18; t++) {
            double[] p = softmax(logits(moe, x.data(), t));
            imp[0] += p[0];
            imp[1] += p[1];
        }
        assertArrayEquals(imp, moe.lastImportance(), 1e-5);
        double[] u = {0.6f * imp[0], 0.4f * imp[1]};
        double[] l = {0.6f * last[0], 0.4f * last[1]};
        double cvImp = (u[0] - u[1]) * (u[0] - u[1]) / 2 / (Math.pow((u[0] + u[1]) / 2, 2) + 1e-10);
        double cvLoad = (l[0] - l[1]) * (l[0] - l[1]) / 2 / (Math.pow((l[0] + l[1]) / 2, 2) + 1e-10);
        assertEquals(0.01 * (cvImp + cvLoad), moe.balanceLoss(), 1e-8);
        double training = moe.balanceLoss();

        // Evaluation forwards update the routing statistics but not the balance loss.
        Tensor x2 = GradCheck.randn(rng, 1f, 4, in);
        moe.forward(x2, false);
        assertEquals(training, moe.balanceLoss());
        int[] last2 = moe.lastTokensPerExpert();
        assertEquals(4, last2[0] + last2[1]);
        assertArrayEquals(new long[]{last[0] + last2[0], last[1] + last2[1]}, moe.tokensPerExpert());
        assertEquals(4, moe.lastRoutes().length);
        moe.resetRoutingStats();
        assertArrayEquals(new long[]{0, 0}, moe.tokensPerExpert());

        moe.setBalanceCoefficient(0f);
        moe.forward(x, true);
        assertEquals(0.0, moe.balanceLoss());
    }

    @Test
    void parametersCarryUpstreamNames() {
        SplittableRandom rng = new SplittableRandom(16);
        MoeLinear moe = MoeLinear.fromDense("block1.0.attn.proj", dense(rng, 4, 3, true), ALPHA, rng);
        assertEquals(List.of("block1.0.attn.proj.gate.gate.weight", "block1.0.attn.proj.gate.gate.bias",
                        "block1.0.attn.proj.experts.0.weight", "block1.0.attn.proj.experts.0.bias",
                        "block1.0.attn.proj.experts.1.shift", "block1.0.attn.proj.experts.1.sign",
                        "block1.0.attn.proj.experts.1.bias"),
                moe.parameters().stream().map(Parameter::name).toList());
        assertArrayEquals(new int[]{2, 4}, moe.gate().weight().value().shape());
        assertArrayEquals(new float[]{0f, 0f}, moe.gate().bias().value().data());
        for (float w : moe.gate().weight().value().data()) assertTrue(Math.abs(w) <= 0.04f, "trunc-normal 0.02");
        MoeLinear fresh = new MoeLinear("m", 4, 3, false, ALPHA, GateMode.PROBABILITY, rng);
        assertEquals(List.of("m.gate.gate.weight", "m.gate.gate.bias", "m.experts.0.weight", "m.experts.1.shift",
                "m.experts.1.sign"), fresh.parameters().stream().map(Parameter::name).toList());
    }

    @Test
    void rejectsBadInputAndSettings() {
        SplittableRandom rng = new SplittableRandom(17);
        MoeLinear moe = MoeLinear.fromDense("fc", dense(rng, 4, 3, true), ALPHA, rng);
        assertThrows(ShapeException.class, () -> moe.forward(Tensor.zeros(2, 5), false));
        assertThrows(IllegalStateException.class, () -> moe.backward(Tensor.zeros(2, 3)));
        moe.forward(Tensor.zeros(2, 4), true);
        assertThrows(ShapeException.class, () -> moe.backward(Tensor.zeros(3, 3)));
        assertThrows(IllegalArgumentException.class, () -> moe.setAlpha(new float[]{1f}));
        assertThrows(IllegalArgumentException.class, () -> moe.setAlpha(new float[]{1f, 0f}));
        assertThrows(IllegalArgumentException.class, () -> moe.overrideRoutes(new int[]{0, 2}));
        assertThrows(IllegalArgumentException.class, () -> moe.forceExpert(2));
        assertThrows(IllegalArgumentException.class, () -> moe.setBalanceCoefficient(-1f));
        moe.overrideRoutes(new int[]{0, 1, 1});
        assertThrows(ShapeException.class, () -> moe.forward(Tensor.zeros(2, 4), false));
    }
}
