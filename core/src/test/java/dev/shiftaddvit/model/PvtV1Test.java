package dev.shiftaddvit.model;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.kernel.CrossEntropy;
import dev.shiftaddvit.nn.GradCheck;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.nn.SpatialReductionAttention;
import dev.shiftaddvit.shiftadd.AddAttention;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.tensor.Tensor;
import dev.shiftaddvit.train.AdamW;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PvtV1Test {
    /**
     * Four stages on 32×32 images, patch 2: grids 16, 8, 4, 2, so the class-token stage attends over five
     * tokens (and six images give a KSH hash there the 25 tokens it needs for its anchors).
     */
    private static PvtV1Config small() {
        return PvtV1Config.builder("pvt_v1_small_test").imgSize(32).patchSize(2).inChans(2).numClasses(5)
                .embedDims(8, 8, 16, 16).heads(1, 2, 2, 4).mlpRatios(2, 2, 2, 2).srRatios(2, 2, 1, 1)
                .depths(1, 2, 1, 2).qkvBias(true).mean(0f, 0f).std(1f, 1f).build();
    }

    private static Tensor images(ModelConfig c, int b, long seed) {
        return GradCheck.randn(new SplittableRandom(seed), 1f, b, c.imgSize(), c.imgSize(), c.inChans());
    }

    @Test
    void pvtV1TinyHasTheOfficialParameterCount() {
        // sum(p.numel() for p in pvt_tiny().parameters()) with whai362/PVT classification/pvt.py (branch v2) and
        // with the independent reference in scripts/make_import_fixtures.py: both 13,229,288.
        Model m = Configs.byName("pvt_v1_tiny").build(0);
        assertEquals(13_229_288L, m.parameterCount());
        ModelConfig c = m.config();
        assertTrue(c.minParameters() <= m.parameterCount() && c.minParameters() > 0.8 * m.parameterCount());
        Map<String, Parameter> p = m.namedParameters();
        assertArrayEquals(new int[]{1, 3136, 64}, p.get("pos_embed1").value().shape());
        assertArrayEquals(new int[]{1, 50, 512}, p.get("pos_embed4").value().shape(), "7×7 grid + class token");
        assertArrayEquals(new int[]{64, 64, 8, 8}, p.get("block1.0.attn.sr.weight").value().shape());
        assertArrayEquals(new int[]{1024, 512}, p.get("block4.1.attn.kv.weight").value().shape());
        assertArrayEquals(new int[]{1, 1, 512}, p.get("cls_token").value().shape());
        assertTrue(!p.containsKey("block4.0.attn.sr.weight") && p.containsKey("norm.weight"));
    }

    @Test
    void gradientsOfPositionEmbeddingsClassTokenAndEveryStageMatchFiniteDifferences() {
        // 8×8 input, patch 2: grids 4, 2, 1; the last stage prepends the class token to its single patch token.
        PvtV1Config c = PvtV1Config.builder("tiny_pvt_v1").imgSize(8).patchSize(2).inChans(1).numClasses(3)
                .embedDims(8, 8, 8).heads(1, 2, 2).mlpRatios(2, 2, 2).srRatios(2, 1, 1).depths(1, 1, 1)
                .qkvBias(true).mean(0f).std(1f).build();
        Model m = c.build(4);
        // Non-zero, unequal class token and position rows, so a swapped or dropped row shows.
        SplittableRandom rng = new SplittableRandom(5);
        for (Parameter p : m.parameters()) {
            if (p.name().startsWith("pos_embed") || p.name().equals("cls_token")) {
                float[] d = p.value().data();
                for (int i = 0; i < d.length; i++) d[i] = (float) (rng.nextDouble() - 0.5);
            }
        }
        GradCheck.check(m, GradCheck.randn(new SplittableRandom(6), 1f, 2, 8, 8, 1), false, 12, 2e-2, 7);
    }

    @Test
    void classTokenAndLastPositionRowReachTheLogits() {
        Model m = small().build(1);
        Tensor x = images(m.config(), 2, 2);
        float[] before = m.forward(x, false).data();
        m.namedParameters().get("cls_token").value().data()[0] += 0.5f;
        float[] cls = m.forward(x, false).data();
        m.namedParameters().get("cls_token").value().data()[0] -= 0.5f;
        m.namedParameters().get("pos_embed4").value().data()[0] += 0.5f;
        float[] pos = m.forward(x, false).data();
        assertTrue(maxDiff(before, cls) > 1e-4 && maxDiff(before, pos) > 1e-4);
        // Row 0 of pos_embed4 is added to the class token alone, so both edits move the logits alike.
        assertArrayEquals(cls, pos, 1e-5f);
    }

    @Test
    void trainingStepsLowerTheLossOnAFixedBatch() {
        Model m = small().build(3);
        Tensor x = images(m.config(), 8, 4);
        int[] labels = {0, 1, 2, 3, 4, 0, 1, 2};
        AdamW opt = new AdamW(m.parameters(), 0.9f, 0.999f, 1e-8f, 0.05f);
        float first = 0;
        float last = 0;
        for (int step = 0; step < 30; step++) {
            for (Parameter p : m.parameters()) p.zeroGrad();
            Tensor logits = m.forward(x, true);
            Tensor d = Tensor.zeros(logits.shape());
            last = CrossEntropy.forwardBackward(logits.data(), labels, 8, 5, 0f, d.data());
            if (step == 0) first = last;
            m.backward(d);
            opt.step(3e-3f);
        }
        assertTrue(last < 0.5f * first, "loss " + first + " -> " + last);
    }

    @Test
    void checkpointRoundTripKeepsConfigNamesAndLogits(@TempDir Path dir) throws Exception {
        Model m = small().build(5);
        Tensor x = images(m.config(), 2, 6);
        float[] expected = m.forward(x, false).data();
        Path f = dir.resolve("v1.safetensors");
        Checkpoints.save(f, m, null, Map.of());
        Checkpoints.Loaded back = Checkpoints.load(f);
        assertEquals("pvt_v1", back.metadata().get("arch"));
        assertEquals(m.config().toMetadata(), back.model().config().toMetadata());
        assertEquals(m.namedParameters().keySet(), back.model().namedParameters().keySet());
        assertArrayEquals(expected, back.model().forward(x, false).data(), 0f);
    }

    @Test
    void lastStageWithSpatialReductionIsRefused() {
        ConfigException e = assertThrows(ConfigException.class, () -> PvtV1Config.builder("bad").imgSize(16)
                .patchSize(2).inChans(1).numClasses(3).embedDims(8, 8).heads(1, 1).mlpRatios(2, 2).srRatios(2, 2)
                .depths(1, 1).qkvBias(true).mean(0f).std(1f).build());
        assertTrue(e.getMessage().contains("class token") && e.getMessage().contains("sr ratio must be 1"),
                e.getMessage());
    }

    @Test
    void reparamKeepsTheClassTokenStageOnSoftmaxAndConvertsEveryMlpToMoe(@TempDir Path dir) throws Exception {
        Model m = small().build(7);
        Reparam.AttnOptions keepLast = new Reparam.AttnOptions(Set.of(), true, AddAttention.Options.DEFAULT,
                AddAttention.QkInit.QUERY);
        ShiftAddSpec.Attn attn = Reparam.toAddAttention(m, keepLast, new SplittableRandom(8));
        // Blocks per stage 1, 2, 1, 2: stages 1-3 (blocks 0-3) convert, stage 4 stays softmax as upstream's PVTv1.
        assertEquals(List.of(0, 1, 2, 3), attn.blocks());
        assertInstanceOf(SpatialReductionAttention.class, m.blocks().get(4).attn());
        assertInstanceOf(SpatialReductionAttention.class, m.blocks().get(5).attn());
        Tensor x = images(m.config(), 6, 9);
        Reparam.trainHashes(m, x);
        float[] before = m.forward(x, false).data();
        Reparam.MoeOptions fixed = new Reparam.MoeOptions(true, true, MoeLinear.DEFAULT_MODE, 0.01f,
                new float[]{0.6f, 0.4f}, 2);
        ShiftAddSpec.Moe moe = Reparam.toMoe(m, fixed, new SplittableRandom(10));
        assertEquals(6 * 2 + 4 * 3, moe.layers().size(), "fc1, fc2 in 6 blocks; qk, v, proj in 4 add-attentions");
        List<MoeLinear> layers = Reparam.moeLayers(m);
        for (MoeLinear l : layers) l.forceExpert(MoeLinear.MULT);
        assertArrayEquals(before, m.forward(x, false).data(), 1e-6f);
        for (MoeLinear l : layers) l.forceExpert(-1);
        float[] routed = m.forward(x, false).data();

        Path f = dir.resolve("v1-shiftadd.safetensors");
        Checkpoints.save(f, m, null, Map.of());
        Model back = Checkpoints.load(f).model();
        assertEquals("attn+moe", back.shiftAdd().stage());
        assertEquals(m.namedParameters().keySet(), back.namedParameters().keySet());
        assertArrayEquals(routed, back.forward(x, false).data(), 1e-5f);
    }

    @Test
    void addAttentionRunsOnTheClassTokenStageToo() {
        Model m = small().build(11);
        Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, new SplittableRandom(12));
        for (var b : m.blocks()) assertInstanceOf(AddAttention.class, b.attn());
        Tensor x = images(m.config(), 6, 13);
        Reparam.trainHashes(m, x);
        Tensor logits = m.forward(x, false);
        for (float v : logits.data()) assertTrue(Float.isFinite(v));
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
