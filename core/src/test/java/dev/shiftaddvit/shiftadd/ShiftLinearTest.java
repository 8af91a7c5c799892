package dev.shiftaddvit.shiftadd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.nn.GradCheck;
import dev.shiftaddvit.nn.Layer;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** DeepShift-PS: forward rules, conversion from dense, and straight-through gradients. */
class ShiftLinearTest {
    private static final double TOL = 2e-2;

    /** A view of a layer that exposes only some parameters to {@link GradCheck}. */
    static Layer only(Layer inner, Parameter... exposed) {
        return new Layer() {
            @Override
            public Tensor forward(Tensor x, boolean training) {
                return inner.forward(x, training);
            }

            @Override
            public Tensor backward(Tensor dy) {
                return inner.backward(dy);
            }

            @Override
            public List<Parameter> parameters() {
                return List.of(exposed);
            }
        };
    }

    static double q(double x) {
        return Math.min(Math.max(Math.floor(x * 65536.0) / 65536.0, -32768.0), 32767.0);
    }

    /** W computed independently of the layer: signum(rint(S))·2^rint(clamp(P, −14, 0)). */
    static double[] weight(float[] p, float[] s) {
        double[] w = new double[p.length];
        for (int i = 0; i < w.length; i++) {
            double pc = Math.rint(Math.min(0.0, Math.max(-14.0, p[i])));
            w[i] = Math.signum(Math.rint(s[i])) * Math.pow(2.0, pc);
        }
        return w;
    }

    @Test
    void forwardIsQuantizedInputTimesPowerOfTwoWeightsPlusQuantizedBias() {
        SplittableRandom rng = new SplittableRandom(1);
        int in = 19, out = 11, rows = 6;
        ShiftLinear layer = new ShiftLinear("fc", in, out, true, rng);
        float[] p = layer.shift().value().data();
        p[0] = 3.2f;
        p[1] = -20f;
        p[2] = -2.5f;
        float[] pBefore = p.clone();
        double[] w = weight(pBefore, layer.sign().value().data());
        Tensor x = GradCheck.randn(rng, 1.5f, 2, 3, in);
        Tensor y = layer.forward(x, false);
        assertEquals(List.of(2, 3, out), List.of(y.dim(0), y.dim(1), y.dim(2)));
        float[] b = layer.bias().value().data();
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double e = q(b[o]);
                for (int i = 0; i < in; i++) e += q(x.data()[r * in + i]) * w[o * in + i];
                assertEquals(e, y.data()[r * out + o], 1e-5, "row " + r + " out " + o);
            }
        }
        // P is clamped in place (values, not only the forward's view).
        assertEquals(0f, p[0]);
        assertEquals(-14f, p[1]);
        assertEquals(-2.5f, p[2]);
        for (float v : p) assertTrue(v >= -14f && v <= 0f);
    }

    @Test
    void roundingFollowsTorchRoundAndTernarySign() {
        ShiftLinear layer = new ShiftLinear("fc", 8, 1, false);
        float[] p = layer.shift().value().data();
        float[] s = layer.sign().value().data();
        float[] ps = {-0.5f, -1.5f, -2.5f, -14.7f, 0.3f, -3.49f, -3.51f, -7f};
        float[] ss = {0.5f, -0.5f, 0.51f, -0.51f, 2.5f, -3f, 0.49f, 1f};
        System.arraycopy(ps, 0, p, 0, 8);
        System.arraycopy(ss, 0, s, 0, 8);
        float[] w = layer.effectiveWeight();
        float[] expected = {0f, 0f, 0.25f, -0x1p-14f, 1f, -0.125f, 0f, 0x1p-7f};
        for (int i = 0; i < 8; i++) assertEquals(expected[i], w[i], "weight " + i);
    }

    @Test
    void convertsDenseWeightsByLogDomainRounding() {
        float sqrt2 = (float) Math.sqrt(2);
        float[] dense = {0f, 3f, -0.3f, 0.125f * 1.414f, 0.125f * 1.4143f, -1e-9f, 1f, -0.70f, 0.71f, -0f};
        float[] bias = {0.25f};
        ShiftLinear layer = ShiftLinear.fromDense("fc", dense, bias, 1, dense.length);
        float[] s = layer.sign().value().data();
        float[] p = layer.shift().value().data();
        float[] es = {0, 1, -1, 1, 1, -1, 1, -1, 1, 0};
        float[] ep = {-14, 0, -2, -3, -2, -14, 0, -1, 0, -14};
        for (int i = 0; i < dense.length; i++) {
            assertEquals(es[i], s[i], "sign of " + dense[i]);
            assertEquals(ep[i], p[i], "shift of " + dense[i]);
        }
        assertEquals(0.25f, layer.bias().value().data()[0]);
        assertTrue(sqrt2 > 1.414f);

        Linear lin = new Linear("dense", 5, 4, true, new SplittableRandom(2));
        ShiftLinear conv = ShiftLinear.fromDense("fc", lin);
        float[] w = conv.effectiveWeight();
        float[] d = lin.weight().value().data();
        for (int i = 0; i < d.length; i++) {
            // log-domain rounding keeps each weight within a factor √2 (clamped at 2^-14).
            double ratio = Math.abs(w[i]) / Math.max(Math.abs(d[i]), 0x1p-14);
            assertTrue(Math.signum(w[i]) == Math.signum(d[i]) && ratio <= Math.sqrt(2) + 1e-6
                    && ratio >= 1 / Math.sqrt(2) - 1e-6, "weight " + d[i] + " -> " + w[i]);
        }
    }

    @Test
    void decayFlagsAndNames() {
        ShiftLinear layer = new ShiftLinear("blk.fc1", 3, 2, true);
        List<Parameter> ps = layer.parameters();
        assertEquals(List.of("blk.fc1.shift", "blk.fc1.sign", "blk.fc1.bias"), ps.stream().map(Parameter::name).toList());
        assertFalse(layer.shift().decay());
        assertTrue(layer.sign().decay());
        assertFalse(layer.bias().decay());
        assertNull(new ShiftLinear("x", 3, 2, false).bias());
    }

    @Test
    void inputAndBiasGradientsMatchFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(3);
        ShiftLinear layer = new ShiftLinear("fc", 13, 9, true, rng);
        GradCheck.check(only(layer, layer.bias()), GradCheck.randn(rng, 1f, 2, 5, 13), true, 40, TOL, 1);
        ShiftLinear noBias = ShiftLinear.fromDense("fc", new Linear("d", 7, 5, false, rng));
        GradCheck.check(only(noBias), GradCheck.randn(rng, 1f, 3, 7), true, 21, TOL, 2);
    }

    @Test
    void shiftAndSignGradientsFollowTheStraightThroughRules() {
        SplittableRandom rng = new SplittableRandom(4);
        int in = 10, out = 7, rows = 12;
        ShiftLinear layer = new ShiftLinear("fc", in, out, true, rng);
        layer.shift().value().data()[5] = -16f; // clamped before the gradient is taken
        Tensor x = GradCheck.randn(rng, 1f, rows, in);
        Tensor dy = GradCheck.randn(rng, 1f, rows, out);
        for (Parameter p : layer.parameters()) p.zeroGrad();
        layer.forward(x, true);
        layer.backward(dy);
        double[] w = weight(layer.shift().value().data(), layer.sign().value().data());
        float[] dS = layer.sign().grad().data();
        float[] dP = layer.shift().grad().data();
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double g = 0;
                for (int r = 0; r < rows; r++) g += dy.data()[r * out + o] * q(x.data()[r * in + i]);
                assertEquals(g, dS[o * in + i], 1e-4, "dS[" + o + "," + i + "]");
                assertEquals(g * w[o * in + i] * Math.log(2), dP[o * in + i], 1e-4, "dP[" + o + "," + i + "]");
            }
        }
        // Gradients accumulate over calls.
        float first = dS[3];
        layer.forward(x, true);
        layer.backward(dy);
        assertEquals(2 * first, layer.sign().grad().data()[3], 1e-5f);
    }
}
