package dev.shiftaddvit.cli;

import dev.shiftaddvit.cli.report.EpochPoint;
import dev.shiftaddvit.cli.report.StageResult;
import dev.shiftaddvit.cost.CostAnalyzer;
import dev.shiftaddvit.cost.CostReport;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.data.LabeledImages;
import dev.shiftaddvit.eval.Evaluation;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.shiftadd.MoeLinear;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Measures one pipeline stage: test top-1 with the routing split, speed, operations, energy and weight bytes. */
final class StageMeasure {
    /** Images the operation counts are measured on (the first of the bundled sample or of a test set). */
    static final int COST_IMAGES = 64;

    private StageMeasure() {
    }

    /** costReport is the model's {@link #cost}, which callers that also print it compute once. */
    static StageResult measure(String stage, String file, Model model, LabeledImages test, double speedSeconds,
                               Map<String, String> meta, CostReport costReport) {
        List<MoeLinear> moes = Reparam.moeLayers(model);
        for (MoeLinear m : moes) m.resetRoutingStats();
        Evaluation eval = EvalCommand.evaluate(model, test, 256, true);
        long mult = 0;
        long shift = 0;
        for (MoeLinear m : moes) {
            mult += m.tokensPerExpert()[MoeLinear.MULT];
            shift += m.tokensPerExpert()[MoeLinear.SHIFT];
        }
        double share = mult + shift == 0 ? Double.NaN : (double) shift / (mult + shift);
        Speed.Result speed = Speed.measure(model, 32, speedSeconds);
        CostReport.Totals cost = costReport.total();
        System.err.printf("[%s] top-1 %.2f%% on %d images, %.0f images/s, %.2f ms, %.2f M mults/image, shift share %s%n",
                stage, eval.top1(), eval.images(), speed.imagesPerSecond(), speed.latencyMedianMs(), cost.mults() / 1e6,
                Double.isNaN(share) ? "n/a" : String.format("%.1f%%", 100 * share));
        return new StageResult(stage, file, eval.top1(), eval.images(), speed.imagesPerSecond(),
                speed.latencyMedianMs(), Math.round(cost.mults()), Math.round(cost.adds()), Math.round(cost.shifts()),
                cost.energyPj() / 1e6, cost.packedBytes(), share, Integer.parseInt(meta.getOrDefault("train.epochs",
                "0")), Double.parseDouble(meta.getOrDefault("train.minutes_this_run", "0")), history(meta));
    }

    /** Operation counts on the first images of the bundled Fashion-MNIST sample. */
    static CostReport cost(Model model) {
        return cost(model, FashionMnist.bundledSample());
    }

    /** Operation counts on the first {@value #COST_IMAGES} (or fewer) of {@code images}. */
    static CostReport cost(Model model, LabeledImages images) {
        BatchSource src = new BatchSource(images, model.config().mean(), model.config().std());
        return CostAnalyzer.analyze(model, src.sequential(0, Math.min(COST_IMAGES, images.n())).images());
    }

    /** "epoch:loss:acc:top1;…" as {@link TrainRun} records it (empty when absent). */
    static List<EpochPoint> history(Map<String, String> meta) {
        String h = meta.get("train.history");
        List<EpochPoint> out = new ArrayList<>();
        if (h == null || h.isEmpty()) return out;
        for (String e : h.split(";")) {
            String[] p = e.split(":");
            if (p.length != 4) throw new IllegalArgumentException("bad train.history entry \"" + e + "\"");
            out.add(new EpochPoint(Integer.parseInt(p[0]), Double.parseDouble(p[1]), Double.parseDouble(p[2]),
                    Double.parseDouble(p[3])));
        }
        return out;
    }
}
