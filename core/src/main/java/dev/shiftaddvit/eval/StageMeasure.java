package dev.shiftaddvit.eval;

import dev.shiftaddvit.cost.CostAnalyzer;
import dev.shiftaddvit.cost.CostReport;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.data.LabeledImages;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.shiftadd.MoeLinear;

import java.util.List;
import java.util.function.IntConsumer;

/** Measures a model as the pipeline measures each stage: top-1 with the routing split, speed, operations. */
public final class StageMeasure {
    /** Images the operation counts are measured on (the first of the bundled sample or of a test set). */
    public static final int COST_IMAGES = 64;
    /** Images per evaluation forward. */
    public static final int EVAL_BATCH = 256;
    /** Batch of the throughput measurement (latency is always at batch 1). */
    public static final int SPEED_BATCH = 32;

    private StageMeasure() {
    }

    /**
     * Evaluates on {@code test} (progress, when non-null, receives the images of each batch), then
     * times inference for about {@code speedSeconds} per figure. {@code cost} is the model's
     * {@link #cost}, which callers that also print it compute once.
     */
    public static StageMeasurement measure(Model model, LabeledImages test, double speedSeconds, CostReport cost,
                                           IntConsumer progress) {
        List<MoeLinear> moes = Reparam.moeLayers(model);
        for (MoeLinear m : moes) m.resetRoutingStats();
        BatchSource src = new BatchSource(test, model.config().mean(), model.config().std());
        Evaluation eval = Evaluator.evaluate(model, src, EVAL_BATCH, progress);
        long mult = 0;
        long shift = 0;
        for (MoeLinear m : moes) {
            mult += m.tokensPerExpert()[MoeLinear.MULT];
            shift += m.tokensPerExpert()[MoeLinear.SHIFT];
        }
        double share = mult + shift == 0 ? Double.NaN : (double) shift / (mult + shift);
        return new StageMeasurement(eval, share, Speed.measure(model, SPEED_BATCH, speedSeconds), cost);
    }

    /** Operation counts on the first images of the bundled Fashion-MNIST sample. */
    public static CostReport cost(Model model) {
        return cost(model, FashionMnist.bundledSample());
    }

    /** Operation counts on the first {@value #COST_IMAGES} (or fewer) of {@code images}. */
    public static CostReport cost(Model model, LabeledImages images) {
        BatchSource src = new BatchSource(images, model.config().mean(), model.config().std());
        return CostAnalyzer.analyze(model, src.sequential(0, Math.min(COST_IMAGES, images.n())).images());
    }
}
