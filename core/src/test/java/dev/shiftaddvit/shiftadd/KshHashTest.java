package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.BitCodes;
import dev.shiftaddvit.nn.Init;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** KSH state, inference map, STE backward, one-shot training, and the sign-code variant. */
class KshHashTest {
    /** Rows [batch, n, heads·d] (plus padding to ld), each head slice L2-normalised. */
    static float[] normalisedRows(SplittableRandom rnd, int batch, int n, int heads, int d, int ld) {
        float[] x = new float[batch * n * ld];
        for (int row = 0; row < batch * n; row++) {
            for (int h = 0; h < heads; h++) {
                int o = row * ld + h * d;
                double ss = 0;
                for (int c = 0; c < d; c++) {
                    x[o + c] = (float) Init.gaussian(rnd);
                    ss += x[o + c] * x[o + c];
                }
                for (int c = 0; c < d; c++) x[o + c] /= (float) Math.sqrt(ss);
            }
        }
        return x;
    }

    /** Clustered rows: each token = one of `clusters` random centres plus noise, normalised per head. */
    static float[] clusteredRows(SplittableRandom rnd, int batch, int n, int heads, int d, int clusters, int[] label) {
        float[][] centres = new float[clusters * heads][d];
        for (float[] c : centres) for (int i = 0; i < d; i++) c[i] = (float) Init.gaussian(rnd);
        float[] x = new float[batch * n * heads * d];
        for (int row = 0; row < batch * n; row++) {
            int cl = rnd.nextInt(clusters);
            label[row] = cl;
            for (int h = 0; h < heads; h++) {
                int o = (row * heads + h) * d;
                double ss = 0;
                for (int c = 0; c < d; c++) {
                    x[o + c] = centres[cl * heads + h][c] + 0.15f * (float) Init.gaussian(rnd);
                    ss += x[o + c] * x[o + c];
                }
                for (int c = 0; c < d; c++) x[o + c] /= (float) Math.sqrt(ss);
            }
        }
        return x;
    }

    /** Independent double computation of z for image b, head h, token k (σ from that image and head). */
    static double[] referenceZ(KshHash hash, float[] x, int ld, int b, int n, int h, int k) {
        int d = hash.headDim();
        int m = hash.anchors();
        int r = hash.bits();
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

    private static KshHash.TrainConfig small() {
        return new KshHash.TrainConfig(3, 100, 5e-4, 0.9);
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
        hash.train(x, 0, 24, 2, 30, small(), new SplittableRandom(3));
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
        int batch = 3;
        int n = 13;
        int heads = 2;
        int d = 5;
        int ld = heads * d + 1;
        KshHash hash = new KshHash("attn", heads, d, bits, anchors, new SplittableRandom(5));
        float[] x = normalisedRows(rnd, batch, n, heads, d, ld);
        hash.train(x, 0, ld, batch, n, small(), new SplittableRandom(6));
        // a different batch at inference: σ comes from it, not from training
        float[] y = normalisedRows(rnd, batch, n, heads, d, ld);
        KshHash.Encoding e = hash.encode(y, 0, ld, batch, n, true);
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
        KshHash.Encoding e1 = hash.encode(one, 0, ld, 1, n, false);
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
        int batch = 2;
        int n = 9;
        int heads = 2;
        int d = 4;
        int ld = heads * d;
        int r = 8;
        KshHash hash = new KshHash("attn", heads, d, r, 5, new SplittableRandom(8));
        float[] x = normalisedRows(rnd, batch, n, heads, d, ld);
        hash.train(x, 0, ld, batch, n, small(), new SplittableRandom(9));
        for (int i = 0; i < hash.projection().size(); i++) hash.projection().data()[i] *= 3f;   // more z in (0, 1)
        KshHash.Encoding e = hash.encode(x, 0, ld, batch, n, true);
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
        int heads = hash.heads();
        int d = hash.headDim();
        int m = hash.anchors();
        int r = hash.bits();
        int ld = heads * d;
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

    @Test
    void trainingIsSeededAndTakesAnchorsFromImageZeroAndMuFromTheBatch() {
        SplittableRandom rnd = new SplittableRandom(10);
        int batch = 3;
        int n = 20;
        int heads = 2;
        int d = 6;
        int ld = heads * d;
        float[] x = normalisedRows(rnd, batch, n, heads, d, ld);
        KshHash h1 = new KshHash("attn", heads, d, 8, 7, new SplittableRandom(11));
        KshHash h2 = new KshHash("attn", heads, d, 8, 7, new SplittableRandom(11));
        KshHash.TrainReport rep = h1.train(x, 0, ld, batch, n, small(), new SplittableRandom(12));
        h2.train(x, 0, ld, batch, n, small(), new SplittableRandom(12));
        assertTrue(h1.isTrained());
        for (String k : h1.state().keySet()) {
            assertArrayEquals(h1.state().get(k).data(), h2.state().get(k).data(), k + " differs between seeded runs");
        }
        // anchors: tokens of image 0, the same token for every head, all distinct
        float[] an = h1.anchorPoints().data();
        java.util.Set<Integer> used = new java.util.HashSet<>();
        for (int j = 0; j < 7; j++) {
            int found = -1;
            for (int k = 0; k < n && found < 0; k++) {
                boolean all = true;
                for (int h = 0; h < heads; h++) {
                    for (int c = 0; c < d; c++) all &= an[(h * 7 + j) * d + c] == x[k * ld + h * d + c];
                }
                if (all) found = k;
            }
            assertTrue(found >= 0, "anchor " + j + " is not a token of image 0");
            assertTrue(used.add(found), "anchor token repeated");
        }
        // μ: the batch mean of the kernel values
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < 7; j++) {
                double s = 0;
                for (int b = 0; b < batch; b++) {
                    double sigma = 0;
                    double[] dj = new double[n];
                    for (int k = 0; k < n; k++) {
                        for (int jj = 0; jj < 7; jj++) {
                            double dd = 0;
                            for (int c = 0; c < d; c++) {
                                double diff = x[(b * n + k) * ld + h * d + c] - an[(h * 7 + jj) * d + c];
                                dd += diff * diff;
                            }
                            sigma += dd;
                            if (jj == j) dj[k] = dd;
                        }
                    }
                    sigma /= n * 7.0;
                    for (int k = 0; k < n; k++) s += Math.exp(-dj[k] / (2 * sigma));
                }
                assertEquals(s / (batch * n), h1.kernelMean().data()[h * 7 + j], 1e-5);
            }
        }
        // the report keeps the better of initial / optimised for every bit
        for (int t = 0; t < 8; t++) {
            assertEquals(rep.optimisedLoss()[t] < rep.initialLoss()[t], rep.keptOptimised()[t]);
        }
        // a different seed picks other anchors
        KshHash h3 = new KshHash("attn", heads, d, 8, 7, new SplittableRandom(11));
        h3.train(x, 0, ld, batch, n, small(), new SplittableRandom(13));
        assertFalse(java.util.Arrays.equals(h1.anchorPoints().data(), h3.anchorPoints().data()));
    }

    @Test
    void fewTokensTakeAnchorsFromLaterImagesAndTooFewFail() {
        SplittableRandom rnd = new SplittableRandom(14);
        float[] x = normalisedRows(rnd, 3, 4, 1, 3, 3);
        KshHash hash = new KshHash("attn", 1, 3, 4, 10, new SplittableRandom(15));
        hash.train(x, 0, 3, 3, 4, small(), new SplittableRandom(16));
        assertTrue(hash.isTrained());
        KshHash big = new KshHash("attn", 1, 3, 4, 13, new SplittableRandom(15));
        assertThrows(IllegalArgumentException.class, () -> big.train(x, 0, 3, 3, 4, small(), new SplittableRandom(16)));
    }

    @Test
    void relaxedLossGradientMatchesFiniteDifferences() {
        SplittableRandom rnd = new SplittableRandom(17);
        int batch = 2;
        int heads = 2;
        int n = 12;
        int m = 5;
        int bits = 8;
        int d = 4;
        float[] x = normalisedRows(rnd, batch, n, heads, d, heads * d);
        KshHash hash = new KshHash("attn", heads, d, bits, m, new SplittableRandom(18));
        KshHash.Supervision sup = hash.supervision(x, 0, heads * d, batch, n, 3);
        float[] kk = new float[batch * heads * n * m];
        for (int i = 0; i < kk.length; i++) kk[i] = (float) (0.3 * Init.gaussian(rnd));
        KshHash.Fit fit = new KshHash.Fit(kk, sup, batch, heads, n, m, bits);
        double[][] chosen = new double[heads][m];
        for (double[] c : chosen) for (int j = 0; j < m; j++) c[j] = Init.gaussian(rnd);
        fit.commit(chosen);   // include one rank-one residual term
        double[] a = new double[m];
        for (int j = 0; j < m; j++) a[j] = 2 * Init.gaussian(rnd);
        double[] grad = new double[m];
        fit.relaxedLoss(1, a, grad);
        for (int j = 0; j < m; j++) {
            double h = 1e-6;
            double old = a[j];
            a[j] = old + h;
            double lp = fit.relaxedLoss(1, a, null);
            a[j] = old - h;
            double lm = fit.relaxedLoss(1, a, null);
            a[j] = old;
            assertEquals((lp - lm) / (2 * h), grad[j], 1e-6 + 1e-5 * Math.abs(grad[j]));
        }
        // supervision rows: +1 for the k most similar (incl. itself), −1 for the k least
        int row = 5;   // group 0, token 5
        int cnt = sup.count()[row];
        assertEquals(6, cnt);
        boolean selfPlus = false;
        for (int e = 0; e < cnt; e++) selfPlus |= sup.cols()[row * 6 + e] == 5 && sup.vals()[row * 6 + e] == 1f;
        assertTrue(selfPlus);
    }

    @Test
    void trainedCodesSeparateClusters() {
        SplittableRandom rnd = new SplittableRandom(19);
        int batch = 2;
        int n = 48;
        int heads = 2;
        int d = 8;
        int[] label = new int[batch * n];
        float[] x = clusteredRows(rnd, batch, n, heads, d, 4, label);
        KshHash hash = new KshHash("attn", heads, d, 16, 25, new SplittableRandom(20));
        KshHash.TrainReport rep = hash.train(x, 0, heads * d, batch, n, new KshHash.TrainConfig(10, 100, 5e-4, 0.9),
                new SplittableRandom(21));
        BitCodes codes = hash.encode(x, 0, heads * d, batch, n, false).codes();
        double within = 0;
        double between = 0;
        long nw = 0;
        long nb = 0;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int g = b * heads + h;
                for (int i = 0; i < n; i++) {
                    for (int j = i + 1; j < n; j++) {
                        int ham = Long.bitCount(codes.tokenWords()[g * n + i] ^ codes.tokenWords()[g * n + j]);
                        if (label[b * n + i] == label[b * n + j]) {
                            within += ham;
                            nw++;
                        } else {
                            between += ham;
                            nb++;
                        }
                    }
                }
            }
        }
        within /= nw;
        between /= nb;
        assertTrue(within < 0.5 * between, "within-cluster Hamming " + within + " vs between " + between);
        double kept = 0;
        for (int t = 0; t < 16; t++) kept += Math.min(rep.initialLoss()[t], rep.optimisedLoss()[t]);
        assertTrue(kept < 0, "greedy KSH objective should be negative (agreement), got " + kept);
    }

    @Test
    void signCodesUseTheGlobalMeanAndAnInclusiveClampMask() {
        SplittableRandom rnd = new SplittableRandom(22);
        int batch = 2;
        int n = 7;
        int heads = 3;
        int d = 5;
        int ld = heads * d;
        float[] x = normalisedRows(rnd, batch, n, heads, d, ld);
        x[3] = 0f;
        x[4] = 1f;
        double mean = 0;
        for (float v : x) mean += v;
        mean /= x.length;
        KshHash.Encoding e = KshHash.signEncode(x, 0, ld, batch, n, heads, d);
        assertEquals(d, e.codes().bits());
        float[] dc = new float[batch * heads * n * d];
        for (int i = 0; i < dc.length; i++) dc[i] = (float) Init.gaussian(rnd);
        float[] dx = new float[x.length];
        KshHash.signBackward(e, dc, 0, ld, heads, dx);
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < n; k++) {
                for (int h = 0; h < heads; h++) {
                    int g = b * heads + h;
                    for (int c = 0; c < d; c++) {
                        float v = x[(b * n + k) * ld + h * d + c];
                        if (Math.abs(v - mean) > 1e-6) assertEquals(v - mean > 0, e.codes().get(g, k, c));
                        float expect = v >= 0 && v <= 1 ? dc[(g * n + k) * d + c] : 0f;
                        assertEquals(expect, dx[(b * n + k) * ld + h * d + c]);
                    }
                }
            }
        }
    }
}
