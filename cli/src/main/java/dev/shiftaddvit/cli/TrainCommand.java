package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.data.ImageFolder;
import dev.shiftaddvit.data.TrainValFolders;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model from a named config on Fashion-MNIST, or on your own images (--images DIR: "
                + "DIR/train/<class>/ and DIR/val/<class>/; a new model's head gets one class per folder); "
                + "checkpoints every epoch, --resume continues.",
                "Defaults: 12 epochs, batch 128, lr 2e-3 (min 1e-5), warm-up 1, weight decay 0.05, label smoothing 0.1, "
                        + "clip 1, crop pad 2 (0 with --images, which crops with random resized crops), flips, "
                        + "erase 0.25, seed 0."})
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = "--model", defaultValue = "pvt_v2_fmnist", description = "Config name (default: ${DEFAULT-VALUE}).")
    String modelName;

    @Option(names = "--out", required = true, description = "Where to write the trained model (safetensors).")
    Path out;

    @Option(names = "--checkpoint", description = "Training checkpoint with optimizer state (default: <out>.ckpt).")
    Path checkpoint;

    @Option(names = "--resume", description = "Continue from the checkpoint.")
    boolean resume;

    @Option(names = "--init", description = "Start from the weights of this model file (a fine-tune: fresh optimizer and schedule).")
    Path init;

    @Option(names = "--new-head", description = "With --init and --images: keep every weight of the --init model "
            + "but the classifier, which starts afresh with one class per folder (transfer from a pretrained model).")
    boolean newHead;

    @Mixin
    TrainOptions hyper;

    @Mixin
    DataLimits limits;

    @Option(names = "--checkpoint-every", defaultValue = "0", description = "Also checkpoint every N steps.") int every;

    @Override
    public Integer call() throws IOException {
        common.apply();
        Path ckpt = checkpoint != null ? checkpoint : TrainRun.checkpointFor(out);
        TrainRun.requireWritable(out, ckpt);
        TrainConfig tc = hyper.resolve(limits.defaults(TrainOptions.TRAIN));
        Map<String, String> meta = new LinkedHashMap<>();
        if (resume && init != null) throw new IllegalArgumentException("--resume and --init exclude each other");
        if (newHead && (init == null || limits.images == null)) {
            throw new IllegalArgumentException("--new-head needs --init and --images");
        }
        Checkpoints.Loaded resumed = resume ? TrainRun.resumeFrom(ckpt) : null;
        Model model;
        if (resumed != null) {
            model = resumed.model();
            String was = model.config().name();
            if (spec.commandLine().getParseResult().hasMatchedOption("--model") && !was.equals(modelName)) {
                throw new IllegalArgumentException("--resume: " + ckpt + " belongs to a different run: --model is "
                        + was + " there and " + modelName + " now");
            }
        } else if (init != null) {
            Checkpoints.Loaded from = Checkpoints.load(init);
            model = from.model();
            meta.putAll(Checkpoints.inherited(from.metadata()));
            meta.put(CheckpointKeys.TRAIN_INIT, init.toString());
            String before = from.metadata().get(CheckpointKeys.TRAIN_COMMAND);
            if (before != null) meta.put(CheckpointKeys.TRAIN_INIT_COMMAND, before);
            System.err.printf("fine-tuning %s from %s%n", model.config().name(), init);
            if (newHead) model = withNewHead(model, tc.seed());
        } else {
            model = sizedToFolders(Configs.byName(modelName)).build(tc.seed());
        }
        TrainRun.Data data = limits.load(common, model.config());
        meta.put(CheckpointKeys.TRAIN_COMMAND, CommandLineCapture.commandLine());
        meta.put(CheckpointKeys.TRAIN_DATA, data.source().toString());
        TrainRun.run(model, resumed, tc, data, out, ckpt, every, meta, null);
        return 0;
    }

    /** A model with one class per folder holding {@code from}'s weights wherever the shapes agree (all but the head). */
    private Model withNewHead(Model from, long seed) {
        if (!from.shiftAdd().isDense()) {
            throw new IllegalArgumentException("--new-head needs a dense model; " + init + " is " + from.shiftAdd().stage());
        }
        Model to = sizedToFolders(from.config()).build(seed);
        Map<String, Parameter> source = from.namedParameters();
        for (Parameter p : to.parameters()) {
            Parameter q = source.get(p.name());
            if (q != null && Arrays.equals(q.value().shape(), p.value().shape())) {
                System.arraycopy(q.value().data(), 0, p.value().data(), 0, p.value().data().length);
            } else {
                System.err.printf("  %s starts afresh%n", p.name());
            }
        }
        return to;
    }

    /** With --images, the named config with one class per folder of DIR/train. */
    private ModelConfig sizedToFolders(ModelConfig config) {
        if (limits.images == null) return config;
        DataLimits.requireRgb(config);
        ImageFolder train = ImageFolder.open(limits.images.resolve(TrainValFolders.TRAIN),
                limits.imageOptions.preprocess(config));
        int classes = train.classes().size();
        if (classes == config.numClasses()) return config;
        System.err.printf("%s with a %d-class head (not %d) for the class folders of %s%n", config.name(), classes,
                config.numClasses(), train.source());
        return withClasses(config, classes);
    }

    /** The config with another class count. */
    static ModelConfig withClasses(ModelConfig config, int classes) {
        return config.toBuilder().numClasses(classes).build();
    }
}
