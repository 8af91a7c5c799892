package dev.shiftaddvit.model;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.nn.SelfAttention;
import dev.shiftaddvit.nn.SpatialReductionAttention;
import dev.shiftaddvit.shiftadd.AddAttention;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.tensor.Tensor;
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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReparamTest {
    private static final Reparam.MoeOptions FIXED = new Reparam.MoeOptions(true, true, MoeLinear.DEFAULT_MODE, 0.01f,
            new float[]{0.6f, 0.4f}, 4);

    private static Tensor images(ModelConfig c, int b, long seed) {
        Tensor x = Tensor.zeros(b, c.imgSize(), c.imgSize(), c.inChans());
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < x.size(); i++) x.data()[i] = (float) r.nextGaussian();
        return x;
    }

    private static final Reparam.AttnOptions KEEP_LAST = new Reparam.AttnOptions(Set.of(), true,
            AddAttention.Options.DEFAULT, AddAttention.QkInit.QUERY);

    @Test
    void attnStageConvertsEveryBlockByDefault() {
        Model m = Configs.byName("pvt_v2_fmnist").build(1);
        ShiftAddSpec.Attn spec = Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, new SplittableRandom(2));
        assertEquals(List.of(0, 1, 2, 3, 4, 5), spec.blocks());
        for (var b : m.blocks()) assertInstanceOf(AddAttention.class, b.attn());
    }

    @Test
    void pvtKeepLastSoftmaxConvertsAllButTheLastStage() {
        Model m = Configs.byName("pvt_v2_fmnist").build(1);
        ShiftAddSpec.Attn spec = Reparam.toAddAttention(m, KEEP_LAST, new SplittableRandom(2));
        assertEquals(List.of(0, 1, 2, 3), spec.blocks());
        for (int i = 0; i < 4; i++) assertInstanceOf(AddAttention.class, m.blocks().get(i).attn());
        assertInstanceOf(SpatialReductionAttention.class, m.blocks().get(4).attn());
        assertEquals("attn", m.shiftAdd().stage());
    }

    @Test
    void vitStagesAreBlocksAndTheLastKeepsSoftmax() {
        Model m = Configs.byName("vit_fmnist").build(1);
        int depth = m.blocks().size();
        Reparam.toAddAttention(m, KEEP_LAST, new SplittableRandom(2));
        for (int i = 0; i < depth - 1; i++) assertInstanceOf(AddAttention.class, m.blocks().get(i).attn());
        assertInstanceOf(SelfAttention.class, m.blocks().get(depth - 1).attn());
        Tensor x = images(m.config(), 2, 3);
        Reparam.trainHashes(m, x);
        Tensor y = m.forward(x, false);
        assertEquals(2 * m.config().numClasses(), y.size());
    }

    @Test
    void chosenGroupsOnlyAndUnknownGroupsRefused() {
        Model m = Configs.byName("pvt_v2_fmnist").build(1);
        Reparam.AttnOptions o = new Reparam.AttnOptions(Set.of(1), true, AddAttention.Options.DEFAULT,
                AddAttention.QkInit.QUERY);
        assertEquals(List.of(2, 3), Reparam.toAddAttention(m, o, new SplittableRandom(2)).blocks());
        Model m2 = Configs.byName("pvt_v2_fmnist").build(1);
        Reparam.AttnOptions bad = new Reparam.AttnOptions(Set.of(7), true, AddAttention.Options.DEFAULT,
                AddAttention.QkInit.QUERY);
        assertThrows(IllegalArgumentException.class, () -> Reparam.toAddAttention(m2, bad, new SplittableRandom(2)));
        Reparam.AttnOptions onlyLast = new Reparam.AttnOptions(Set.of(2), true, AddAttention.Options.DEFAULT,
                AddAttention.QkInit.QUERY);
        assertThrows(IllegalArgumentException.class, () -> Reparam.toAddAttention(m2, onlyLast, new SplittableRandom(2)));
    }

    @Test
    void convertedModelRefusesAForwardUntilTrainHashesTrainsEveryHash() {
        Model m = Configs.byName("pvt_v2_fmnist").build(1);
        Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, new SplittableRandom(2));
        Tensor x = images(m.config(), 2, 4);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.forward(x, false));
        assertTrue(e.getMessage().contains("stages.0.blocks.0.attn") && e.getMessage().contains("Reparam.trainHashes"),
                e.getMessage());
        Reparam.trainHashes(m, x);
        for (var b : m.blocks()) assertInstanceOf(AddAttention.class, b.attn(), "the pass puts every layer back");
        for (AddAttention a : Reparam.addAttentions(m)) assertTrue(a.hash().isTrained(), a.name());
        float[] logits = m.forward(x, false).data();
        // trained hashes are left alone: a second call changes neither the state nor the outputs
        Map<String, float[]> state = new java.util.LinkedHashMap<>();
        for (var t : m.buffers().entrySet()) state.put(t.getKey(), t.getValue().data().clone());
        Reparam.trainHashes(m, images(m.config(), 2, 5));
        for (var t : m.buffers().entrySet()) assertArrayEquals(state.get(t.getKey()), t.getValue().data(), t.getKey());
        assertArrayEquals(logits, m.forward(x, false).data());
    }

    @Test
    void trainHashesGivesTheStateOfTrainingEachLayerInOrderOnItsBlockInput() {
        Tensor x = images(Configs.byName("pvt_v2_fmnist"), 4, 6);
        Model pass = Configs.byName("pvt_v2_fmnist").build(1);
        Reparam.toAddAttention(pass, Reparam.AttnOptions.DEFAULT, new SplittableRandom(7));
        Reparam.trainHashes(pass, x);

        // Independently: layer by layer, a fresh forward through the layers already trained gives the
        // layer's input, on which AddAttention.trainHash trains it.
        Model byLayer = Configs.byName("pvt_v2_fmnist").build(1);
        Reparam.toAddAttention(byLayer, Reparam.AttnOptions.DEFAULT, new SplittableRandom(7));
        for (var b : byLayer.blocks()) {
            AddAttention a = (AddAttention) b.attn();
            InputCapture capture = new InputCapture();
            b.replaceAttn(capture);
            assertThrows(InputCapture.Captured.class, () -> byLayer.forward(x, false));
            b.replaceAttn(a);
            a.trainHash(capture.input);
        }
        Map<String, Tensor> expected = byLayer.buffers();
        assertEquals(expected.keySet(), pass.buffers().keySet());
        for (var t : pass.buffers().entrySet()) {
            assertArrayEquals(expected.get(t.getKey()).data(), t.getValue().data(), t.getKey());
        }
        assertArrayEquals(byLayer.forward(x, false).data(), pass.forward(x, false).data());
    }

    /** Stands in for an attention: records its input and stops the forward there. */
    private static final class InputCapture implements dev.shiftaddvit.nn.Layer {
        static final class Captured extends RuntimeException {
        }

        Tensor input;

        @Override
        public Tensor forward(Tensor x, boolean training) {
            input = x;
            throw new Captured();
        }

        @Override
        public Tensor backward(Tensor dy) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<dev.shiftaddvit.nn.Parameter> parameters() {
            return List.of();
        }
    }

    @Test
    void moeWithEveryTokenOnMultEqualsTheModelBeforeIt() {
        Model m = Configs.byName("pvt_v2_fmnist").build(1);
        Reparam.toAddAttention(m, KEEP_LAST, new SplittableRandom(2));
        Tensor x = images(m.config(), 3, 4);
        Reparam.trainHashes(m, x);
        float[] before = m.forward(x, false).data();
        ShiftAddSpec.Moe spec = Reparam.toMoe(m, FIXED, new SplittableRandom(5));
        // fc1, fc2 in 6 blocks + qk, v, proj in the 4 add-attention blocks (the softmax stage stays dense).
        assertEquals(6 * 2 + 4 * 3, spec.layers().size());
        List<MoeLinear> moes = Reparam.moeLayers(m);
        assertEquals(spec.layers().size(), moes.size());
        for (MoeLinear l : moes) l.forceExpert(MoeLinear.MULT);
        // Same arithmetic, but JIT-compiled and interpreted lane reductions may differ in the last bit; one
        // token on a Shift expert would move the logits by ~1e-3.
        assertArrayEquals(before, m.forward(x, false).data(), 1e-6f);
        for (MoeLinear l : moes) assertArrayEquals(new float[]{0.6f, 0.4f}, l.alpha(), 1e-6f);
    }

    @Test
    void measuredAlphaIsRecordedPerLayer() {
        Model m = Configs.byName("pvt_v2_fmnist").build(1);
        Reparam.MoeOptions measured = new Reparam.MoeOptions(true, false, MoeLinear.DEFAULT_MODE, 0.01f, null, 1);
        ShiftAddSpec.Moe spec = Reparam.toMoe(m, measured, new SplittableRandom(5));
        assertEquals(12, spec.layers().size());
        for (ShiftAddSpec.MoeLayer l : spec.layers()) {
            double[] ns = l.nanosPerToken();
            assertTrue(ns[0] > 0 && ns[1] > 0, l.name());
            assertEquals(ns[0] / (ns[0] + ns[1]), l.alpha()[0], 1e-5);
        }
    }

    @Test
    void checkpointRoundTripRebuildsStructureBuffersAndOutputs(@TempDir Path dir) throws Exception {
        Model m = Configs.byName("pvt_v2_fmnist").build(1);
        Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, new SplittableRandom(2));
        Tensor x = images(m.config(), 3, 4);
        Reparam.trainHashes(m, x);
        Reparam.toMoe(m, FIXED, new SplittableRandom(5));
        float[] expected = m.forward(x, false).data();
        Path f = dir.resolve("m.safetensors");
        Checkpoints.save(f, m, null, Map.of());
        Model back = Checkpoints.load(f).model();
        assertEquals(m.shiftAdd().toMetadata(), back.shiftAdd().toMetadata());
        assertEquals(m.namedParameters().keySet(), back.namedParameters().keySet());
        assertTrue(back.buffers().keySet().containsAll(m.buffers().keySet()) && !m.buffers().isEmpty());
        for (AddAttention a : Reparam.addAttentions(back)) assertTrue(a.hash().isTrained());
        assertArrayEquals(expected, back.forward(x, false).data(), 1e-5f);
    }

    @Test
    void moeOptionsCompareTheirFixedAlphaByValueAndHandOutCopies() {
        var a = new Reparam.MoeOptions(true, true, MoeLinear.DEFAULT_MODE, 0.01f, new float[]{3f, 2f}, 4);
        var b = new Reparam.MoeOptions(true, true, MoeLinear.DEFAULT_MODE, 0.01f, new float[]{0.6f, 0.4f}, 4);
        assertEquals(a, b, "the same normalised alpha");
        assertEquals(a.hashCode(), b.hashCode());
        assertTrue(a.toString().contains("[0.6, 0.4]"), a.toString());
        a.fixedAlpha()[0] = 9f;
        assertEquals(0.6f, a.fixedAlpha()[0], 1e-6f, "a copy was changed, not the options");
        assertNotEquals(a, new Reparam.MoeOptions(true, true, MoeLinear.DEFAULT_MODE, 0.01f, null, 4));
    }

    @Test
    void fixedAlphaRecordsNoExpertLatencyAndReadsBackUntimed() {
        Model m = Configs.byName("pvt_v2_fmnist").build(1);
        Reparam.toMoe(m, FIXED, new SplittableRandom(5));
        Map<String, String> meta = m.shiftAdd().toMetadata();
        assertTrue(meta.keySet().stream().noneMatch(k -> k.startsWith(ModelKeys.MOE_LATENCY_NS_PREFIX)), meta.toString());
        ShiftAddSpec back = ShiftAddSpec.fromMetadata(meta, "m.safetensors");
        for (ShiftAddSpec.MoeLayer l : back.moe().layers()) {
            assertTrue(!l.timed() && Double.isNaN(l.nanosPerToken()[0]) && Double.isNaN(l.nanosPerToken()[1]), l.name());
        }
    }

    @Test
    void vitBothStagesSurviveACheckpointRoundTrip(@TempDir Path dir) throws Exception {
        Model m = Configs.byName("vit_fmnist").build(1);
        Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, new SplittableRandom(2));
        Tensor x = images(m.config(), 2, 4);
        Reparam.trainHashes(m, x);
        ShiftAddSpec.Moe spec = Reparam.toMoe(m, FIXED, new SplittableRandom(5));
        assertEquals(m.blocks().size() * 5, spec.layers().size(), "qk, v, proj, fc1, fc2 per block");
        float[] expected = m.forward(x, false).data();
        Path f = dir.resolve("vit.safetensors");
        Checkpoints.save(f, m, null, Map.of());
        Model back = Checkpoints.load(f).model();
        assertEquals("attn+moe", back.shiftAdd().stage());
        assertArrayEquals(expected, back.forward(x, false).data(), 1e-5f);
    }

    @Test
    void checkpointWithoutHashBuffersIsRefusedByName(@TempDir Path dir) throws Exception {
        Model m = Configs.byName("pvt_v2_fmnist").build(1);
        Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, new SplittableRandom(2));
        Reparam.trainHashes(m, images(m.config(), 2, 4));
        java.util.LinkedHashMap<String, Tensor> tensors = new java.util.LinkedHashMap<>();
        for (var p : m.parameters()) tensors.put(p.name(), p.value());
        Map<String, String> meta = new java.util.LinkedHashMap<>(m.config().toMetadata());
        meta.putAll(m.shiftAdd().toMetadata());
        Path f = dir.resolve("nobuf.safetensors");
        dev.shiftaddvit.io.Safetensors.write(f, tensors, meta);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Checkpoints.load(f));
        assertTrue(e.getMessage().contains("stages.0.blocks.0.attn.hash.A"), e.getMessage());
    }

    @Test
    void metadataNamingUnknownLayersIsRefused(@TempDir Path dir) throws Exception {
        Model m = Configs.byName("pvt_v2_fmnist").build(1);
        Reparam.toMoe(m, new Reparam.MoeOptions(true, false, MoeLinear.DEFAULT_MODE, 0.01f, new float[]{1, 1}, 1),
                new SplittableRandom(5));
        Path f = dir.resolve("m.safetensors");
        Map<String, String> meta = new java.util.LinkedHashMap<>(m.shiftAdd().toMetadata());
        meta.put("shiftadd.moe.layers", meta.get("shiftadd.moe.layers") + ",nowhere.fc1");
        meta.put("shiftadd.moe.alpha.nowhere.fc1", "0.5,0.5");
        Checkpoints.save(f, m, null, meta);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Checkpoints.load(f));
        assertTrue(e.getMessage().contains("nowhere.fc1"), e.getMessage());
    }
}
