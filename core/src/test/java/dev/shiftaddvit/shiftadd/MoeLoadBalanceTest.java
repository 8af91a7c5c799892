package dev.shiftaddvit.shiftadd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The LL-loss math: CV² with the unbiased variance, α weighting, gradients, and α's direction. */
class MoeLoadBalanceTest {
    @Test
    void cv2UsesUnbiasedVarianceOverSquaredMean() {
        // Two experts: var = (v1 − v2)²/2. (18, 28): mean 23, var 50 → 50/529.
        assertEquals(50.0 / (529.0 + 1e-10), LoadBalance.cv2(new double[]{18, 28}), 1e-16);
        assertEquals(0.0945179584120983, LoadBalance.cv2(new double[]{18, 28}), 1e-12);
        // Three entries: (1, 2, 3): mean 2, var (1 + 0 + 1)/2 = 1 → 1/4.
        assertEquals(1.0 / (4.0 + 1e-10), LoadBalance.cv2(new double[]{1, 2, 3}), 1e-16);
        // Equal entries, a single expert and all zeros give 0 (the 1e-10 keeps 0/0 away).
        assertEquals(0.0, LoadBalance.cv2(new double[]{7, 7}));
        assertEquals(0.0, LoadBalance.cv2(new double[]{5}));
        assertEquals(0.0, LoadBalance.cv2(new double[]{0, 0}));
        // The ε matters only near a zero mean: (1, −1) has var 2, mean 0 → 2/1e-10.
        assertEquals(2e10, LoadBalance.cv2(new double[]{1, -1}), 1e-3);
    }

    @Test
    void lossIsCv2OfAlphaWeightedImportancePlusLoad() {
        float[] alpha = {0.6f, 0.4f};
        // α⊙Imp = (18, 28) → 50/529; α⊙Load = (6, 36): mean 21, var 450 → 450/441.
        double l = LoadBalance.loss(alpha, new double[]{30, 70}, new double[]{10, 90});
        assertEquals(50.0 / 529.0 + 450.0 / 441.0, l, 1e-6);
        assertEquals(1.1149261216774045, l, 1e-6);
        // Only the ratio of α matters (upstream's 6:4 equals 0.6:0.4).
        assertEquals(l, LoadBalance.loss(new float[]{6f, 4f}, new double[]{30, 70}, new double[]{10, 90}), 1e-6);
        assertThrows(IllegalArgumentException.class,
                () -> LoadBalance.loss(new float[]{1f}, new double[]{1, 2}, new double[]{1, 2}));
    }

    @Test
    void fasterExpertGetsMoreTokensAtTheBalancePoint() {
        // α ∝ latency: Mult 0.6 (slower), Shift 0.4 (faster). Zero loss at Imp = Load = (40, 60).
        float[] alpha = {0.6f, 0.4f};
        assertEquals(0.0, LoadBalance.loss(alpha, new double[]{40, 60}, new double[]{40, 60}), 1e-12);
        assertArrayEquals(new double[]{0.4, 0.6}, LoadBalance.balancedShares(alpha), 1e-7);
        // Moving tokens towards the slower expert raises the loss; the gradient points back.
        double worse = LoadBalance.loss(alpha, new double[]{50, 50}, new double[]{50, 50});
        assertEquals(2 * (10.0 * 10.0 / 2) / (25.0 * 25.0), worse, 1e-6); // (30, 20): var 50, mean 25, twice
        double[] g = LoadBalance.weightedGradient(alpha, new double[]{50, 50});
        assertEquals(1.0, Math.signum(g[0]), "more importance on the slow expert increases the loss");
        assertEquals(-1.0, Math.signum(g[1]));
    }

    @Test
    void gradientsMatchHandValuesAndFiniteDifferences() {
        // ∂CV²/∂v at (18, 28): 2(v − m)/((n−1)(m²+ε)) − var·2m/(n(m²+ε)²).
        double[] g = LoadBalance.cv2Gradient(new double[]{18, 28});
        assertEquals(-0.023013068135119587, g[0], 1e-12);
        assertEquals(0.014794115229719733, g[1], 1e-12);
        // Weighted: α_e·∂CV²/∂u_e at u = α⊙v, v = (30, 70).
        double[] w = LoadBalance.weightedGradient(new float[]{0.6f, 0.4f}, new double[]{30, 70});
        assertEquals(-0.013807840881071752, w[0], 1e-8);
        assertEquals(0.0059176460918878935, w[1], 1e-8);
        double[][] points = {{3, 5, 11}, {1, 2}, {0.2, 0.9, 0.4, 1.7}};
        float[][] alphas = {{0.2f, 0.3f, 0.5f}, {0.7f, 0.3f}, {1f, 2f, 3f, 4f}};
        for (int c = 0; c < points.length; c++) {
            double[] v = points[c];
            float[] a = alphas[c];
            double[] an = LoadBalance.weightedGradient(a, v);
            for (int i = 0; i < v.length; i++) {
                double h = 1e-6;
                double[] vp = v.clone();
                double[] vm = v.clone();
                vp[i] += h;
                vm[i] -= h;
                double num = (LoadBalance.cv2(LoadBalance.weighted(a, vp)) - LoadBalance.cv2(LoadBalance.weighted(a, vm)))
                        / (2 * h);
                assertEquals(num, an[i], 1e-7 * Math.max(1, Math.abs(num)), "case " + c + " entry " + i);
            }
        }
        assertArrayEquals(new double[]{0}, LoadBalance.cv2Gradient(new double[]{4}));
    }
}
