package dev.shiftaddvit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole models give the same bits with the row-blocked inference paths as layer by layer: the
 * per-layer profile always runs layer by layer, so a forward under it is the reference.
 */
class RowBlockedModelsTest {
    @ParameterizedTest
    @ValueSource(strings = {"vit_fmnist", "pvt_v2_fmnist"})
    void denseAndShiftOnlyDeployedModelsMatchTheirLayerByLayerForward(String config) {
        Model dense = Configs.byName(config).build(11);
        BatchSource data = new BatchSource(FashionMnist.bundledSample().subset(0, 40), dense.config().mean(),
                dense.config().std());
        Tensor x = data.sequential(0, 20).images();
        assertSameBitsFusedAndLayerByLayer(dense, x, config + " dense");

        Model converted = Configs.byName(config).build(11);
        SplittableRandom rng = new SplittableRandom(5);
        Reparam.toAddAttention(converted, Reparam.AttnOptions.DEFAULT, rng);
        Reparam.trainHashes(converted, data.sequential(1, 20).images());
        Reparam.toMoe(converted, new Reparam.MoeOptions(true, true, MoeLinear.DEFAULT_MODE, 0.01f,
                new float[] {0.5f, 0.5f}, 4), rng);
        Deploy.freeze(converted);
        for (MoeLinear l : Reparam.moeLayers(converted)) l.deployShiftOnly();
        assertTrue(Reparam.moeLayers(converted).stream().allMatch(MoeLinear::forwardsRows));
        assertSameBitsFusedAndLayerByLayer(converted, x, config + " shift-only");
    }

    private static void assertSameBitsFusedAndLayerByLayer(Model m, Tensor x, String what) {
        m.forward(x, false);
        float[] fused = m.forward(x, false).data();
        float[][] reference = new float[1][];
        Profiler.during(() -> reference[0] = m.forward(x, false).data());
        assertArrayEquals(reference[0], fused, what);
    }
}
