package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.BitCodes;
import dev.shiftaddvit.nn.GradCheck;
import dev.shiftaddvit.nn.Init;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.nn.SelfAttention;
import dev.shiftaddvit.nn.SpatialReductionAttention;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AddAttention against an independent double-precision implementation: forward values and codes,
 * and every gradient (V path, proj, conv taps, and qk/input through the straight-through
 * estimator) against finite differences of the STE surrogate (codes = b₀ + clamp(z) − clamp(z₀)),
 * plus GradCheck with frozen codes, the dense conversions and the checkpoint buffers.
 */
class AddAttentionTest {
    private static final AddAttention.Options SMALL_KSH = new AddAttention.Options(AddAttention.CodeKind.KSH, 8, 5, 9,
            new KshTraining.TrainConfig(3, 100, 5e-4, 0.9));
    private static final AddAttention.Options SMALL_SIGN = SMALL_KSH.withCodes(AddAttention.CodeKind.SIGN);

    /** The layer's parameters and hash state in double, and a naive forward. */
    static final class Ref {
        final int heads;
        final int c;
        final int d;
        final int r;
        final int taps;
        final boolean ksh;
        final double[] wqk;
        final double[] bqk;
        final double[] wv;
        final double[] bv;
        final double[] wp;
        final double[] bp;
        final double[] wdw;
        final KshHash hash;
        double lastMean;

        Ref(AddAttention a) {
            heads = a.heads();
            c = ((Linear) a.proj()).in();
            d = c / heads;
            r = a.codeBits();
            taps = a.options().taps();
            ksh = a.hash() != null;
            wqk = dbl(((Linear) a.qk()).weight().value().data());
            bqk = dbl(((Linear) a.qk()).bias().value().data());
            wv = dbl(((Linear) a.v()).weight().value().data());
            bv = dbl(((Linear) a.v()).bias().value().data());
            wp = dbl(((Linear) a.proj()).weight().value().data());
            bp = dbl(((Linear) a.proj()).bias().value().data());
            wdw = dbl(a.dwconvWeight().value().data());
            hash = a.hash();
        }

        static double[] dbl(float[] f) {
            double[] o = new double[f.length];
            for (int i = 0; i < f.length; i++) o[i] = f[i];
            return o;
        }

        static double[] linear(double[] x, int rows, int in, double[] w, double[] b, int out) {
            double[] y = new double[rows * out];
            for (int i = 0; i < rows; i++) {
                for (int o = 0; o < out; o++) {
                    double s = b[o];
                    for (int k = 0; k < in; k++) s += x[i * in + k] * w[o * in + k];
                    y[i * out + o] = s;
                }
            }
            return y;
        }

        /**
         * Forward of x [batch, n, c]. With b0/z0 null the codes are hard (z → bits, written to
         * codesOut [g, n, r] and zOut when non-null); otherwise the STE surrogate
         * b0 + clamp(z, 0, 1) − clamp(z0, 0, 1) is used.
         */
        double[] forward(double[] x, int batch, int n, float[] b0, double[] z0, float[] codesOut, double[] zOut) {
            int rows = batch * n;
            double[] qk = linear(x, rows, c, wqk, bqk, c);
            double[] v = linear(x, rows, c, wv, bv, c);
            double[] xn = new double[rows * c];
            for (int i = 0; i < rows * heads; i++) {
                double ss = 0;
                for (int k = 0; k < d; k++) ss += qk[i * d + k] * qk[i * d + k];
                double norm = Math.sqrt(ss);
                for (int k = 0; k < d; k++) xn[i * d + k] = norm > 0 ? qk[i * d + k] / norm : 0;
            }
            double mean = 0;
            for (double q : xn) mean += q;
            mean /= xn.length;
            lastMean = mean;
            double[] o = new double[rows * c];
            for (int b = 0; b < batch; b++) {
                for (int h = 0; h < heads; h++) {
                    int g = b * heads + h;
                    double[][] bm = new double[n][r];
                    double[][] z = new double[n][r];
                    if (ksh) {
                        int m = hash.anchors();
                        float[] an = hash.anchorPoints().data();
                        double[][] dist = new double[n][m];
                        double sigma = 0;
                        for (int k = 0; k < n; k++) {
                            for (int j = 0; j < m; j++) {
                                double s = 0;
                                for (int q = 0; q < d; q++) {
                                    double diff = xn[(b * n + k) * c + h * d + q] - an[(h * m + j) * d + q];
                                    s += diff * diff;
                                }
                                dist[k][j] = s;
                                sigma += s;
                            }
                        }
                        sigma /= (double) n * m;
                        for (int k = 0; k < n; k++) {
                            for (int t = 0; t < r; t++) {
                                double s = 0;
                                for (int j = 0; j < m; j++) {
                                    s += (Math.exp(-dist[k][j] / (2 * sigma)) - hash.kernelMean().data()[h * m + j])
                                            * hash.projection().data()[(h * r + t) * m + j];
                                }
                                z[k][t] = s;
                            }
                        }
                    } else {
                        for (int k = 0; k < n; k++) for (int t = 0; t < r; t++) z[k][t] = xn[(b * n + k) * c + h * d + t];
                    }
                    for (int k = 0; k < n; k++) {
                        for (int t = 0; t < r; t++) {
                            int ci = (g * n + k) * r + t;
                            if (b0 == null) {
                                boolean bit = ksh ? z[k][t] > 0 : z[k][t] - mean > 0;
                                bm[k][t] = bit ? 1 : 0;
                                if (codesOut != null) codesOut[ci] = bit ? 1f : 0f;
                            } else {
                                bm[k][t] = b0[ci] + clamp(z[k][t]) - clamp(z0[ci]);
                            }
                            if (zOut != null) zOut[ci] = z[k][t];
                        }
                    }
                    double[][] tm = new double[r][d];
                    for (int k = 0; k < n; k++) {
                        for (int t = 0; t < r; t++) {
                            for (int q = 0; q < d; q++) tm[t][q] += bm[k][t] * v[(b * n + k) * c + h * d + q];
                        }
                    }
                    for (int k = 0; k < n; k++) {
                        double[] u = new double[d];
                        double ss = 0;
                        for (int q = 0; q < d; q++) {
                            double p = 0;
                            for (int t = 0; t < r; t++) p += bm[k][t] * tm[t][q];
                            u[q] = 0.5 * v[(b * n + k) * c + h * d + q] + p / Math.PI;
                            ss += u[q] * u[q];
                        }
                        double norm = Math.sqrt(ss);
                        for (int q = 0; q < d; q++) {
                            double conv = 0;
                            for (int tp = 0; tp < taps; tp++) {
                                int src = k + tp - taps / 2;
                                if (src >= 0 && src < n) conv += wdw[h * taps + tp] * v[(b * n + src) * c + h * d + q];
                            }
                            o[(b * n + k) * c + h * d + q] = (norm > 0 ? u[q] / norm : 0) + conv;
                        }
                    }
                }
            }
            return linear(o, rows, c, wp, bp, c);
        }

        static double clamp(double z) {
            return Math.min(1, Math.max(0, z));
        }
    }

    private static double dot(double[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static float[] codesOf(AddAttention a) {
        return a.lastEncoding().codes().toFloats();
    }

    @Test
    void forwardMatchesIndependentDoubleImplementation() {
        for (AddAttention.Options opt : new AddAttention.Options[]{SMALL_KSH, SMALL_SIGN}) {
            SplittableRandom rng = new SplittableRandom(1);
            AddAttention a = new AddAttention("attn", 12, 3, true, opt, rng);
            Tensor x = GradCheck.randn(rng, 1f, 2, 11, 12);
            if (a.hash() != null) a.trainHash(x);
            Tensor y = a.forward(x, false);
            if (a.hash() != null) assertTrue(a.hash().isTrained());
            Ref ref = new Ref(a);
            float[] codes = new float[2 * 3 * 11 * ref.r];
            double[] z = new double[codes.length];
            double[] yr = ref.forward(Ref.dbl(x.data()), 2, 11, null, null, codes, z);
            float[] got = codesOf(a);
            for (int i = 0; i < codes.length; i++) {
                double margin = opt.codes() == AddAttention.CodeKind.KSH ? z[i] : z[i] - ref.lastMean;
                if (Math.abs(margin) > 1e-5) assertEquals(codes[i], got[i], opt.codes() + " code " + i);
            }
            double maxAbs = 0;
            for (double v : yr) maxAbs = Math.max(maxAbs, Math.abs(v));
            for (int i = 0; i < yr.length; i++) assertEquals(yr[i], y.data()[i], 1e-4 * maxAbs, opt.codes() + " y[" + i + "]");
        }
    }

    /** Every gradient, in double finite differences of the STE surrogate at the layer's codes. */
    private static void checkAllGradients(AddAttention.Options opt, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int batch = 2, n = 11, c = 8;
        AddAttention a = new AddAttention("attn", c, 2, true, opt, rng);
        Tensor x = GradCheck.randn(rng, 1f, batch, n, c);
        if (a.hash() != null) {
            a.trainHash(x);
            float[] ap = a.hash().projection().data();
            for (int i = 0; i < ap.length; i++) ap[i] *= 4f;   // more pre-activations inside (0, 1)
        }
        Tensor y = a.forward(x, true);
        Tensor dy = GradCheck.randn(rng, 1f, y.shape());
        for (Parameter p : a.parameters()) p.zeroGrad();
        float[] b0 = codesOf(a);
        long[] mask = a.lastEncoding().steMask();
        int passing = 0;
        for (long w : mask) passing += Long.bitCount(w);
        assertTrue(passing > 10, "too few STE-passing codes for a meaningful check: " + passing);
        Tensor dx = a.backward(dy);

        Ref ref = new Ref(a);
        double[] xd = Ref.dbl(x.data());
        double[] z0 = new double[b0.length];
        ref.forward(xd, batch, n, null, null, null, z0);
        record Target(String name, double[] values, float[] analytic) {
        }
        List<Target> targets = List.of(
                new Target("input", xd, dx.data()),
                new Target("qk.weight", ref.wqk, ((Linear) a.qk()).weight().grad().data()),
                new Target("qk.bias", ref.bqk, ((Linear) a.qk()).bias().grad().data()),
                new Target("v.weight", ref.wv, ((Linear) a.v()).weight().grad().data()),
                new Target("v.bias", ref.bv, ((Linear) a.v()).bias().grad().data()),
                new Target("dwconv.weight", ref.wdw, a.dwconvWeight().grad().data()),
                new Target("proj.weight", ref.wp, ((Linear) a.proj()).weight().grad().data()),
                new Target("proj.bias", ref.bp, ((Linear) a.proj()).bias().grad().data()));
        for (Target t : targets) {
            double maxAbs = 0;
            for (float g : t.analytic()) maxAbs = Math.max(maxAbs, Math.abs(g));
            assertTrue(maxAbs > 0, t.name() + " has an all-zero gradient");
            for (int i = 0; i < t.values().length; i++) {
                double h = 1e-6;
                double old = t.values()[i];
                t.values()[i] = old + h;
                double lp = dot(ref.forward(xd, batch, n, b0, z0, null, null), dy.data());
                t.values()[i] = old - h;
                double lm = dot(ref.forward(xd, batch, n, b0, z0, null, null), dy.data());
                t.values()[i] = old;
                double num = (lp - lm) / (2 * h);
                assertEquals(num, t.analytic()[i], 3e-3 * maxAbs + 1e-5,
                        opt.codes() + " " + t.name() + "[" + i + "] (max |g| " + maxAbs + ")");
            }
        }
    }

    @Test
    void kshGradientsIncludingStraightThroughMatchTheSurrogate() {
        checkAllGradients(SMALL_KSH, 2);
    }

    @Test
    void signCodeGradientsIncludingStraightThroughMatchTheSurrogate() {
        checkAllGradients(SMALL_SIGN, 3);
    }

    @Test
    void gradCheckWithFrozenCodes() {
        for (AddAttention.Options opt : new AddAttention.Options[]{SMALL_KSH, SMALL_SIGN}) {
            SplittableRandom rng = new SplittableRandom(4);
            AddAttention a = new AddAttention("attn", 8, 2, true, opt, rng);
            // O(1) weights: with the default 0.02 init, GradCheck's step (≥ 1e-2) is a large relative
            // change of V and the row normalisation of U is far from linear over it
            for (Parameter p : a.parameters()) {
                float[] v = p.value().data();
                for (int i = 0; i < v.length; i++) v[i] = (float) (0.5 * Init.gaussian(rng));
            }
            a.freezeCodes(true);
            Tensor x = GradCheck.randn(rng, 1f, 2, 10, 8);
            if (a.hash() != null) a.trainHash(x);
            GradCheck.check(a, x, true, 40, 2e-2, 5);
        }
    }

    @Test
    void forwardOnAnUntrainedHashIsRefusedWithTheLayersNameAndTrainsNothing() {
        SplittableRandom rng = new SplittableRandom(12);
        AddAttention a = new AddAttention("stages.1.blocks.0.attn", 8, 2, true, SMALL_KSH, rng);
        Tensor x = GradCheck.randn(rng, 1f, 2, 9, 8);
        for (boolean training : new boolean[]{false, true}) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.forward(x, training));
            assertTrue(e.getMessage().contains("stages.1.blocks.0.attn"), e.getMessage());
            assertTrue(e.getMessage().contains("Reparam.trainHashes"), e.getMessage());
        }
        assertFalse(a.hash().isTrained());
        a.trainHash(x);
        assertArrayEquals(new int[]{2, 9, 8}, a.forward(x, false).shape());
        // sign codes have no state to train: their first forward runs
        AddAttention sign = new AddAttention("s", 8, 2, true, SMALL_SIGN, rng);
        assertArrayEquals(new int[]{2, 9, 8}, sign.forward(x, false).shape());
    }

    @Test
    void zeroRowsGiveNoNaN() {
        SplittableRandom rng = new SplittableRandom(6);
        AddAttention a = new AddAttention("attn", 8, 2, true, SMALL_KSH, rng);
        Tensor x = GradCheck.randn(rng, 1f, 2, 9, 8);
        a.trainHash(x);
        // zero qk rows for head 0 and zero values everywhere: ‖qk‖ = 0 and ‖U‖ = 0
        float[] w = ((Linear) a.qk()).weight().value().data();
        for (int o = 0; o < 4; o++) {
            for (int i = 0; i < 8; i++) w[o * 8 + i] = 0f;
            ((Linear) a.qk()).bias().value().data()[o] = 0f;
        }
        ((Linear) a.v()).weight().value().fill(0f);
        ((Linear) a.v()).bias().value().fill(0f);
        Tensor y = a.forward(x, true);
        Tensor dx = a.backward(GradCheck.randn(rng, 1f, y.shape()));
        for (float f : y.data()) assertFalse(Float.isNaN(f));
        for (float f : dx.data()) assertFalse(Float.isNaN(f));
        for (Parameter p : a.parameters()) for (float f : p.grad().data()) assertFalse(Float.isNaN(f), p.name());
    }

    @Test
    void fromSelfAttentionCopiesQueryValueAndProjection() {
        SplittableRandom rng = new SplittableRandom(7);
        int c = 12;
        SelfAttention dense = new SelfAttention("blocks.3.attn", c, 3, true, rng);
        for (Parameter p : dense.parameters()) {
            float[] v = p.value().data();
            for (int i = 0; i < v.length; i++) v[i] = (float) Init.gaussian(rng);
        }
        AddAttention a = AddAttention.fromSelfAttention(dense, 3, AddAttention.Options.DEFAULT, rng);
        assertEquals("blocks.3.attn", a.name());
        assertEquals(List.of("blocks.3.attn.qk.weight", "blocks.3.attn.qk.bias", "blocks.3.attn.v.weight",
                        "blocks.3.attn.v.bias", "blocks.3.attn.dwconv.weight", "blocks.3.attn.proj.weight",
                        "blocks.3.attn.proj.bias"),
                a.parameters().stream().map(Parameter::name).toList());
        assertArrayEquals(new int[]{3, 1, 9, 1}, a.dwconvWeight().value().shape());
        float[] w = dense.qkv().weight().value().data();
        float[] b = dense.qkv().bias().value().data();
        assertArrayEquals(java.util.Arrays.copyOfRange(w, 0, c * c), ((Linear) a.qk()).weight().value().data());
        assertArrayEquals(java.util.Arrays.copyOfRange(b, 0, c), ((Linear) a.qk()).bias().value().data());
        assertArrayEquals(java.util.Arrays.copyOfRange(w, 2 * c * c, 3 * c * c), ((Linear) a.v()).weight().value().data());
        assertArrayEquals(java.util.Arrays.copyOfRange(b, 2 * c, 3 * c), ((Linear) a.v()).bias().value().data());
        assertArrayEquals(dense.proj().weight().value().data(), ((Linear) a.proj()).weight().value().data());
        assertArrayEquals(dense.proj().bias().value().data(), ((Linear) a.proj()).bias().value().data());
        assertEquals(16, a.codeBits());

        AddAttention mean = AddAttention.fromSelfAttention(dense, 3, AddAttention.Options.DEFAULT,
                AddAttention.QkInit.MEAN, rng);
        for (int i = 0; i < c * c; i++) {
            assertEquals(0.5f * (w[i] + w[c * c + i]), ((Linear) mean.qk()).weight().value().data()[i]);
        }
        for (int i = 0; i < c; i++) assertEquals(0.5f * (b[i] + b[c + i]), ((Linear) mean.qk()).bias().value().data()[i]);
    }

    @Test
    void fromSpatialReductionAttentionMapsQToQkAndKvValuesToV() {
        SplittableRandom rng = new SplittableRandom(8);
        int c = 8;
        SpatialReductionAttention dense = new SpatialReductionAttention("stages.0.blocks.1.attn", c, 2, 4, 4, 2, true, rng);
        for (Parameter p : dense.parameters()) {
            float[] v = p.value().data();
            for (int i = 0; i < v.length; i++) v[i] = (float) Init.gaussian(rng);
        }
        AddAttention a = AddAttention.fromSpatialReductionAttention(dense, 2, SMALL_KSH, rng);
        assertEquals("stages.0.blocks.1.attn", a.name());
        assertArrayEquals(dense.q().weight().value().data(), ((Linear) a.qk()).weight().value().data());
        assertArrayEquals(dense.q().bias().value().data(), ((Linear) a.qk()).bias().value().data());
        float[] kv = dense.kv().weight().value().data();
        assertArrayEquals(java.util.Arrays.copyOfRange(kv, c * c, 2 * c * c), ((Linear) a.v()).weight().value().data());
        assertArrayEquals(java.util.Arrays.copyOfRange(dense.kv().bias().value().data(), c, 2 * c),
                ((Linear) a.v()).bias().value().data());
        assertArrayEquals(dense.proj().weight().value().data(), ((Linear) a.proj()).weight().value().data());
        Tensor x = GradCheck.randn(rng, 1f, 2, 16, c);
        a.trainHash(x);
        Tensor y = a.forward(x, false);
        assertArrayEquals(new int[]{2, 16, c}, y.shape());
    }

    @Test
    void buffersRoundTripReproducesOutputs() {
        SplittableRandom rng = new SplittableRandom(9);
        AddAttention a = new AddAttention("blocks.0.attn", 8, 2, true, SMALL_KSH, rng);
        Tensor x = GradCheck.randn(rng, 1f, 2, 12, 8);
        KshTraining.TrainReport rep = a.trainHash(x, new SplittableRandom(10));
        assertEquals(8, rep.initialLoss().length);
        Tensor y = a.forward(x, false);
        Map<String, Tensor> buf = a.buffers();
        assertEquals(List.of("blocks.0.attn.hash.A", "blocks.0.attn.hash.mu", "blocks.0.attn.hash.anchors"),
                List.copyOf(buf.keySet()));
        AddAttention b = new AddAttention("blocks.0.attn", 8, 2, true, SMALL_KSH, new SplittableRandom(11));
        for (int i = 0; i < a.parameters().size(); i++) {
            float[] src = a.parameters().get(i).value().data();
            System.arraycopy(src, 0, b.parameters().get(i).value().data(), 0, src.length);
        }
        b.loadBuffers(buf);
        assertTrue(b.hash().isTrained());
        assertArrayEquals(y.data(), b.forward(x, false).data());
        // and the codes are a function of the input only (per image): same codes for image 1 alone
        BitCodes all = a.lastEncoding().codes();
        a.forward(Tensor.of(java.util.Arrays.copyOfRange(x.data(), 12 * 8, 24 * 8), 1, 12, 8), false);
        BitCodes one = a.lastEncoding().codes();
        for (int i = 0; i < 2 * 12; i++) assertEquals(all.tokenWords()[2 * 12 + i], one.tokenWords()[i]);
        assertTrue(new AddAttention("s", 8, 2, true, SMALL_SIGN, rng).buffers().isEmpty());
    }
}
