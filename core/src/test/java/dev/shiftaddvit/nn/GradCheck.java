package dev.shiftaddvit.nn;

import dev.shiftaddvit.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finite-difference gradient check for any Layer: loss = Σ r ⊙ forward(x) for a fixed random r,
 * analytic gradients from backward(r) compared with central differences (accumulated in double)
 * on a sample of input and parameter coordinates.
 */
public final class GradCheck {
    private GradCheck() {
    }

    public static Tensor randn(SplittableRandom rng, float scale, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) t.data()[i] = (float) (Init.gaussian(rng) * scale);
        return t;
    }

    /** Checks input gradients (when checkInput) and every parameter's gradient. */
    public static void check(Layer layer, Tensor x, boolean checkInput, int samplesPerTensor, double tol, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor y0 = layer.forward(x, true);
        Tensor r = randn(rng, 1f, y0.shape());
        List<Parameter> params = layer.parameters();
        for (Parameter p : params) p.zeroGrad();
        Tensor dx = layer.backward(r);
        if (checkInput) {
            checkTensor("input", x.data(), dx.data(), layer, x, r, samplesPerTensor, tol, rng);
        }
        for (Parameter p : params) {
            checkTensor(p.name(), p.value().data(), p.grad().data().clone(), layer, x, r, samplesPerTensor, tol, rng);
        }
    }

    private static void checkTensor(String what, float[] values, float[] analytic, Layer layer, Tensor x, Tensor r,
                                    int samples, double tol, SplittableRandom rng) {
        double maxAbs = 0;
        for (float g : analytic) maxAbs = Math.max(maxAbs, Math.abs(g));
        int n = Math.min(samples, values.length);
        for (int s = 0; s < n; s++) {
            int i = values.length <= samples ? s : rng.nextInt(values.length);
            float orig = values[i];
            float eps = Math.max(1e-2f, Math.abs(orig) * 1e-2f);
            values[i] = orig + eps;
            double lp = loss(layer, x, r);
            values[i] = orig - eps;
            double lm = loss(layer, x, r);
            values[i] = orig;
            double numeric = (lp - lm) / (2.0 * eps);
            double err = Math.abs(numeric - analytic[i]);
            double scale = Math.max(maxAbs, 1e-3);
            assertTrue(err <= tol * scale + 1e-4,
                    what + "[" + i + "]: analytic " + analytic[i] + " vs numeric " + numeric + " (max |g| " + maxAbs + ")");
        }
    }

    private static double loss(Layer layer, Tensor x, Tensor r) {
        Tensor y = layer.forward(x, false);
        double s = 0;
        for (int i = 0; i < y.size(); i++) s += (double) y.data()[i] * r.data()[i];
        return s;
    }
}
