package dev.shiftaddvit.eval;

import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StageMeasureTest {
    private static final Dataset SAMPLE = FashionMnist.bundledSample().subset(0, 40);

    @Test
    void denseStageHasTheEvaluatorsTop1AndNoShiftShare() {
        Model m = Configs.byName("pvt_v2_fmnist").build(1);
        List<Integer> seen = new ArrayList<>();
        StageMeasurement r = StageMeasure.measure(m, SAMPLE, 0.05, StageMeasure.cost(m, SAMPLE), seen::add);
        Evaluation direct = Evaluator.evaluate(m, new BatchSource(SAMPLE, m.config().mean(), m.config().std()),
                StageMeasure.EVAL_BATCH, null);
        assertEquals(direct.correct(), r.evaluation().correct());
        assertEquals(SAMPLE.n(), r.evaluation().images());
        assertEquals(SAMPLE.n(), seen.stream().mapToInt(Integer::intValue).sum(), "progress sees every image");
        assertTrue(Double.isNaN(r.shiftTokenShare()), "no MoE layers, no share");
        assertEquals(StageMeasure.SPEED_BATCH, r.speed().batch());
        assertTrue(r.speed().imagesPerSecond() > 0 && r.speed().latencyRuns() > 0);
        assertTrue(r.cost().total().mults() > 0);
    }

    @Test
    void shiftShareCountsOnlyTheTokensOfThisEvaluation() {
        Model m = Configs.byName("pvt_v2_fmnist").build(2);
        Reparam.toMoe(m, new Reparam.MoeOptions(true, true, MoeLinear.DEFAULT_MODE, 0.01f, new float[]{1f, 1f}, 8),
                new SplittableRandom(3));
        List<MoeLinear> moes = Reparam.moeLayers(m);
        for (MoeLinear l : moes) l.forceExpert(MoeLinear.MULT);
        m.forward(Tensor.zeros(4, 28, 28, 1), false);
        for (MoeLinear l : moes) l.forceExpert(MoeLinear.SHIFT);
        StageMeasurement r = StageMeasure.measure(m, SAMPLE, 0.02, StageMeasure.cost(m, SAMPLE), null);
        assertEquals(1.0, r.shiftTokenShare(), "the Mult tokens of the earlier forward are not counted");
    }

    @Test
    void randomImagesAreSeededAndInRange() {
        var c = Configs.byName("pvt_v2_fmnist");
        Tensor a = Speed.randomImages(c, 3, 9);
        assertArrayEquals(new int[]{3, 28, 28, 1}, a.shape());
        assertArrayEquals(a.data(), Speed.randomImages(c, 3, 9).data());
        for (float v : a.data()) assertTrue(v >= -1f && v < 1f);
    }
}
