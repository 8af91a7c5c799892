package dev.shiftaddvit.shiftadd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.nn.GradCheck;
import dev.shiftaddvit.nn.Init;
import dev.shiftaddvit.nn.Layer;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.shiftadd.MoeLinear.GateMode;
import dev.shiftaddvit.shiftadd.MoeLinear.LoadGradient;
import dev.shiftaddvit.tensor.Tensor;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * MoE gradients: finite differences where the forward is the objective (frozen routing), an independent
 * double-precision model of the router's objective (gate term and balance term) for the straight-through
 * gate, per-expert gradients through each expert's own backward, and the balance loss's direction.
 */
class MoeLinearGradientTest {
    private static final float[] ALPHA = MoeLinearTest.ALPHA;

    private static MoeLinear moe(long seed, int in, int out, GateMode mode, double gateStd) {
        SplittableRandom rng = new SplittableRandom(seed);
        MoeLinear moe = MoeLinear.fromDense("fc", MoeLinearTest.dense(rng, in, out, true), ALPHA, mode, rng);
        float[] gw = moe.gate().weight().value().data();
        for (int i = 0; i < gw.length; i++) gw[i] = (float) (Init.gaussian(rng) * gateStd);
        moe.gate().bias().value().data()[0] = 0.1f;
        moe.gate().bias().value().data()[1] = -0.05f;
        return moe;
    }

    @Test
    void probabilityModeGradientsMatchFiniteDifferencesWithRoutingFrozen() {
        MoeLinear moe = moe(21, 9, 6, GateMode.PROBABILITY, 0.5);
        moe.setBalanceCoefficient(0f); // GradCheck's objective is Σ r⊙y only
        moe.overrideRoutes(new int[]{0, 1, 1, 0, 1, 0, 0, 1, 1, 0});
        Tensor x = GradCheck.randn(new SplittableRandom(1), 1f, 2, 5, 9);
        Layer view = ShiftLinearTest.only(moe, moe.gate().weight(), moe.gate().bias(), moe.mult().weight(),
                moe.mult().bias(), moe.shift().bias());
        GradCheck.check(view, x, true, 40, 2e-2, 3);
    }

    @Test
    void straightThroughExpertGradientsMatchFiniteDifferences() {
        // The forward value is the experts' output, so expert parameters have their ordinary gradients;
        // routing depends only on x and the router, which stay fixed here.
        MoeLinear moe = moe(22, 7, 5, GateMode.STRAIGHT_THROUGH, 0.5);
        Tensor x = GradCheck.randn(new SplittableRandom(2), 1f, 3, 4, 7);
        moe.forward(x, false);
        int[] counts = moe.lastTokensPerExpert();
        assertTrue(counts[0] > 0 && counts[1] > 0, Arrays.toString(counts));
        Layer view = ShiftLinearTest.only(moe, moe.mult().weight(), moe.mult().bias(), moe.shift().bias());
        GradCheck.check(view, x, false, 35, 2e-2, 4);
    }

    @Test
    void expertGradientsComeFromEachExpertsBackwardOnItsGatheredRows() {
        int in = 8, out = 5;
        SplittableRandom rng = new SplittableRandom(23);
        Linear dense = MoeLinearTest.dense(rng, in, out, true);
        MoeLinear moe = MoeLinear.fromDense("fc", dense, ALPHA, GateMode.PROBABILITY, rng);
        int[] routes = {1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 1};
        int t = routes.length;
        moe.overrideRoutes(routes);
        Tensor x = GradCheck.randn(rng, 1f, t, in);
        Tensor dy = GradCheck.randn(rng, 1f, t, out);
        for (Parameter p : moe.parameters()) p.zeroGrad();
        moe.forward(x, true);
        float[] probs = new float[t * 2];
        for (int i = 0; i < t; i++) {
            double[] p = MoeLinearTest.softmax(MoeLinearTest.logits(moe, x.data(), i));
            probs[2 * i] = (float) p[0];
            probs[2 * i + 1] = (float) p[1];
        }
        moe.backward(dy);
        Linear multTwin = new Linear("twin", in, out, true, new SplittableRandom(0));
        System.arraycopy(dense.weight().value().data(), 0, multTwin.weight().value().data(), 0, in * out);
        System.arraycopy(dense.bias().value().data(), 0, multTwin.bias().value().data(), 0, out);
        ShiftLinear shiftTwin = ShiftLinear.fromDense("twin", dense);
        Layer[] twins = {multTwin, shiftTwin};
        for (int e = 0; e < 2; e++) {
            int n = 0;
            for (int r : routes) if (r == e) n++;
            float[] xe = new float[n * in];
            float[] ge = new float[n * out];
            int k = 0;
            for (int i = 0; i < t; i++) {
                if (routes[i] != e) continue;
                System.arraycopy(x.data(), i * in, xe, k * in, in);
                // PROBABILITY: the expert sees p_e·dy (p from the layer's float softmax, within 1 ulp of ours).
                for (int o = 0; o < out; o++) ge[k * out + o] = probs[2 * i + e] * dy.data()[i * out + o];
                k++;
            }
            twins[e].forward(Tensor.of(xe, n, in), true);
            twins[e].backward(Tensor.of(ge, n, out));
        }
        assertArrayEquals(multTwin.weight().grad().data(), moe.mult().weight().grad().data(), 1e-5f);
        assertArrayEquals(multTwin.bias().grad().data(), moe.mult().bias().grad().data(), 1e-5f);
        assertArrayEquals(shiftTwin.sign().grad().data(), moe.shift().sign().grad().data(), 1e-5f);
        assertArrayEquals(shiftTwin.shift().grad().data(), moe.shift().shift().grad().data(), 1e-5f);
        assertArrayEquals(shiftTwin.bias().grad().data(), moe.shift().bias().grad().data(), 1e-5f);
    }

    /**
     * An independent model, in double, of the objective whose gradient the layer's backward returns for the
     * router parameters and the input: with the routes e(t) fixed at the reference point,
     * <pre>
     *   J = Σ_t ⟨r_t, y_e(x_t)⟩·G_t + coef·(CV²(α⊙Imp) + CV²(α⊙Load₀)) [+ coef·Σ_e gLoad_e·Imp_e]
     * </pre>
     * with G_t = p_e (PROBABILITY) or p_e/p₀ (STRAIGHT_THROUGH: p₀ the reference value, held constant), Load₀
     * the reference counts (constant), and for the straight-through load gradient gLoad = ∂CV²(α⊙v)/∂v at
     * v = Load₀ (constant). Expert outputs use the experts' weights with the quantizers as identity (their
     * straight-through backward), so that x may be perturbed.
     */
    private static final class Relaxed {
        final int in;
        final int out;
        final int t;
        final int[] routes;
        final double[] p0;
        final double[] r;
        final double[][] w = new double[2][];
        final double[][] b = new double[2][];
        final GateMode mode;
        final double coef;
        final double[] alpha = {ALPHA[0], ALPHA[1]};
        final double[] load = new double[2];
        final double[] gLoad;

        Relaxed(MoeLinear moe, Tensor x, Tensor r, boolean stLoad) {
            in = moe.in();
            out = moe.out();
            t = x.size() / in;
            routes = moe.lastRoutes();
            mode = moe.mode();
            coef = moe.balanceCoefficient();
            this.r = toDouble(r.data());
            w[0] = toDouble(moe.mult().weight().value().data());
            b[0] = toDouble(moe.mult().bias().value().data());
            w[1] = ShiftLinearTest.weight(moe.shift().shift().value().data(), moe.shift().sign().value().data());
            b[1] = new double[out];
            for (int o = 0; o < out; o++) b[1][o] = ShiftLinearTest.q(moe.shift().bias().value().data()[o]);
            for (int e : routes) load[e]++;
            p0 = new double[t];
            double[] x64 = toDouble(x.data());
            double[] wg = toDouble(moe.gate().weight().value().data());
            double[] bg = toDouble(moe.gate().bias().value().data());
            for (int i = 0; i < t; i++) p0[i] = probs(wg, bg, x64, i)[routes[i]];
            gLoad = stLoad ? cv2Grad(alpha[0] * load[0], alpha[1] * load[1]) : new double[2];
            gLoad[0] *= alpha[0];
            gLoad[1] *= alpha[1];
        }

        double[] probs(double[] wg, double[] bg, double[] x, int i) {
            double z0 = bg[0];
            double z1 = bg[1];
            for (int k = 0; k < in; k++) {
                z0 += wg[k] * x[i * in + k];
                z1 += wg[in + k] * x[i * in + k];
            }
            double m = Math.max(z0, z1);
            double e0 = Math.exp(z0 - m);
            double e1 = Math.exp(z1 - m);
            return new double[]{e0 / (e0 + e1), e1 / (e0 + e1)};
        }

        double value(double[] wg, double[] bg, double[] x) {
            double task = 0;
            double[] imp = new double[2];
            for (int i = 0; i < t; i++) {
                double[] p = probs(wg, bg, x, i);
                imp[0] += p[0];
                imp[1] += p[1];
                int e = routes[i];
                double dot = 0;
                for (int o = 0; o < out; o++) {
                    double y = b[e][o];
                    for (int k = 0; k < in; k++) y += w[e][o * in + k] * x[i * in + k];
                    dot += r[i * out + o] * y;
                }
                task += dot * (mode == GateMode.PROBABILITY ? p[e] : p[e] / p0[i]);
            }
            double bal = cv2(alpha[0] * imp[0], alpha[1] * imp[1]) + cv2(alpha[0] * load[0], alpha[1] * load[1])
                    + gLoad[0] * imp[0] + gLoad[1] * imp[1];
            return task + coef * bal;
        }

        /** CV² of two numbers: ((u − v)²/2)/(((u + v)/2)² + 1e-10). */
        static double cv2(double u, double v) {
            double m = (u + v) / 2;
            return (u - v) * (u - v) / 2 / (m * m + 1e-10);
        }

        static double[] cv2Grad(double u, double v) {
            double m = (u + v) / 2;
            double den = m * m + 1e-10;
            double var = (u - v) * (u - v) / 2;
            return new double[]{(u - v) / den - var * m / (den * den), (v - u) / den - var * m / (den * den)};
        }
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    private static void assertMatches(String what, double[] numeric, float[] analytic, double rel) {
        double scale = 0;
        for (double v : numeric) scale = Math.max(scale, Math.abs(v));
        assertTrue(scale > 1e-6, what + ": the gradient under test is not trivially zero");
        for (int i = 0; i < numeric.length; i++) {
            assertEquals(numeric[i], analytic[i], rel * scale + 1e-7, what + "[" + i + "] (max |g| " + scale + ")");
        }
    }

    /** Checks the router's weight/bias gradients and dx against central differences of {@link Relaxed}. */
    private static void checkRouterGradient(GateMode mode, float coef, boolean zeroTaskGradient, LoadGradient lg,
                                            long seed) {
        int in = 6, out = 4;
        MoeLinear moe = moe(seed, in, out, mode, 0.6);
        moe.setBalanceCoefficient(coef);
        moe.setLoadGradient(lg);
        SplittableRandom rng = new SplittableRandom(seed + 100);
        Tensor x = GradCheck.randn(rng, 1f, 3, 5, in);
        Tensor r = zeroTaskGradient ? Tensor.zeros(3, 5, out) : GradCheck.randn(rng, 1f, 3, 5, out);
        for (Parameter p : moe.parameters()) p.zeroGrad();
        moe.forward(x, true);
        int[] counts = moe.lastTokensPerExpert();
        assertTrue(counts[0] > 0 && counts[1] > 0, Arrays.toString(counts));
        double reportedBalance = moe.balanceLoss();
        float[] dx = moe.backward(r).data();
        Relaxed relaxed = new Relaxed(moe, x, r, lg == LoadGradient.STRAIGHT_THROUGH);
        double[] wg = toDouble(moe.gate().weight().value().data());
        double[] bg = toDouble(moe.gate().bias().value().data());
        double[] x64 = toDouble(x.data());
        // The layer reports coef·(CV²(α⊙Imp) + CV²(α⊙Load)), which is J's balance part without the ST load term.
        double imp0 = 0;
        double imp1 = 0;
        for (int i = 0; i < relaxed.t; i++) {
            double[] p = relaxed.probs(wg, bg, x64, i);
            imp0 += p[0];
            imp1 += p[1];
        }
        double expectBal = coef * (Relaxed.cv2(relaxed.alpha[0] * imp0, relaxed.alpha[1] * imp1)
                + Relaxed.cv2(relaxed.alpha[0] * relaxed.load[0], relaxed.alpha[1] * relaxed.load[1]));
        assertEquals(expectBal, reportedBalance, 1e-6 * Math.max(1e-3, expectBal));

        double h = 1e-4;
        double[][] targets = {wg, bg, x64};
        float[][] analytic = {moe.gate().weight().grad().data(), moe.gate().bias().grad().data(), dx};
        String[] names = {"gate.weight", "gate.bias", "input"};
        for (int k = 0; k < 3; k++) {
            double[] v = targets[k];
            double[] num = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                double orig = v[i];
                v[i] = orig + h;
                double jp = relaxed.value(wg, bg, x64);
                v[i] = orig - h;
                double jm = relaxed.value(wg, bg, x64);
                v[i] = orig;
                num[i] = (jp - jm) / (2 * h);
            }
            assertMatches(mode + "/coef " + coef + "/" + lg + " " + names[k], num, analytic[k], 2e-4);
        }
    }

    @Test
    void straightThroughRouterGradientMatchesTheRelaxedObjective() {
        checkRouterGradient(GateMode.STRAIGHT_THROUGH, 0f, false, LoadGradient.NONE, 31);
        checkRouterGradient(GateMode.STRAIGHT_THROUGH, 0.01f, false, LoadGradient.NONE, 32);
    }

    @Test
    void probabilityRouterGradientMatchesTheRelaxedObjective() {
        checkRouterGradient(GateMode.PROBABILITY, 0.01f, false, LoadGradient.NONE, 33);
    }

    @Test
    void balanceLossGradientReachesTheRouterAndMatchesFiniteDifferences() {
        // dy = 0 isolates the balance term (coefficient 1 so its gradient is the whole signal).
        checkRouterGradient(GateMode.STRAIGHT_THROUGH, 1f, true, LoadGradient.NONE, 34);
        checkRouterGradient(GateMode.PROBABILITY, 1f, true, LoadGradient.STRAIGHT_THROUGH, 35);
        checkRouterGradient(GateMode.STRAIGHT_THROUGH, 0.01f, false, LoadGradient.STRAIGHT_THROUGH, 36);
    }

    @Test
    void balanceLossAloneSendsMoreTokensToTheFasterExpert() {
        // α = (0.6, 0.4): Mult slower. Start with most tokens on Mult and train the router on the balance
        // loss alone (dy = 0, plain SGD): importance settles at the balance point (40% Mult, 60% Shift).
        int in = 4, out = 2, t = 256;
        SplittableRandom rng = new SplittableRandom(41);
        MoeLinear moe = MoeLinear.fromDense("fc", MoeLinearTest.dense(rng, in, out, false), ALPHA, rng);
        float[] gw = moe.gate().weight().value().data();
        for (int i = 0; i < gw.length; i++) gw[i] = (float) (Init.gaussian(rng) * 1.0);
        moe.gate().bias().value().data()[0] = 1.5f;
        moe.setBalanceCoefficient(1f);
        Tensor x = GradCheck.randn(rng, 1f, t, in);
        Tensor zero = Tensor.zeros(t, out);
        moe.forward(x, false);
        double shiftStart = moe.lastTokensPerExpert()[1] / (double) t;
        assertTrue(shiftStart < 0.3, "starts Mult-heavy: " + shiftStart);
        for (int step = 0; step < 150; step++) {
            for (Parameter p : moe.parameters()) p.zeroGrad();
            moe.forward(x, true);
            moe.backward(zero);
            for (Parameter p : moe.gate().parameters()) {
                float[] v = p.value().data();
                float[] g = p.grad().data();
                for (int i = 0; i < v.length; i++) v[i] -= 2f * g[i];
            }
        }
        moe.forward(x, true);
        double[] imp = moe.lastImportance();
        double impShift = imp[1] / (imp[0] + imp[1]);
        double loadShift = moe.lastTokensPerExpert()[1] / (double) t;
        assertEquals(0.6, impShift, 0.01, "importance share of the faster (Shift) expert");
        assertTrue(loadShift > 0.5, "the faster expert gets most tokens: " + loadShift);
    }
}
