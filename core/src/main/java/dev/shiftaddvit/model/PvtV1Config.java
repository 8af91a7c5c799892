package dev.shiftaddvit.model;

import dev.shiftaddvit.model.ConfigCodec.Field;

import java.util.List;
import java.util.Map;

/**
 * The original PVT (PVTv1): per stage a non-overlapping patch embedding (patchSize×patchSize for the
 * first stage, 2×2 after, each followed by a LayerNorm), a learned position embedding, blocks with
 * spatial-reduction attention and a plain MLP; the last stage prepends a class token, whose row of the
 * final norm the head reads.
 */
public record PvtV1Config(String name, int imgSize, int patchSize, int inChans, int numClasses, int[] embedDims,
                          int[] heads, int[] mlpRatios, int[] srRatios, int[] depths, boolean qkvBias, float[] mean,
                          float[] std) implements ModelConfig {
    public PvtV1Config {
        int s = embedDims.length;
        if (s == 0 || heads.length != s || mlpRatios.length != s || srRatios.length != s || depths.length != s) {
            throw new ConfigException(name + ": embed_dims, num_heads, mlp_ratios, sr_ratios and depths need one entry per stage");
        }
        for (int i = 0; i < s; i++) {
            if (embedDims[i] <= 0 || heads[i] <= 0 || embedDims[i] % heads[i] != 0 || mlpRatios[i] <= 0
                    || srRatios[i] <= 0 || depths[i] <= 0) {
                throw new ConfigException(name + ": stage " + i + " has a non-positive size or dim not divisible by heads");
            }
        }
        ModelConfig.requireImageSize(name, imgSize);
        if (imgSize <= 0 || patchSize <= 0 || inChans <= 0 || numClasses <= 0) {
            throw new ConfigException(name + ": image size, patch size, channels and classes must be positive");
        }
        ModelConfig.requireNormalisation(name, inChans, mean, std);
        // The class token joins the last stage's tokens, which then no longer form a grid to reduce.
        if (srRatios[s - 1] != 1) {
            throw new ConfigException(name + ": the last stage carries the class token, so its sr ratio must be 1, got "
                    + srRatios[s - 1]);
        }
        for (int i = 0; i < s; i++) {
            int g = gridOf(imgSize, patchSize, i);
            if (g <= 0 || g % srRatios[i] != 0) {
                throw new ConfigException(name + ": stage " + i + " grid " + g + " is not a positive multiple of its sr ratio "
                        + srRatios[i]);
            }
        }
    }

    /** Patch convolutions have no padding, so each stage's grid is the previous one floor-divided by its stride. */
    private static int gridOf(int imgSize, int patchSize, int stage) {
        int g = imgSize / patchSize;
        for (int i = 1; i <= stage; i++) g /= 2;
        return g;
    }

    public int stages() {
        return embedDims.length;
    }

    /** Side of the token grid of stage s. */
    public int grid(int stage) {
        return gridOf(imgSize, patchSize, stage);
    }

    /** Tokens of stage s: its grid, plus the class token in the last stage. */
    public int tokens(int stage) {
        int g = grid(stage);
        return g * g + (stage == stages() - 1 ? 1 : 0);
    }

    @Override
    public long minParameters() {
        long total = 0;
        long prev = inChans;
        for (int s = 0; s < stages(); s++) {
            long d = embedDims[s];
            long k = s == 0 ? patchSize : 2;
            total += prev * k * k * d + (long) tokens(s) * d + (long) depths[s] * (4 * d * d + 2 * d * d * mlpRatios[s]);
            prev = d;
        }
        return total + (long) numClasses * prev;
    }

    @Override
    public ForwardFootprint footprint() {
        ForwardFootprint f = new ForwardFootprint(0, 0, 0);
        long prev = inChans;
        for (int s = 0; s < stages(); s++) {
            long g = grid(s);
            long n = tokens(s);
            long keys = (g / srRatios[s]) * (g / srRatios[s]) + (n - g * g);
            long k = s == 0 ? patchSize : 2;
            long im2col = g * g * k * k * prev;
            f = f.max(ForwardFootprint.block(n, embedDims[s], heads[s], keys, (long) embedDims[s] * mlpRatios[s]))
                    .max(new ForwardFootprint(2 * im2col, im2col, 0));
            prev = embedDims[s];
        }
        return f;
    }

    @Override
    public Model build(long seed) {
        return new PvtV1(this, rng(seed));
    }

    @Override
    public Map<String, String> toMetadata() {
        return CODEC.toMetadata(this);
    }

    static PvtV1Config fromMetadata(Map<String, String> meta, String source) {
        return CODEC.fromMetadata(meta, source);
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    @Override
    public Builder toBuilder() {
        return builder(name).imgSize(imgSize).patchSize(patchSize).inChans(inChans).numClasses(numClasses)
                .embedDims(embedDims).heads(heads).mlpRatios(mlpRatios).srRatios(srRatios).depths(depths)
                .qkvBias(qkvBias).mean(mean).std(std);
    }

    /** Every field named at the call site; build() wants them all set and validates through the constructor. */
    public static final class Builder extends PyramidConfigBuilder<Builder> {
        private Integer patchSize;

        private Builder(String name) {
            super(name);
        }

        /** Patch side of stage 0's embedding (later stages embed 2×2 patches). */
        public Builder patchSize(int v) { patchSize = v; return this; }

        @Override
        public PvtV1Config build() {
            return new PvtV1Config(need(name, "name"), need(imgSize, "imgSize"), need(patchSize, "patchSize"),
                    need(inChans, "inChans"), need(numClasses, "numClasses"), need(embedDims, "embedDims"),
                    need(heads, "heads"), need(mlpRatios, "mlpRatios"), need(srRatios, "srRatios"),
                    need(depths, "depths"), need(qkvBias, "qkvBias"), need(mean, "mean"), need(std, "std"));
        }
    }

    private static final ConfigCodec<PvtV1Config, Builder> CODEC = new ConfigCodec<>(ModelKeys.ARCH_PVT_V1,
            PvtV1Config::builder, Builder::build, List.of(
            Field.integer(ModelKeys.IMG_SIZE, PvtV1Config::imgSize, Builder::imgSize),
            Field.integer(ModelKeys.PATCH_SIZE, PvtV1Config::patchSize, Builder::patchSize),
            Field.integer(ModelKeys.IN_CHANS, PvtV1Config::inChans, Builder::inChans),
            Field.integer(ModelKeys.NUM_CLASSES, PvtV1Config::numClasses, Builder::numClasses),
            Field.ints(ModelKeys.EMBED_DIMS, PvtV1Config::embedDims, Builder::embedDims),
            Field.ints(ModelKeys.NUM_HEADS, PvtV1Config::heads, Builder::heads),
            Field.ints(ModelKeys.MLP_RATIOS, PvtV1Config::mlpRatios, Builder::mlpRatios),
            Field.ints(ModelKeys.SR_RATIOS, PvtV1Config::srRatios, Builder::srRatios),
            Field.ints(ModelKeys.DEPTHS, PvtV1Config::depths, Builder::depths),
            Field.flag(ModelKeys.QKV_BIAS, PvtV1Config::qkvBias, Builder::qkvBias),
            Field.floats(ModelKeys.MEAN, PvtV1Config::mean, Builder::mean),
            Field.floats(ModelKeys.STD, PvtV1Config::std, Builder::std)));
}
