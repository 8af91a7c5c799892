package dev.shiftaddvit.cli.report;

import java.awt.Color;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/** The report's figures as PNG bytes: accuracy (with the fine-tune curves), throughput and energy. */
final class Plots {
    static final String ACCURACY = "accuracy.png";
    static final String THROUGHPUT = "throughput.png";
    static final String ENERGY = "energy.png";

    private static final List<String> KNOWN_STAGES = List.of("dense", "attn", "moe", "deployed");

    private Plots() {
    }

    /** Top-1 per stage with its delta to the baseline; beside it test top-1 per epoch when a stage fine-tuned. */
    static byte[] accuracy(PipelineSummary s) throws IOException {
        StageResult base = s.baseline();
        Chart c = new Chart("Top-1 accuracy", s.hasHistory() ? 2 : 1);
        int images = s.stages().getFirst().evalImages();
        boolean sameImages = s.stages().stream().allMatch(st -> st.evalImages() == images);
        c.bars(0, sameImages ? "Test top-1 on " + images + " images" : "Test top-1", "top-1 accuracy (%)",
                bars(s, StageResult::top1, " %", st -> Numbers.signed(st.top1() - base.top1(), 2, " pt")), 100);
        if (s.hasHistory()) {
            List<Chart.Line> lines = new ArrayList<>();
            for (int i = 0; i < s.stages().size(); i++) {
                StageResult st = s.stages().get(i);
                if (st.history().isEmpty()) continue;
                lines.add(new Chart.Line(st.stage(), color(st.stage(), i),
                        st.history().stream().mapToDouble(EpochPoint::epoch).toArray(),
                        st.history().stream().mapToDouble(EpochPoint::testTop1).toArray()));
            }
            c.lines(1, "Fine-tuning: test top-1 per epoch", "epoch", "test top-1 (%)", lines);
        }
        return c.png();
    }

    /** Batch-32 throughput and batch-1 latency per stage, each with its ratio to the baseline. */
    static byte[] throughput(PipelineSummary s) throws IOException {
        StageResult base = s.baseline();
        Chart c = new Chart("Inference speed", 2);
        c.bars(0, "Throughput (batch 32)", "images per second",
                bars(s, StageResult::imagesPerSecond, "",
                        st -> Numbers.ratio(st.imagesPerSecond(), base.imagesPerSecond())), Double.NaN);
        c.bars(1, "Latency (batch 1, median)", "milliseconds per image",
                bars(s, StageResult::latencyMs, " ms", st -> Numbers.ratio(st.latencyMs(), base.latencyMs())),
                Double.NaN);
        return c.png();
    }

    /** Modelled energy per image with its change against the baseline; beside it the operations it comes from. */
    static byte[] energy(PipelineSummary s) throws IOException {
        StageResult base = s.baseline();
        Chart c = new Chart("Compute energy", 2);
        c.bars(0, "Energy per image", "microjoules per image",
                bars(s, StageResult::energyMicrojoulesPerImage, " µJ",
                        st -> Numbers.change(st.energyMicrojoulesPerImage(), base.energyMicrojoulesPerImage())),
                Double.NaN);
        long most = s.stages().stream()
                .mapToLong(st -> st.multsPerImage() + st.addsPerImage() + st.shiftsPerImage()).max().orElse(0);
        double unit = most >= 1e9 ? 1e9 : most >= 1e6 ? 1e6 : 1e3;
        String unitName = unit == 1e9 ? "billions" : unit == 1e6 ? "millions" : "thousands";
        c.stacked(1, "Operations per image", unitName + " of operations",
                s.stages().stream().map(StageResult::stage).toList(),
                List.of(ops("mults", Chart.palette(4), s, StageResult::multsPerImage, unit),
                        ops("adds", Chart.palette(0), s, StageResult::addsPerImage, unit),
                        ops("shifts", Chart.palette(2), s, StageResult::shiftsPerImage, unit)));
        return c.png();
    }

    /** One bar per stage, values printed with the same decimals; the baseline gets no note ("no change"). */
    private static List<Chart.Bar> bars(PipelineSummary s, ToDoubleFunction<StageResult> value, String unit,
                                        Function<StageResult, String> note) {
        StageResult base = s.baseline();
        int decimals = Numbers.decimals(s.stages(), value);
        List<Chart.Bar> out = new ArrayList<>();
        for (int i = 0; i < s.stages().size(); i++) {
            StageResult st = s.stages().get(i);
            double v = value.applyAsDouble(st);
            out.add(new Chart.Bar(st.stage(), v, Numbers.fixed(v, decimals) + unit, st == base ? null : note.apply(st),
                    color(st.stage(), i)));
        }
        return out;
    }

    private static Chart.Series ops(String name, Color color, PipelineSummary s, ToDoubleFunction<StageResult> count,
                                    double unit) {
        double[] values = s.stages().stream().mapToDouble(st -> count.applyAsDouble(st) / unit).toArray();
        return new Chart.Series(name, color, values);
    }

    /** The same stage keeps its colour in every figure; unknown stages take the colours after the known ones. */
    private static Color color(String stage, int index) {
        int known = KNOWN_STAGES.indexOf(stage);
        return Chart.palette(known >= 0 ? known : KNOWN_STAGES.size() + index);
    }
}
