package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.cli.report.StageResult;
import dev.shiftaddvit.cost.CostReport;
import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.eval.StageMeasure;
import dev.shiftaddvit.kernel.Machine;
import dev.shiftaddvit.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Evaluate the embedded dense model and its ShiftAddViT side by side on the full test set (or the "
                + "bundled 1,000-image sample): top-1, speed, multiplications, energy, weight bytes, routing.")
final class DemoCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--seconds", defaultValue = "3", description = "Timed seconds per speed measurement.")
    double seconds;

    @Option(names = "--sample", description = "Use the bundled 1,000-image sample even when the full test set is installed.")
    boolean sample;

    private record Column(String title, Path file, Map<String, String> meta, StageResult result, CostReport cost) {
    }

    @Override
    public Integer call() {
        common.apply();
        Optional<Path> dir = sample ? Optional.empty() : DefaultModels.dataDir(common.data);
        boolean full = dir.isPresent() && FashionMnist.hasSplit(dir.get(), FashionMnist.Split.TEST);
        Dataset test = full ? FashionMnist.load(dir.get(), FashionMnist.Split.TEST) : FashionMnist.bundledSample();
        System.out.printf("shiftaddvit demo: %s (%,d images)%nmachine: %s%n", full ? "full Fashion-MNIST test set"
                : "bundled sample of the test set", test.n(), Machine.describe());
        if (!full && !sample) {
            System.out.println("(full test set not installed: apt-get install dataset-fashion-mnist, or --data DIR)");
        }
        List<Column> cols = new ArrayList<>();
        cols.add(column("dense", DefaultModels.dense(), test, true));
        Path shiftAdd = DefaultModels.shiftAdd();
        if (Files.exists(shiftAdd)) cols.add(column("ShiftAddViT", shiftAdd, test, false));
        else System.out.printf("(no %s: the ShiftAddViT column needs it; `shiftaddvit pipeline --out` makes it)%n", shiftAdd);
        System.out.println();
        print(cols);
        return 0;
    }

    private Column column(String title, Path file, Dataset test, boolean required) {
        if (!Files.exists(file) && required) {
            throw new IllegalArgumentException("the embedded model " + file
                    + " is missing; run from the project root or set -Dshiftaddvit.home");
        }
        Checkpoints.Loaded l = Checkpoints.load(file);
        Model m = l.model();
        CostReport cost = StageMeasure.cost(m);
        StageResult r = StageResults.measure(title, file.toString(), m, test, seconds, l.metadata(), cost);
        return new Column(title, file, l.metadata(), r, cost);
    }

    private static void print(List<Column> cols) {
        StageResult d = cols.getFirst().result();
        row("", cols, c -> c.title(), r -> "vs dense");
        row("top-1 (%)", cols, c -> String.format("%.2f", c.result().top1()),
                r -> String.format("%+.2f pt", r.top1() - d.top1()));
        row("images/s (batch 32)", cols, c -> String.format("%.0f", c.result().imagesPerSecond()),
                r -> String.format("%.2fx", r.imagesPerSecond() / d.imagesPerSecond()));
        row("latency, batch 1 (ms)", cols, c -> String.format("%.2f", c.result().latencyMs()),
                r -> String.format("%.2fx", r.latencyMs() / d.latencyMs()));
        row("multiplications / image", cols, c -> mega(c.result().multsPerImage()),
                r -> String.format("%.2fx fewer", (double) d.multsPerImage() / Math.max(1, r.multsPerImage())));
        row("additions / image", cols, c -> mega(c.result().addsPerImage()), null);
        row("shifts / image", cols, c -> mega(c.result().shiftsPerImage()), null);
        row("energy / image (45 nm, uJ)", cols, c -> String.format("%.2f", c.result().energyMicrojoulesPerImage()),
                r -> String.format("%.1f %% saved", 100 * (1 - r.energyMicrojoulesPerImage()
                        / d.energyMicrojoulesPerImage())));
        row("weight bytes (deployed)", cols, c -> String.format("%.2f MiB", c.result().weightBytes() / 1048576.0),
                r -> String.format("%.2fx", (double) r.weightBytes() / d.weightBytes()));
        row("tokens to Shift experts", cols, c -> Double.isNaN(c.result().shiftTokenShare()) ? "-"
                : String.format("%.1f %%", 100 * c.result().shiftTokenShare()), null);
        if (cols.size() > 1) {
            CostReport.Comparison c = cols.getLast().cost().convertedVs(cols.getFirst().cost());
            System.out.printf("%nconverted layers (MoE and add-attention): %.1fx fewer multiplications, %.1f %% less "
                            + "energy; weights %.2f -> %.2f MiB (%.2f MiB if only the Shift experts were kept)%n",
                    c.multReduction(), 100 * c.energySaving(), c.parent().packedBytes() / 1048576.0,
                    c.converted().packedBytes() / 1048576.0, c.converted().shiftOnlyBytes() / 1048576.0);
        }
        System.out.println();
        for (Column c : cols) {
            String made = c.meta().getOrDefault(CheckpointKeys.PIPELINE_COMMAND,
                    c.meta().getOrDefault(CheckpointKeys.TRAIN_COMMAND, "?"));
            System.out.printf("%s: %s%n  made by: %s%n", c.title(), c.file(), made);
        }
    }

    private static String mega(long v) {
        return String.format("%.2f M", v / 1e6);
    }

    private static void row(String label, List<Column> cols, java.util.function.Function<Column, String> cell,
                            java.util.function.Function<StageResult, String> vsDense) {
        StringBuilder sb = new StringBuilder(String.format("%-28s", label));
        for (Column c : cols) sb.append(String.format("%16s", cell.apply(c)));
        if (vsDense != null && cols.size() > 1) sb.append("   ").append(vsDense.apply(cols.getLast().result()));
        System.out.println(sb);
    }
}
