package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.cli.report.EpochPoint;
import dev.shiftaddvit.cli.report.StageResult;
import dev.shiftaddvit.cost.CostReport;
import dev.shiftaddvit.data.LabeledImages;
import dev.shiftaddvit.eval.StageMeasure;
import dev.shiftaddvit.eval.StageMeasurement;
import dev.shiftaddvit.model.Model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A pipeline stage measured with a progress bar, summarised on stderr, as the report's row. */
final class StageResults {
    private StageResults() {
    }

    /** costReport is the model's {@link StageMeasure#cost}, which callers that also print it compute once. */
    static StageResult measure(String stage, String file, Model model, LabeledImages test, double speedSeconds,
                               Map<String, String> meta, CostReport costReport) {
        StageMeasurement r;
        try (Progress p = new Progress("eval " + model.config().name(), test.n(), 0)) {
            r = StageMeasure.measure(model, test, speedSeconds, costReport, n -> p.step(n, ""));
        }
        double share = r.shiftTokenShare();
        CostReport.Totals cost = r.cost().total();
        System.err.printf("[%s] top-1 %.2f%% on %d images, %.0f images/s, %.2f ms, %.2f M mults/image, shift share %s%n",
                stage, r.evaluation().top1(), r.evaluation().images(), r.speed().imagesPerSecond(),
                r.speed().latencyMedianMs(), cost.mults() / 1e6,
                Double.isNaN(share) ? "n/a" : String.format("%.1f%%", 100 * share));
        return new StageResult(stage, file, r.evaluation().top1(), r.evaluation().images(),
                r.speed().imagesPerSecond(), r.speed().latencyMedianMs(), Math.round(cost.mults()),
                Math.round(cost.adds()), Math.round(cost.shifts()), cost.energyPj() / 1e6, cost.packedBytes(), share,
                Integer.parseInt(meta.getOrDefault(CheckpointKeys.TRAIN_EPOCHS, "0")),
                Double.parseDouble(meta.getOrDefault(CheckpointKeys.TRAIN_MINUTES_THIS_RUN, "0")), history(meta));
    }

    /** "epoch:loss:acc:top1;…" as {@link TrainRun} records it (empty when absent). */
    static List<EpochPoint> history(Map<String, String> meta) {
        String h = meta.get(CheckpointKeys.TRAIN_HISTORY);
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
