package dev.shiftaddvit.model;

import dev.shiftaddvit.nn.GradCheck;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

/** Whole-model parameter gradients agree with finite differences, for both families. */
class ModelGradientTest {
    private final SplittableRandom rng = new SplittableRandom(3);

    @Test
    void vitWithClassTokenGradientsMatchFiniteDifferences() {
        VitConfig c = VitConfig.builder("tiny_vit").imgSize(8).patchSize(4).inChans(2).numClasses(3).embedDim(8)
                .depth(2).heads(2).mlpRatio(2.0).qkvBias(true).classToken(true).eps(1e-6f).mean(0f, 0f).std(1f, 1f)
                .build();
        GradCheck.check(c.build(1), GradCheck.randn(rng, 1f, 2, 8, 8, 2), false, 12, 2e-2, 1);
    }

    @Test
    void vitWithMeanPoolingGradientsMatchFiniteDifferences() {
        VitConfig c = VitConfig.builder("tiny_vit_gap").imgSize(8).patchSize(4).inChans(1).numClasses(3).embedDim(8)
                .depth(1).heads(2).mlpRatio(2.0).qkvBias(false).classToken(false).eps(1e-6f).mean(0f).std(1f)
                .build();
        GradCheck.check(c.build(2), GradCheck.randn(rng, 1f, 2, 8, 8, 1), false, 12, 2e-2, 2);
    }

    @Test
    void pvtV2GradientsMatchFiniteDifferences() {
        PvtV2Config c = PvtV2Config.builder("tiny_pvt").imgSize(8).inChans(1).numClasses(3).embedDims(8, 8)
                .heads(1, 2).mlpRatios(2, 2).srRatios(2, 1).depths(1, 1).stemKernel(3).stemStride(2).qkvBias(true)
                .mean(0f).std(1f).build();
        GradCheck.check(c.build(3), GradCheck.randn(rng, 1f, 2, 8, 8, 1), false, 10, 2e-2, 3);
    }
}
