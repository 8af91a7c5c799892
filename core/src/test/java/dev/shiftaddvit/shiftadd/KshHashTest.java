package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.BitCodes;
import dev.shiftaddvit.nn.Init;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.SplittableRandom;

import static dev.shiftaddvit.shiftadd.HashInputs.normalisedRows;
import static dev.shiftaddvit.shiftadd.HashInputs.small;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** KSH state, inference map and STE backward (training: {@link KshTrainingTest}). */
class KshHashTest {
    /** Independent double computation of z for image b, head h, token k (σ from that image and head). */
    static double[] referenceZ(KshHash hash, float[] x, int ld, int b, int n, int h, int k) {
        int d = hash.headDim(), m = hash.anchors(), r = hash.bits();
        float[] an = hash.anchorPoints().data();
        double sigma = 0;
        double[][] dist = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                double s = 0;
                for (int c = 0; c < d; c++) {
                    double diff = x[(b * n + i) * ld + h * d + c] - an[(h * m + j) * d + c];
                    s += diff * diff;
                }
                dist[i][j] = s;
                sigma += s;
            }
        }
        sigma /= (double) n * m;
        double[] z = new double[r];
        for (int t = 0; t < r; t++) {
            for (int j = 0; j < m; j++) {
                double kv = Math.exp(-dist[k][j] / (2 * sigma)) - hash.kernelMean().data()[h * m + j];
                z[t] += kv * hash.projection().data()[(h * r + t) * m + j];
            }
        }
        return z;
    }
    @Test
    void stateIsNamedAndShapedAndLoadsBack() {
        KshHash hash = new KshHash("blocks.0.attn", 3, 8, 16, 25, new SplittableRandom(1));
        Map<String, Tensor> s = hash.state();
        assertEquals(java.util.List.of("blocks.0.attn.hash.A", "blocks.0.attn.hash.mu", "blocks.0.attn.hash.anchors"),
                java.util.List.copyOf(s.keySet()));
        assertArrayEquals(new int[]{3, 16, 25}, s.get("blocks.0.attn.hash.A").shape());
        assertArrayEquals(new int[]{3, 25}, s.get("blocks.0.attn.hash.mu").shape());
        assertArrayEquals(new int[]{3, 25, 8}, s.get("blocks.0.attn.hash.anchors").shape());
        assertFalse(hash.isTrained());
        // A ~ N(0, 1)
        float[] a = hash.projection().data();
        double mean = 0;
        double sq = 0;
        for (float v : a) {
            mean += v;
            sq += v * v;
        }
        mean /= a.length;
        assertTrue(Math.abs(mean) < 0.15 && Math.abs(sq / a.length - 1) < 0.2, "A is not N(0,1)");

        SplittableRandom rnd = new SplittableRandom(2);
        float[] x = normalisedRows(rnd, 2, 30, 3, 8, 24);
        KshTraining.train(hash, x, 0, 24, 2, 30, small(), new SplittableRandom(3));
        KshHash other = new KshHash("blocks.0.attn", 3, 8, 16, 25, new SplittableRandom(9));
        other.load(hash.state());
        assertTrue(other.isTrained());
        assertArrayEquals(hash.encode(x, 0, 24, 2, 30, false).codes().tokenWords(),
                other.encode(x, 0, 24, 2, 30, false).codes().tokenWords());
        assertThrows(IllegalArgumentException.class, () -> other.load(Map.of()));
        KshHash wrong = new KshHash("blocks.0.attn", 3, 8, 8, 25, new SplittableRandom(9));
        assertThrows(IllegalArgumentException.class, () -> wrong.load(hash.state()));
    }

    @Test
    void encodeMatchesIndependentComputationWithSigmaPerImageAndHead() {
        // anchor and bit counts on both sides of one and two vectors at every width (4, 8, 16 floats)
        for (int[] mr : new int[][]{{6, 16}, {25, 16}, {36, 20}}) encodeMatchesIndependentComputation(mr[0], mr[1]);
    }

    private void encodeMatchesIndependentComputation(int anchors, int bits) {
        SplittableRandom rnd = new SplittableRandom(4);
        int batch = 3, n = 13, heads = 2, d = 5, ld = heads * d + 1;
        KshHash hash = new KshHash("attn", heads, d, bits, anchors, new SplittableRandom(5));
        float[] x = normalisedRows(rnd, batch, n, heads, d, ld);
        KshTraining.train(hash, x, 0, ld, batch, n, small(), new SplittableRandom(6));
        // a different batch at inference: σ comes from it, not from training
        float[] y = normalisedRows(rnd, batch, n, heads, d, ld);
        CodeEncoding e = hash.encode(y, 0, ld, batch, n, true);
        BitCodes codes = e.codes();
        String what = anchors + " anchors, " + bits + " bits";
        int checked = 0;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int g = b * heads + h;
                for (int k = 0; k < n; k++) {
                    double[] z = referenceZ(hash, y, ld, b, n, h, k);
                    for (int t = 0; t < bits; t++) {
                        float zf = e.preActivations()[(g * n + k) * bits + t];
                        assertEquals(z[t], zf, 1e-5 + 1e-5 * Math.abs(z[t]), "z at b=" + b + " h=" + h + " k=" + k + ", " + what);
                        if (Math.abs(z[t]) < 1e-6) continue;
                        assertEquals(z[t] > 0, codes.get(g, k, t), "bit, " + what);
                        boolean pass = (e.steMask()[g * n + k] >>> t & 1L) != 0;
                        assertEquals(z[t] > 0 && z[t] < 1, pass, "STE mask, " + what);
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked > batch * heads * n * (bits - 1), what);
        // per-image σ: encoding one image alone gives that image's codes
        float[] one = java.util.Arrays.copyOfRange(y, n * ld, 2 * n * ld);
        CodeEncoding e1 = hash.encode(one, 0, ld, 1, n, false);
        for (int h = 0; h < heads; h++) {
            for (int k = 0; k < n; k++) {
                assertEquals(codes.tokenWords()[(1 * heads + h) * n + k], e1.codes().tokenWords()[h * n + k], what);
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesOfTheSurrogate() {
        // STE: codes behave as clamp(z, 0, 1) for the gradient; check dx against double finite
        // differences of Σ dC ⊙ clamp(z(x), 0, 1) (σ recomputed from x).
        SplittableRandom rnd = new SplittableRandom(7);
        int batch = 2, n = 9, heads = 2, d = 4, ld = heads * d, r = 8;
        KshHash hash = new KshHash("attn", heads, d, r, 5, new SplittableRandom(8));
        float[] x = normalisedRows(rnd, batch, n, heads, d, ld);
        KshTraining.train(hash, x, 0, ld, batch, n, small(), new SplittableRandom(9));
        for (int i = 0; i < hash.projection().size(); i++) hash.projection().data()[i] *= 3f;   // more z in (0, 1)
        CodeEncoding e = hash.encode(x, 0, ld, batch, n, true);
        float[] dc = new float[batch * heads * n * r];
        for (int i = 0; i < dc.length; i++) dc[i] = (float) Init.gaussian(rnd);
        float[] dx = new float[x.length];
        hash.backward(e, dc, x, 0, ld, dx);
        int passing = Long.bitCount(e.steMask()[0]) + Long.bitCount(e.steMask()[1]);
        assertTrue(passing > 0);
        double[] xd = new double[x.length];
        for (int i = 0; i < x.length; i++) xd[i] = x[i];
        double maxAbs = 0;
        for (float g : dx) maxAbs = Math.max(maxAbs, Math.abs(g));
        assertTrue(maxAbs > 0);
        for (int i = 0; i < x.length; i++) {
            double h = 1e-6;
            double old = xd[i];
            xd[i] = old + h;
            double lp = surrogate(hash, xd, batch, n, dc);
            xd[i] = old - h;
            double lm = surrogate(hash, xd, batch, n, dc);
            xd[i] = old;
            double num = (lp - lm) / (2 * h);
            assertEquals(num, dx[i], 2e-3 * maxAbs + 1e-5, "dx[" + i + "]");
        }
    }

    private static double surrogate(KshHash hash, double[] x, int batch, int n, float[] dc) {
        int heads = hash.heads(), d = hash.headDim(), m = hash.anchors(), r = hash.bits(), ld = heads * d;
        float[] an = hash.anchorPoints().data();
        double loss = 0;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                double[][] dist = new double[n][m];
                double sigma = 0;
                for (int k = 0; k < n; k++) {
                    for (int j = 0; j < m; j++) {
                        double s = 0;
                        for (int c = 0; c < d; c++) {
                            double diff = x[(b * n + k) * ld + h * d + c] - an[(h * m + j) * d + c];
                            s += diff * diff;
                        }
                        dist[k][j] = s;
                        sigma += s;
                    }
                }
                sigma /= (double) n * m;
                for (int k = 0; k < n; k++) {
                    for (int t = 0; t < r; t++) {
                        double z = 0;
                        for (int j = 0; j < m; j++) {
                            z += (Math.exp(-dist[k][j] / (2 * sigma)) - hash.kernelMean().data()[h * m + j])
                                    * hash.projection().data()[(h * r + t) * m + j];
                        }
                        loss += dc[((b * heads + h) * n + k) * r + t] * Math.min(1, Math.max(0, z));
                    }
                }
            }
        }
        return loss;
    }
}
