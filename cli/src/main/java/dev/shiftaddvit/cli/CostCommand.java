package dev.shiftaddvit.cli;

import dev.shiftaddvit.cost.CostAnalyzer;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "cost", mixinStandardHelpOptions = true,
        description = "Measured operation counts, weight bytes and 45 nm energy per image, per layer kind or per "
                + "layer, optionally beside the dense parent.")
final class CostCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--model", description = "Model file or config name (default: models/fmnist-shiftadd.safetensors "
            + "when present, else models/fmnist-dense.safetensors).")
    String model;

    @Option(names = "--baseline", description = "The dense parent to compare with (default: none, or "
            + "models/fmnist-dense.safetensors when --model is the default ShiftAddViT model).")
    String baseline;

    @Option(names = "--limit", defaultValue = "64", paramLabel = "N", description = "Measure on the first N images "
            + "(default: ${DEFAULT-VALUE}) of the bundled sample, or of --data's test set.")
    int images;

    @Option(names = "--per-layer", description = "List every layer instead of the per-kind summary.")
    boolean perLayer;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        common.apply();
        Dataset data = common.data != null ? DefaultModels.testSet(common.data, false) : FashionMnist.bundledSample();
        if (images < 1 || images > data.n()) {
            throw new IllegalArgumentException("--limit must be in [1, " + data.n() + "], got " + images);
        }
        Path shiftAdd = DefaultModels.home().resolve("models/fmnist-shiftadd.safetensors");
        String ref = model != null ? model : Files.isRegularFile(shiftAdd) ? shiftAdd.toString() : null;
        String parentRef = baseline;
        if (parentRef == null && ref != null && samePath(ref, shiftAdd)) parentRef = DefaultModels.dense().toString();
        CostOutput.Measured m = measure(ref, data);
        CostOutput.Measured parent = parentRef == null ? null : measure(parentRef, data);
        if (json) System.out.println(Json.write(CostOutput.json(m, parent, data.source())));
        else CostOutput.print(m, parent, data.source(), perLayer);
        return 0;
    }

    private CostOutput.Measured measure(String ref, Dataset data) {
        Model m = ModelRef.resolve(ref);
        Tensor x = new BatchSource(data, m.config().mean(), m.config().std()).sequential(0, images).images();
        String source = ref == null ? DefaultModels.dense().toString() : ref;
        return new CostOutput.Measured(source, CostAnalyzer.analyze(m, x));
    }

    private static boolean samePath(String ref, Path p) {
        return Path.of(ref).toAbsolutePath().normalize().equals(p.toAbsolutePath().normalize());
    }
}
