package dev.shiftaddvit.parity;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.PvtV1Config;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.VitConfig;
import dev.shiftaddvit.nn.Block;
import dev.shiftaddvit.nn.Layer;
import dev.shiftaddvit.nn.LayerNorm;
import dev.shiftaddvit.nn.Mlp;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.nn.SelfAttention;
import dev.shiftaddvit.nn.SpatialReductionAttention;
import dev.shiftaddvit.tensor.Tensor;
import dev.shiftaddvit.train.AdamW;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our blocks and whole models against an independent libtorch implementation (DJL, test scope) on
 * identical weights: forward outputs, input gradients and every parameter gradient of loss = Σ r⊙y
 * agree to a relative error ||ours − torch|| / ||torch|| ≤ 1e-4 per tensor. libtorch is loaded
 * offline from the jars on the class path; if it cannot load, these tests fail (they never skip).
 */
class TorchParityTest {
    private static final double TOL = 1e-4;
    private static Engine engine;
    private static double worstRel;
    private static String worstName = "none";

    @BeforeAll
    static void loadLibtorch() {
        engine = TorchEngine.get();
        System.out.println("TorchParityTest: " + TorchEngine.describe());
    }

    @Test
    void vitBlockForwardAndGradientsMatchLibtorch() {
        SplittableRandom rng = new SplittableRandom(11);
        int d = 32;
        int heads = 4;
        float eps = 1e-6f;
        Block block = new Block(new LayerNorm("blk.norm1", d, eps), new SelfAttention("blk.attn", d, heads, true, rng),
                new LayerNorm("blk.norm2", d, eps), new Mlp("blk.mlp", d, 2 * d, 0, 0, rng));
        checkLayer("ViT block", block, randn(rng, 1.0, 2, 17, d), rng,
                (p, x) -> TorchBlocks.vitBlock(p, "blk", x, heads, eps));
    }

    @Test
    void pvtV2BlockForwardAndGradientsMatchLibtorch() {
        SplittableRandom rng = new SplittableRandom(12);
        int d = 32, heads = 2, grid = 6, sr = 2;
        Block block = new Block(new LayerNorm("blk.norm1", d, 1e-6f),
                new SpatialReductionAttention("blk.attn", d, heads, grid, grid, sr, true, rng),
                new LayerNorm("blk.norm2", d, 1e-6f), new Mlp("blk.mlp", d, 4 * d, grid, grid, rng));
        checkLayer("PVTv2 block", block, randn(rng, 1.0, 2, grid * grid, d), rng,
                (p, x) -> TorchBlocks.pvtBlock(p, "blk", x, heads, grid, sr));
    }

    @Test
    void vitWithClassTokenLogitsAndGradientsMatchLibtorch() {
        VitConfig c = VitConfig.builder("parity_vit").imgSize(16).patchSize(4).inChans(1).numClasses(10)
                .embedDim(32).depth(2).heads(4).mlpRatio(2.0).qkvBias(true).classToken(true).eps(1e-6f).mean(0f)
                .std(1f).build();
        checkModel(c.build(21), new SplittableRandom(21), 3);
    }

    @Test
    void vitWithMeanPoolingLogitsAndGradientsMatchLibtorch() {
        VitConfig c = VitConfig.builder("parity_vit_gap").imgSize(16).patchSize(4).inChans(1).numClasses(10)
                .embedDim(32).depth(1).heads(2).mlpRatio(2.0).qkvBias(true).classToken(false).eps(1e-6f).mean(0f)
                .std(1f).build();
        checkModel(c.build(22), new SplittableRandom(22), 3);
    }

    @Test
    void pvtV2LogitsAndGradientsMatchLibtorch() {
        PvtV2Config c = PvtV2Config.builder("parity_pvt_v2").imgSize(28).inChans(1).numClasses(10).embedDims(16, 32)
                .heads(1, 2).mlpRatios(4, 4).srRatios(2, 1).depths(1, 2).stemKernel(3).stemStride(2).qkvBias(true)
                .mean(0f).std(1f).build();
        checkModel(c.build(23), new SplittableRandom(23), 3);
    }

    @Test
    void pvtV1LogitsAndGradientsMatchLibtorch() {
        // Three stages on 16×16: grids 4, 2, 1; the last stage attends over its token and the class token.
        PvtV1Config c = PvtV1Config.builder("parity_pvt_v1").imgSize(16).patchSize(4).inChans(1).numClasses(10)
                .embedDims(16, 16, 32).heads(1, 2, 2).mlpRatios(2, 2, 2).srRatios(2, 1, 1).depths(1, 1, 2)
                .qkvBias(true).mean(0f).std(1f).build();
        checkModel(c.build(25), new SplittableRandom(25), 3);
    }

    /** The benchmark's libtorch optimizer does the same update as ours, given the same gradients. */
    @Test
    void adamWUpdateMatchesOurOptimizer() {
        PvtV2Config c = PvtV2Config.builder("parity_adamw").imgSize(8).inChans(1).numClasses(3).embedDims(8)
                .heads(2).mlpRatios(2).srRatios(2).depths(1).stemKernel(3).stemStride(2).qkvBias(true).mean(0f)
                .std(1f).build();
        Model model = c.build(24);
        SplittableRandom rng = new SplittableRandom(24);
        randomizeParameters(model.parameters(), rng);
        List<Parameter> params = model.parameters();
        for (Parameter p : params) {
            for (int i = 0; i < p.grad().size(); i++) p.grad().data()[i] = (float) (gaussian(rng) * 0.1);
        }
        try (NDManager m = engine.newBaseManager()) {
            TorchParams tp = TorchParams.copyOf(m, params);
            Map<String, float[]> before = new LinkedHashMap<>();
            for (Parameter p : params) before.put(p.name(), p.value().data().clone());
            AdamW ours = new AdamW(params, 0.9f, 0.999f, 1e-8f, 0.05f);
            TorchAdamW theirs = new TorchAdamW(tp, 0.9f, 0.999f, 1e-8f, 0.05f);
            for (int step = 0; step < 2; step++) {
                ours.step(1e-3f);
                // loss = Σ w ⊙ G gives libtorch exactly our gradients G.
                try (GradientCollector gc = engine.newGradientCollector()) {
                    NDArray loss = null;
                    for (Parameter p : params) {
                        NDArray g = m.create(p.grad().data(), TorchParams.shape(p.grad().shape()));
                        NDArray term = tp.get(p.name()).mul(g).sum();
                        loss = loss == null ? term : loss.add(term);
                    }
                    gc.backward(loss);
                }
                theirs.step(1e-3f);
            }
            List<String> failures = new ArrayList<>();
            for (Parameter p : params) {
                double[] a = delta(p.value().data(), before.get(p.name()));
                double[] b = delta(tp.get(p.name()).toFloatArray(), before.get(p.name()));
                compare("update of " + p.name(), a, b, failures);
            }
            report("AdamW", failures);
        }
    }

    // ---------------------------------------------------------------------------------------------

    private static void checkLayer(String what, Layer ours, Tensor x, SplittableRandom rng,
                                   BiFunction<TorchParams, NDArray, NDArray> reference) {
        List<Parameter> params = ours.parameters();
        randomizeParameters(params, rng);
        for (Parameter p : params) p.zeroGrad();
        Tensor y = ours.forward(x.copy(), true);
        Tensor r = randn(rng, 1.0, y.shape());
        Tensor dx = ours.backward(r.copy());
        try (NDManager m = engine.newBaseManager()) {
            TorchParams tp = TorchParams.copyOf(m, params);
            NDArray xt = m.create(x.data().clone(), TorchParams.shape(x.shape()));
            xt.setRequiresGradient(true);
            NDArray yt;
            try (GradientCollector gc = engine.newGradientCollector()) {
                yt = reference.apply(tp, xt);
                gc.backward(yt.mul(m.create(r.data(), TorchParams.shape(r.shape()))).sum());
            }
            List<String> failures = new ArrayList<>();
            compare("output", y, yt, failures);
            compare("input gradient", dx, xt.getGradient(), failures);
            compareParameterGradients(params, tp, failures);
            report(what, failures);
        }
    }

    private static void checkModel(Model model, SplittableRandom rng, int batch) {
        List<Parameter> params = model.parameters();
        randomizeParameters(params, rng);
        for (Parameter p : params) p.zeroGrad();
        int s = model.config().imgSize();
        Tensor images = randn(rng, 1.0, batch, s, s, model.config().inChans());
        Tensor logits = model.forward(images.copy(), true);
        Tensor r = randn(rng, 1.0, logits.shape());
        model.backward(r.copy());
        try (NDManager m = engine.newBaseManager()) {
            TorchModel ref = TorchModel.of(model, m);
            NDArray xt = m.create(images.data().clone(), TorchParams.shape(images.shape()));
            NDArray lt;
            try (GradientCollector gc = engine.newGradientCollector()) {
                lt = ref.forward(xt);
                gc.backward(lt.mul(m.create(r.data(), TorchParams.shape(r.shape()))).sum());
            }
            List<String> failures = new ArrayList<>();
            compare("logits", logits, lt, failures);
            compareParameterGradients(params, ref.params(), failures);
            report(model.config().name(), failures);
        }
    }

    private static void compareParameterGradients(List<Parameter> params, TorchParams tp, List<String> failures) {
        if (tp.all().size() != params.size()) {
            failures.add("parameter count: ours " + params.size() + " vs reference " + tp.all().size());
        }
        for (Parameter p : params) {
            NDArray t = tp.get(p.name());
            if (!t.hasGradient()) {
                failures.add("gradient of " + p.name() + ": the reference never used this parameter");
                continue;
            }
            compare("gradient of " + p.name(), p.grad(), t.getGradient(), failures);
        }
    }

    private static void compare(String name, Tensor ours, NDArray torch, List<String> failures) {
        long[] ts = torch.getShape().getShape();
        int[] os = ours.shape();
        boolean same = ts.length == os.length;
        for (int i = 0; same && i < os.length; i++) same = ts[i] == os[i];
        if (!same) {
            failures.add(name + ": shape ours " + Arrays.toString(os) + " vs libtorch " + torch.getShape());
            return;
        }
        float[] a = ours.data();
        float[] b = torch.toFloatArray();
        double[] ad = new double[a.length];
        double[] bd = new double[b.length];
        for (int i = 0; i < a.length; i++) {
            ad[i] = a[i];
            bd[i] = b[i];
        }
        compare(name, ad, bd, failures);
    }

    /** Relative error ||a − b|| / max(||b||, tiny), in double; records a message when above TOL. */
    private static void compare(String name, double[] a, double[] b, List<String> failures) {
        if (a.length != b.length) {
            failures.add(name + ": " + a.length + " vs " + b.length + " elements");
            return;
        }
        double diff = 0;
        double ref = 0;
        double worst = -1;
        int at = -1;
        boolean finite = true;
        for (int i = 0; i < a.length; i++) {
            double e = a[i] - b[i];
            diff += e * e;
            ref += b[i] * b[i];
            finite &= Double.isFinite(a[i]) && Double.isFinite(b[i]);
            if (Math.abs(e) > worst) {
                worst = Math.abs(e);
                at = i;
            }
        }
        double rel = Math.sqrt(diff) / Math.max(Math.sqrt(ref), 1e-30);
        if (rel > worstRel) {
            worstRel = rel;
            worstName = name;
        }
        if (!finite || !(rel <= TOL)) {
            failures.add(String.format("%s: relative error %.3e > %.0e (||torch|| %.4e, worst element [%d]: ours %.7g"
                    + " vs torch %.7g)", name, rel, TOL, Math.sqrt(ref), at, a[at], b[at]));
        }
    }

    private static void report(String what, List<String> failures) {
        System.out.printf("TorchParityTest: %s: largest relative error %.2e (%s)%n", what, worstRel, worstName);
        worstRel = 0;
        worstName = "none";
        assertTrue(failures.isEmpty(), () -> what + " differs from libtorch in " + failures.size() + " tensor(s):\n  "
                + String.join("\n  ", failures));
    }

    private static double[] delta(float[] after, float[] before) {
        double[] d = new double[after.length];
        for (int i = 0; i < d.length; i++) d[i] = (double) after[i] - before[i];
        return d;
    }

    /**
     * Gives every parameter a distinct non-trivial value (biases and norm shifts non-zero, norm scales
     * away from one, weights with unit-variance outputs so attention is far from uniform).
     */
    static void randomizeParameters(List<Parameter> params, SplittableRandom rng) {
        for (Parameter p : params) {
            float[] v = p.value().data();
            int[] shape = p.value().shape();
            String n = p.name();
            for (int i = 0; i < v.length; i++) {
                double g = gaussian(rng);
                if (n.equals("cls_token") || n.equals("pos_embed")) {
                    v[i] = (float) (0.5 * g);
                } else if (shape.length == 1 && n.endsWith(".weight")) {
                    v[i] = (float) (1.0 + 0.1 * g);
                } else if (shape.length == 1) {
                    v[i] = (float) (0.1 * g);
                } else {
                    v[i] = (float) (g / Math.sqrt((double) v.length / shape[0]));
                }
            }
        }
    }

    static Tensor randn(SplittableRandom rng, double scale, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) t.data()[i] = (float) (gaussian(rng) * scale);
        return t;
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = 1.0 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }
}
