package dev.shiftaddvit.model;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.checkpoint.DeployFile;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.eval.Evaluator;
import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.io.SafetensorsFile;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.shiftadd.ShiftKernel;
import dev.shiftaddvit.shiftadd.ShiftCodeBits;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The deployed model (Shift experts on integer MatShift) against the float simulation it came from, and the
 * deploy file's round trip.
 */
class DeployTest {
    /**
     * Bound on max |Δlogit| between a random converted pvt_v2_fmnist, deployed, and its float simulation on 96
     * sample images. MatShift rounds each term x·2^shift to the 2^-16 grid once, so a Shift expert output
     * moves by less than nnz·2^-16 (nnz ≤ in ≤ 512 here: < 7.8e-3; typically about √nnz·2^-16, as the rounding
     * errors of positive and negative weights have opposite signs), plus the simulation's float rounding; the
     * layers after it carry that to the logits, and where it flips a router's choice or a hash bit the change
     * is discrete. Measured: 3.1e-4 (routed) and 3.0e-4 (every token on Shift), so the bound leaves 30×.
     */
    static final double LOGIT_TOLERANCE = 1e-2;

    private static Model model;
    private static BatchSource data;

    @BeforeAll
    static void convert() {
        model = converted(7);
        data = new BatchSource(FashionMnist.bundledSample().subset(0, 96), model.config().mean(), model.config().std());
    }

    /** pvt_v2_fmnist with add-attention (hashes trained on sample images) and MoE in every convertible layer. */
    static Model converted(long seed) {
        return converted(seed, MoeLinear.DEFAULT_MODE);
    }

    private static Model converted(long seed, MoeLinear.GateMode mode) {
        SplittableRandom rng = new SplittableRandom(seed);
        Model m = Configs.byName("pvt_v2_fmnist").build(seed);
        Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, rng);
        BatchSource hash = new BatchSource(FashionMnist.bundledSample().subset(100, 164), m.config().mean(),
                m.config().std());
        Reparam.trainHashes(m, hash.sequential(0, 64).images());
        Reparam.toMoe(m, new Reparam.MoeOptions(true, true, mode, 0.01f, new float[]{0.5f, 0.5f}, 4), rng);
        return m;
    }

    @Test
    void deployedLogitsMatchTheSimulationAndPredictTheSameClass(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.safetensors");
        Checkpoints.save(file, model, null, Map.of());
        Model simulated = Checkpoints.load(file).model();
        Model deployed = Checkpoints.load(file).model();
        assertEquals(Reparam.moeLayers(deployed).size(), Deploy.freeze(deployed));
        double maxDiff = compare(simulated, deployed);
        long shiftTokens = 0;
        for (MoeLinear l : Reparam.moeLayers(deployed)) {
            assertTrue(l.isDeployed());
            shiftTokens += l.tokensPerExpert()[MoeLinear.SHIFT];
        }
        System.out.printf("deployed vs simulated (random pvt_v2_fmnist, %d images, %d Shift tokens): max |dlogit| %.3g%n",
                data.size(), shiftTokens, maxDiff);
        assertTrue(shiftTokens > 0, "the routers send tokens to the Shift experts");
        if (ShiftKernel.selected() == ShiftKernel.GEMM) {
            assertEquals(0.0, maxDiff, "the shift weights on the FMA unit are the simulation's own product");
        } else {
            assertTrue(maxDiff > 0, "the shift kernels sum in their own order (exponent) or round each term (fixed)");
        }
    }

    /**
     * Max |Δlogit| of two models over the data, asserting it is below {@link #LOGIT_TOLERANCE} and that the top-1
     * class changes on at most 1 image in 20: a flip needs a margin below 2·|Δ|, and a random model's logits lie
     * close together (1 of the 96 images flips with every token on Shift).
     */
    private static double compare(Model simulated, Model deployed) {
        int classes = simulated.config().numClasses();
        double maxDiff = 0;
        int differing = 0;
        for (int i = 0; i * 32 < data.size(); i++) {
            Tensor x = data.sequential(i, 32).images();
            float[] ys = simulated.forward(x, false).data();
            float[] yd = deployed.forward(x, false).data();
            for (int off = 0; off < ys.length; off += classes) {
                for (int c = off; c < off + classes; c++) maxDiff = Math.max(maxDiff, Math.abs(ys[c] - yd[c]));
                int a = Evaluator.argmax(ys, off, classes);
                int b = Evaluator.argmax(yd, off, classes);
                if (a != b) differing++;
            }
        }
        assertTrue(maxDiff < LOGIT_TOLERANCE, "max |dlogit| " + maxDiff);
        assertTrue(differing <= data.size() / 20, differing + " images change their top-1");
        return maxDiff;
    }

    @Test
    void shiftOnlyLayersLeaveRouterAndMultOutOfTheFileAndRunTheShiftExpertAlone(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("c.safetensors");
        Checkpoints.save(ckpt, model, null, Map.of());
        Model source = Checkpoints.load(ckpt).model();
        Deploy.freeze(source);
        Deploy.resetRouting(source);
        for (int i = 0; i < 2; i++) source.forward(data.sequential(i, 32).images(), false);
        List<Deploy.LayerRouting> routing = Deploy.routing(source);
        // the layer with the largest Shift share goes shift-only, at least one other keeps its router
        double top = routing.stream().mapToDouble(Deploy.LayerRouting::shiftShare).max().orElseThrow();
        assertTrue(top > 0, "some layer sends tokens to Shift");
        List<String> dropped = Deploy.shiftOnly(source, routing, top);
        assertFalse(dropped.isEmpty());
        assertTrue(dropped.size() < routing.size(), "some layer keeps its router");
        Path file = dir.resolve("d.safetensors");
        DeployFile.save(file, source, Map.of());
        try (SafetensorsFile f = Safetensors.read(file)) {
            assertEquals(String.join(",", dropped), f.metadata().get(CheckpointKeys.DEPLOY_SHIFT_ONLY));
            for (MoeLinear l : Reparam.moeLayers(source)) {
                boolean only = dropped.contains(l.name());
                assertEquals(!only, f.contains(l.name() + ".gate.gate.weight"), l.name() + " router");
                assertEquals(!only, f.contains(l.name() + ".experts.0.weight"), l.name() + " Mult expert");
                assertTrue(f.contains(DeployFile.codesName(l.name())), l.name() + " codes");
            }
        }
        Model deployed = Checkpoints.load(file).model();
        Model simulated = DeployFile.loadSimulated(file).model();
        for (MoeLinear l : Reparam.moeLayers(deployed)) assertEquals(dropped.contains(l.name()), l.isShiftOnly());
        Tensor x = data.sequential(0, 32).images();
        for (Model m : List.of(source, deployed, simulated)) m.forward(x, false);
        float[] expected = source.forward(x, false).data();
        assertArrayEquals(expected, deployed.forward(x, false).data(), 0f, "in memory and loaded");
        for (MoeLinear l : Reparam.moeLayers(deployed)) {
            if (l.isShiftOnly()) assertEquals(0, l.lastTokensPerExpert()[MoeLinear.MULT], l.name());
        }
        float[] sim = simulated.forward(x, false).data();
        double bound = ShiftKernel.selected() == ShiftKernel.GEMM ? 0 : LOGIT_TOLERANCE;
        for (int i = 0; i < sim.length; i++) assertEquals(sim[i], expected[i], bound, "simulation at " + i);
    }

    @Test
    void probabilityGatedLayersAreRefusedShiftOnlyBeforeAnyLayerChanges() {
        Model m = converted(5, MoeLinear.GateMode.PROBABILITY);
        List<Deploy.LayerRouting> everyLayerOnShift = Reparam.moeLayers(m).stream()
                .map(l -> new Deploy.LayerRouting(l.name(), 0, 1)).toList();
        var e = assertThrows(IllegalArgumentException.class, () -> Deploy.shiftOnly(m, everyLayerOnShift, 1));
        assertTrue(e.getMessage().contains("gates by probability"), e.getMessage());
        for (MoeLinear l : Reparam.moeLayers(m)) assertFalse(l.isShiftOnly() || l.isDeployed(), l.name());
    }

    @Test
    void aShiftOnlyListNamingNoMoeLayerOrAFileThatKeepsTheRouterIsRefused(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("c.safetensors");
        Checkpoints.save(ckpt, model, null, Map.of());
        Model source = Checkpoints.load(ckpt).model();
        String layer = Reparam.moeLayers(source).get(0).name();
        Path file = dir.resolve("d.safetensors");
        DeployFile.save(file, source, Map.of());
        Path unknown = withShiftOnly(file, dir.resolve("u.safetensors"), "head");
        var e = assertThrows(InvalidInputException.class, () -> Checkpoints.load(unknown));
        assertTrue(e.getMessage().contains("head") && e.getMessage().contains("not a Mult/Shift layer"), e.getMessage());
        Path twice = withShiftOnly(file, dir.resolve("t.safetensors"), "head,head");
        e = assertThrows(InvalidInputException.class, () -> Checkpoints.load(twice));
        assertTrue(e.getMessage().contains("head") && e.getMessage().contains("not a Mult/Shift layer"), e.getMessage());
        Path kept = withShiftOnly(file, dir.resolve("k.safetensors"), layer);
        e = assertThrows(InvalidInputException.class, () -> Checkpoints.load(kept));
        assertTrue(e.getMessage().contains(layer + " is listed as shift-only but the file holds"), e.getMessage());
    }

    /** A copy of a deploy file whose metadata lists {@code layers} as shift-only. */
    private static Path withShiftOnly(Path from, Path to, String layers) throws Exception {
        try (SafetensorsFile f = Safetensors.read(from)) {
            Map<String, String> meta = new java.util.LinkedHashMap<>(f.metadata());
            meta.put(CheckpointKeys.DEPLOY_SHIFT_ONLY, layers);
            Safetensors.Writer w = Safetensors.writer().metadata(meta);
            for (String name : f.names()) {
                Safetensors.Entry entry = f.entry(name);
                if (entry.type() == Safetensors.Dtype.U8) w.addRaw(name, entry.dtype(), entry.shape(), f.rawBytes(name));
                else w.add(name, f.tensor(name));
            }
            w.write(to);
        }
        return to;
    }

    @Test
    void everyTokenOnTheShiftExpertStaysWithinTheTolerance(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.safetensors");
        Checkpoints.save(file, model, null, Map.of());
        Model simulated = Checkpoints.load(file).model();
        Model deployed = Checkpoints.load(file).model();
        Deploy.freeze(deployed);
        for (Model m : List.of(simulated, deployed)) {
            for (MoeLinear l : Reparam.moeLayers(m)) l.forceExpert(MoeLinear.SHIFT);
        }
        System.out.printf("all tokens on Shift: max |dlogit| %.3g%n", compare(simulated, deployed));
    }

    @Test
    void roundTripKeepsTheStateTheCodesAndTheDeployedLogitsBitForBit(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("c.safetensors");
        Checkpoints.save(ckpt, model, null, Map.of());
        Model source = Checkpoints.load(ckpt).model();
        Deploy.freeze(source);
        Path file = dir.resolve("d.safetensors");
        DeployFile.save(file, source, Map.of("note", "test"));
        Checkpoints.Loaded back = Checkpoints.load(file);
        assertTrue(DeployFile.isDeployFile(back.metadata()));
        assertEquals("test", back.metadata().get("note"));
        assertTrue(back.extras().isEmpty(), back.extras().keySet().toString());
        List<MoeLinear> src = Reparam.moeLayers(source);
        List<MoeLinear> dst = Reparam.moeLayers(back.model());
        assertEquals(src.size(), dst.size());
        for (int i = 0; i < src.size(); i++) {
            assertTrue(dst.get(i).isDeployed());
            assertArrayEquals(src.get(i).shift().codes(), dst.get(i).deployedShift().codes(), src.get(i).name());
            assertArrayEquals(src.get(i).shift().codes(), dst.get(i).shift().codes());
        }
        // Everything but the float shift/sign (stored as codes) comes back bit for bit.
        var named = back.model().namedParameters();
        for (var p : source.namedParameters().entrySet()) {
            if (p.getKey().endsWith(".experts.1.shift") || p.getKey().endsWith(".experts.1.sign")) continue;
            assertArrayEquals(p.getValue().value().data(), named.get(p.getKey()).value().data(), p.getKey());
        }
        for (var b : source.buffers().entrySet()) {
            assertArrayEquals(b.getValue().data(), back.model().buffers().get(b.getKey()).data(), b.getKey());
        }
        // One forward each first: the float layers' vector lane reductions may change order when C2 compiles
        // them (a model's first forward was seen 1.3e-5 off its later ones), and the comparison is bitwise.
        Tensor x = data.sequential(0, 32).images();
        source.forward(x, false);
        back.model().forward(x, false);
        assertArrayEquals(source.forward(x, false).data(), back.model().forward(x, false).data(), 0f);
        // Saving the loaded model again gives the same file.
        Path again = dir.resolve("again.safetensors");
        DeployFile.save(again, back.model(), Map.of("note", "test"));
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again));
        // The simulated form of the file is the float model of the same codes.
        Model sim = DeployFile.loadSimulated(file).model();
        List<MoeLinear> simLayers = Reparam.moeLayers(sim);
        for (int i = 0; i < src.size(); i++) {
            assertFalse(simLayers.get(i).isDeployed());
            assertArrayEquals(src.get(i).shift().effectiveWeight(), simLayers.get(i).shift().effectiveWeight());
        }
    }

    @Test
    void shiftWeightsArePackedAtFiveBitsPerWeight(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("c.safetensors");
        Path dep = dir.resolve("d.safetensors");
        Checkpoints.save(ckpt, model, null, Map.of());
        DeployFile.save(dep, model, Map.of());
        long weights = 0;
        long packed = 0;
        try (var f = dev.shiftaddvit.io.Safetensors.read(dep)) {
            for (MoeLinear l : Reparam.moeLayers(model)) {
                long n = (long) l.in() * l.out();
                var e = f.entry(DeployFile.codesName(l.name()));
                assertEquals("U8", e.dtype());
                assertEquals((n * 5 + 7) / 8, e.byteLength(), l.name());
                assertEquals(ShiftCodeBits.packedBytes(n), e.byteLength());
                weights += n;
                packed += e.byteLength();
            }
        }
        assertTrue(4.0 * weights / packed >= 5.0, "packed shift weights vs one fp32 matrix: " + 4.0 * weights / packed);
        // P and S (8 bytes per weight) become 5 bits.
        long saved = Files.size(ckpt) - Files.size(dep);
        assertTrue(saved >= 8 * weights - packed - 65536, "saved " + saved);
        System.out.printf("pvt_v2_fmnist attn+moe: checkpoint %,d bytes, deploy %,d bytes; shift weights %,d: fp32 %,d "
                + "bytes (P+S %,d), packed %,d bytes%n", Files.size(ckpt), Files.size(dep), weights, 4 * weights,
                8 * weights, packed);
    }

    @Test
    void deployedModelsAreInferenceOnly() {
        Model m = converted(3);
        Deploy.freeze(m);
        for (MoeLinear l : Reparam.moeLayers(m)) l.forceExpert(MoeLinear.SHIFT);
        Tensor x = data.sequential(0, 2).images();
        Tensor y = m.forward(x, true);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> m.backward(Tensor.zeros(y.shape())));
        assertTrue(e.getMessage().contains("inference-only"), e.getMessage());
    }
}
