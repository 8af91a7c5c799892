package dev.shiftaddvit.model;

import dev.shiftaddvit.nn.GradCheck;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

/** Whole-model parameter gradients agree with finite differences, for both families. */
class ModelGradientTest {
    private final SplittableRandom rng = new SplittableRandom(3);

    @Test
    void vitWithClassTokenGradientsMatchFiniteDifferences() {
        VitConfig c = new VitConfig("tiny_vit", 8, 4, 2, 3, 8, 2, 2, 2.0, true, true, 1e-6f,
                new float[]{0f, 0f}, new float[]{1f, 1f});
        GradCheck.check(c.build(1), GradCheck.randn(rng, 1f, 2, 8, 8, 2), false, 12, 2e-2, 1);
    }

    @Test
    void vitWithMeanPoolingGradientsMatchFiniteDifferences() {
        VitConfig c = new VitConfig("tiny_vit_gap", 8, 4, 1, 3, 8, 1, 2, 2.0, false, false, 1e-6f,
                new float[]{0f}, new float[]{1f});
        GradCheck.check(c.build(2), GradCheck.randn(rng, 1f, 2, 8, 8, 1), false, 12, 2e-2, 2);
    }

    @Test
    void pvtV2GradientsMatchFiniteDifferences() {
        PvtV2Config c = new PvtV2Config("tiny_pvt", 8, 1, 3, new int[]{8, 8}, new int[]{1, 2}, new int[]{2, 2},
                new int[]{2, 1}, new int[]{1, 1}, 3, 2, true, new float[]{0f}, new float[]{1f});
        GradCheck.check(c.build(3), GradCheck.randn(rng, 1f, 2, 8, 8, 1), false, 10, 2e-2, 3);
    }
}
