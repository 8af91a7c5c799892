package dev.shiftaddvit.model;

import java.util.Map;
import java.util.SplittableRandom;

/** A named, validated architecture description; builds a fresh model and round-trips through metadata. */
public sealed interface ModelConfig permits VitConfig, PvtV2Config, PvtV1Config {
    String name();

    int imgSize();

    int inChans();

    int numClasses();

    /** Per-channel normalisation applied to pixels in [0, 1] before the model. */
    float[] mean();

    float[] std();

    Model build(long seed);

    /** A builder holding this config's fields, to change a few by name. */
    ConfigBuilder<?> toBuilder();

    /**
     * A lower bound on the parameter count (the weight matrices and embeddings alone), computed
     * without allocating, so a file whose metadata describes a model far larger than its tensors
     * can be rejected before building it.
     */
    long minParameters();

    /**
     * Refuses, before anything is allocated, a config that a file of {@code storedValues} tensor
     * values cannot hold (far more parameters than stored values means hostile or mismatched
     * metadata; near misses are left to the per-tensor checks, which name every tensor) or whose
     * batch-1 forward the heap cannot hold.
     */
    default void requireLoadableFrom(long storedValues, String source) {
        if (minParameters() > 2 * storedValues + 1_000_000) {
            throw new ConfigException(source + ": describes model " + name() + " with at least " + minParameters()
                    + " parameters but the file holds only " + storedValues + " values");
        }
        ForwardFootprint.require(this, 1, source);
    }

    /** What one inference forward allocates per image, estimated from the config without allocating. */
    ForwardFootprint footprint();

    /** The config as a flat string map for safetensors metadata ("arch" names the family). */
    Map<String, String> toMetadata();

    static ModelConfig fromMetadata(Map<String, String> meta, String source) {
        String arch = meta.get(ModelKeys.ARCH);
        if (arch == null) throw new ConfigException(source + ": metadata has no \"" + ModelKeys.ARCH + "\" entry");
        return switch (arch) {
            case ModelKeys.ARCH_VIT -> VitConfig.fromMetadata(meta, source);
            case ModelKeys.ARCH_PVT_V2 -> PvtV2Config.fromMetadata(meta, source);
            case ModelKeys.ARCH_PVT_V1 -> PvtV1Config.fromMetadata(meta, source);
            default -> throw new ConfigException(source + ": unknown arch \"" + arch + "\" (expected vit, pvt_v2 or pvt_v1)");
        };
    }

    default SplittableRandom rng(long seed) {
        return new SplittableRandom(seed);
    }

    /** The largest image side a config accepts; far above any ViT, small enough that token counts stay in int. */
    int MAX_IMG_SIZE = 16384;

    static void requireImageSize(String name, int imgSize) {
        if (imgSize > MAX_IMG_SIZE) {
            throw new ConfigException(name + ": image size " + imgSize + " is above " + MAX_IMG_SIZE);
        }
    }

    /** One finite mean and one finite, positive std per input channel (std 0 would divide every pixel by zero). */
    static void requireNormalisation(String name, int inChans, float[] mean, float[] std) {
        if (mean.length != inChans || std.length != inChans) {
            throw new ConfigException(name + ": mean/std need one value per input channel (" + inChans + ")");
        }
        for (int c = 0; c < inChans; c++) {
            if (!Float.isFinite(mean[c]) || !(std[c] > 0) || !Float.isFinite(std[c])) {
                throw new ConfigException(name + ": channel " + c + " has mean " + mean[c] + " and std " + std[c]
                        + "; the mean must be finite and the std finite and positive");
            }
        }
    }
}
