package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.BitCodes;
import dev.shiftaddvit.nn.Init;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.shiftaddvit.shiftadd.HashInputs.normalisedRows;
import static dev.shiftaddvit.shiftadd.HashInputs.small;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One-shot greedy KSH training: seeding, anchors, μ, the relaxed loss's gradient and the codes it gives. */
class KshTrainingTest {
    /** Clustered rows: each token = one of `clusters` random centres plus noise, normalised per head. */
    private static float[] clusteredRows(SplittableRandom rnd, int batch, int n, int heads, int d, int clusters, int[] label) {
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
    @Test
    void trainingIsSeededAndTakesAnchorsFromImageZeroAndMuFromTheBatch() {
        SplittableRandom rnd = new SplittableRandom(10);
        int batch = 3, n = 20, heads = 2, d = 6, ld = heads * d;
        float[] x = normalisedRows(rnd, batch, n, heads, d, ld);
        KshHash h1 = new KshHash("attn", heads, d, 8, 7, new SplittableRandom(11));
        KshHash h2 = new KshHash("attn", heads, d, 8, 7, new SplittableRandom(11));
        KshTraining.TrainReport rep = KshTraining.train(h1, x, 0, ld, batch, n, small(), new SplittableRandom(12));
        KshTraining.train(h2, x, 0, ld, batch, n, small(), new SplittableRandom(12));
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
        KshTraining.train(h3, x, 0, ld, batch, n, small(), new SplittableRandom(13));
        assertFalse(java.util.Arrays.equals(h1.anchorPoints().data(), h3.anchorPoints().data()));
    }

    @Test
    void fewTokensTakeAnchorsFromLaterImagesAndTooFewFail() {
        SplittableRandom rnd = new SplittableRandom(14);
        float[] x = normalisedRows(rnd, 3, 4, 1, 3, 3);
        KshHash hash = new KshHash("attn", 1, 3, 4, 10, new SplittableRandom(15));
        KshTraining.train(hash, x, 0, 3, 3, 4, small(), new SplittableRandom(16));
        assertTrue(hash.isTrained());
        KshHash big = new KshHash("attn", 1, 3, 4, 13, new SplittableRandom(15));
        assertThrows(IllegalArgumentException.class,
                () -> KshTraining.train(big, x, 0, 3, 3, 4, small(), new SplittableRandom(16)));
    }

    @Test
    void relaxedLossGradientMatchesFiniteDifferences() {
        SplittableRandom rnd = new SplittableRandom(17);
        int batch = 2, heads = 2, n = 12, m = 5, bits = 8, d = 4;
        float[] x = normalisedRows(rnd, batch, n, heads, d, heads * d);
        KshHash hash = new KshHash("attn", heads, d, bits, m, new SplittableRandom(18));
        KshTraining.Supervision sup = KshTraining.supervision(hash, x, 0, heads * d, batch, n, 3);
        float[] kk = new float[batch * heads * n * m];
        for (int i = 0; i < kk.length; i++) kk[i] = (float) (0.3 * Init.gaussian(rnd));
        KshTraining.Fit fit = new KshTraining.Fit(kk, sup, batch, heads, n, m, bits);
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
        int batch = 2, n = 48, heads = 2, d = 8;
        int[] label = new int[batch * n];
        float[] x = clusteredRows(rnd, batch, n, heads, d, 4, label);
        KshHash hash = new KshHash("attn", heads, d, 16, 25, new SplittableRandom(20));
        KshTraining.TrainReport rep = KshTraining.train(hash, x, 0, heads * d, batch, n,
                new KshTraining.TrainConfig(10, 100, 5e-4, 0.9), new SplittableRandom(21));
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
}
