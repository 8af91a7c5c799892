package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.ImageFolder;
import dev.shiftaddvit.data.LabeledImages;
import dev.shiftaddvit.data.TrainValFolders;
import dev.shiftaddvit.eval.Evaluation;
import dev.shiftaddvit.eval.Evaluator;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.model.ForwardFootprint;
import dev.shiftaddvit.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Top-1 accuracy and throughput on the Fashion-MNIST test set (or the bundled sample), or on a "
                + "class-per-folder image set (--images DIR: DIR/<class>/*.jpg|png, labels = sorted folder names; "
                + "DIR/val/<class>/ when DIR holds train/ and val/, the layout the training commands read).",
                "Image files go through the DeiT evaluation transform (--crop-pct, --interpolation)."})
final class EvalCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--model", description = "Model file (default: the embedded models/fmnist-dense.safetensors).")
    Path model;

    @Option(names = "--sample", description = "Use the bundled 1,000-image sample even when the full test set is installed.")
    boolean sample;

    @Option(names = "--images", paramLabel = "DIR",
            description = "Evaluate on DIR/<class>/*.jpg|png (or DIR/val/<class>/*.jpg|png) instead of Fashion-MNIST.")
    Path imagesDir;

    @Mixin
    ImageOptions imageOptions;

    @Option(names = "--batch-size", defaultValue = "256") int batchSize;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        common.apply();
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        Path path = model != null ? model : DefaultModels.dense();
        Model m = Checkpoints.load(path).model();
        LabeledImages data = imagesDir != null ? imageFolder(m) : DefaultModels.testSet(common.data, sample);
        ForwardFootprint.require(m.config(), Math.min(batchSize, Math.max(1, data.n())), "--batch-size " + batchSize);
        Evaluation e = evaluate(m, data, batchSize, !json);
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("model", path.toString());
            o.put("config", m.config().name());
            o.put("data", data.source());
            o.put("top1", round(e.top1(), 2));
            o.put("correct", e.correct());
            o.put("images", e.images());
            o.put("loss", round(e.loss(), 4));
            o.put("seconds", round(e.seconds(), 3));
            o.put("images_per_s", round(e.imagesPerSecond(), 1));
            o.put("threads", dev.shiftaddvit.kernel.Parallel.threads());
            System.out.println(Json.write(o));
        } else {
            System.out.printf("%s on %s: top-1 %.2f%% (%d/%d), loss %.4f, %.0f images/s%n", path, data.source(),
                    e.top1(), e.correct(), e.images(), e.loss(), e.imagesPerSecond());
        }
        return 0;
    }

    private ImageFolder imageFolder(Model m) {
        Path root = imagesDir;
        if (TrainValFolders.isSplit(imagesDir)) {
            root = imagesDir.resolve(TrainValFolders.VAL);
            System.err.printf("evaluating on %s (%s holds %s/ and %s/)%n", root, imagesDir, TrainValFolders.TRAIN,
                    TrainValFolders.VAL);
        }
        ImageFolder f = ImageFolder.open(root, imageOptions.preprocess(m.config()));
        int classes = m.config().numClasses();
        if (f.classes().size() > classes) {
            throw new IllegalArgumentException(root + " has " + f.classes().size() + " class folders; model "
                    + m.config().name() + " has " + classes + " classes");
        }
        if (f.classes().size() < classes) {
            System.err.printf("note: %d class folders for a %d-class model; folder i is scored as class i%n",
                    f.classes().size(), classes);
        }
        return f;
    }

    static Evaluation evaluate(Model m, LabeledImages data, int batchSize, boolean showProgress) {
        BatchSource src = new BatchSource(data, m.config().mean(), m.config().std());
        if (!showProgress) return Evaluator.evaluate(m, src, batchSize, null);
        try (Progress p = new Progress("eval " + m.config().name(), data.n(), 0)) {
            return Evaluator.evaluate(m, src, batchSize, n -> p.step(n, ""));
        }
    }

    static double round(double v, int digits) {
        double s = Math.pow(10, digits);
        return Math.round(v * s) / s;
    }
}
