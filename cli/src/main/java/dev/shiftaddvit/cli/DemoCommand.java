package dev.shiftaddvit.cli;

import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.train.Checkpoints;
import dev.shiftaddvit.train.Evaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Evaluate the embedded default model on the bundled sample and the full test set (when installed) and time it.")
final class DemoCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--seconds", defaultValue = "3", description = "Timed seconds per speed measurement.")
    double seconds;

    @Override
    public Integer call() {
        common.apply();
        Path path = DefaultModels.dense();
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("the embedded default model " + path + " is missing; run from the project root or set -Dshiftaddvit.home");
        }
        Checkpoints.Loaded loaded = Checkpoints.load(path);
        Model m = loaded.model();
        Map<String, String> meta = loaded.metadata();
        System.out.printf("shiftaddvit demo: %s (%s, %,d parameters), %d threads%n", path, m.config().name(),
                m.parameterCount(), Parallel.threads());
        if (meta.containsKey("train.init_command")) {
            System.out.printf("trained with:  %s%n", meta.get("train.init_command"));
            System.out.printf("then tuned with: %s%n", meta.get("train.command"));
        } else if (meta.containsKey("train.command")) {
            System.out.printf("trained with: %s%n", meta.get("train.command"));
        }
        System.out.println();
        Dataset sample = FashionMnist.bundledSample();
        Evaluation es = EvalCommand.evaluate(m, sample, 256, false);
        System.out.printf("%-34s top-1 %6.2f%%  (%d images, %.0f images/s)%n", "bundled sample (first 1,000 test)",
                es.top1(), es.images(), es.imagesPerSecond());
        Optional<Path> dir = DefaultModels.dataDir(common.data);
        if (dir.isPresent() && FashionMnist.hasSplit(dir.get(), FashionMnist.Split.TEST)) {
            Dataset full = FashionMnist.load(dir.get(), FashionMnist.Split.TEST);
            Evaluation ef = EvalCommand.evaluate(m, full, 256, true);
            System.out.printf("%-34s top-1 %6.2f%%  (%d images, %.0f images/s)%n", "full Fashion-MNIST test set",
                    ef.top1(), ef.images(), ef.imagesPerSecond());
        } else {
            System.out.println("full test set: not installed (apt-get install dataset-fashion-mnist, or --data DIR)");
        }
        Speed.Result r = Speed.measure(m, 32, seconds);
        System.out.printf("%-34s %.0f images/s%n", "throughput, batch 32", r.imagesPerSecond());
        System.out.printf("%-34s %.2f ms median, %.2f ms p90%n", "latency, batch 1", r.latencyMedianMs(),
                r.latencyP90Ms());
        return 0;
    }
}
