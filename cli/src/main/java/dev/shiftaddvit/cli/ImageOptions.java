package dev.shiftaddvit.cli;

import dev.shiftaddvit.ImagePreprocessing;
import dev.shiftaddvit.data.Preprocess;
import dev.shiftaddvit.data.Resize;
import dev.shiftaddvit.model.ModelConfig;
import picocli.CommandLine.Option;

/** How RGB image files become model inputs; the defaults are the DeiT/PVT evaluation transform. */
final class ImageOptions {
    @Option(names = "--crop-pct", defaultValue = "0.875",
            description = "Resize the shorter side to floor(size / crop-pct) before the centre crop (timm's "
                    + "pretrained configs for deit_* and pvt_v2_* use 0.9; default ${DEFAULT-VALUE}).")
    double cropPct;

    @Option(names = "--interpolation", defaultValue = "bicubic",
            description = "bicubic or bilinear, antialiased as PIL does (default ${DEFAULT-VALUE}).")
    String interpolation;

    /** The same choice for {@link dev.shiftaddvit.ImageClassifier}, which reads image files itself. */
    ImagePreprocessing forClassifier(boolean invert) {
        return new ImagePreprocessing(cropPct, Resize.Filter.parse(interpolation), invert);
    }

    Preprocess preprocess(ModelConfig config) {
        return Preprocess.of(config.imgSize(), cropPct, Resize.Filter.parse(interpolation));
    }
}
