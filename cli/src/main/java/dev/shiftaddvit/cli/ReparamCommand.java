package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.data.LabeledImages;
import dev.shiftaddvit.io.AtomicFiles;
import dev.shiftaddvit.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "reparam", mixinStandardHelpOptions = true,
        description = {"Reparameterise a trained model: --stage attn swaps attention for add-only attention on binary "
                + "codes (KSH trained on one training batch, from Fashion-MNIST or --images DIR/train); --stage moe turns linear layers into Mult/Shift mixtures "
                + "of experts with latency weights measured on this machine.",
                "Follow with `finetune` to recover accuracy; `pipeline` runs both stages."})
final class ReparamCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    ReparamOptions options;

    @Option(names = "--model", required = true, description = "The trained model file to convert.")
    Path model;

    @Option(names = "--stage", required = true, description = "attn or moe.")
    String stage;

    @Option(names = "--out", required = true, description = "Where to write the converted model (safetensors).")
    Path out;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the routers, conv taps and hash batch.")
    long seed;

    @Option(names = "--images", paramLabel = "DIR", description = "Train the KSH hashes on DIR/train/<class>/*.jpg|png "
            + "(the layout of the training commands' --images) instead of Fashion-MNIST.")
    Path images;

    @Mixin
    ImageOptions imageOptions;

    @Override
    public Integer call() throws IOException {
        common.apply();
        AtomicFiles.requireWritable(out);
        Checkpoints.Loaded in = Checkpoints.load(model);
        Model m = in.model();
        switch (stage) {
            case "attn" -> ReparamStage.attn(m, options.attn(), hashImages(m), options.hashImages, seed);
            case "moe" -> ReparamStage.moe(m, options.moe(), seed);
            default -> throw new IllegalArgumentException("--stage must be attn or moe, got " + stage);
        }
        Map<String, String> meta = new LinkedHashMap<>(Checkpoints.inherited(in.metadata()));
        meta.put(CheckpointKeys.REPARAM_COMMAND, CommandLineCapture.commandLine());
        meta.put(CheckpointKeys.REPARAM_PARENT, model.toString());
        Checkpoints.save(out, m, null, meta);
        System.err.printf("wrote %s (%s, %,d parameters)%n", out, m.shiftAdd().stage(), m.parameterCount());
        return 0;
    }

    /** The training images the hashes are trained on. */
    private LabeledImages hashImages(Model m) {
        if (images != null) return DataLimits.folders(images, m.config(), imageOptions).train();
        return TrainRun.Data.fashionMnist(common.data, null, null).train();
    }
}
