package dev.shiftaddvit.model;

import dev.shiftaddvit.model.ConfigCodec.Field;

import java.util.List;
import java.util.Map;

/**
 * A PVTv2-style hierarchical transformer: per stage an overlapping convolutional patch embedding
 * (the stem for stage 0, 3×3 stride 2 after), blocks with spatial-reduction attention and an MLP
 * with a depthwise 3×3 convolution, a stage norm; the head reads the mean of the last stage's tokens.
 */
public record PvtV2Config(String name, int imgSize, int inChans, int numClasses, int[] embedDims, int[] heads,
                          int[] mlpRatios, int[] srRatios, int[] depths, int stemKernel, int stemStride,
                          boolean qkvBias, float[] mean, float[] std) implements ModelConfig {
    public PvtV2Config {
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
        if (imgSize <= 0 || inChans <= 0 || numClasses <= 0 || stemKernel <= 0 || stemStride <= 0) {
            throw new ConfigException(name + ": image size, channels, classes and stem must be positive");
        }
        ModelConfig.requireNormalisation(name, inChans, mean, std);
        int g = imgSize;
        for (int i = 0; i < s; i++) {
            g = i == 0 ? (g + 2 * (stemKernel / 2) - stemKernel) / stemStride + 1 : (g + 2 - 3) / 2 + 1;
            if (g <= 0 || g % srRatios[i] != 0) {
                throw new ConfigException(name + ": stage " + i + " grid " + g + " is not divisible by its sr ratio " + srRatios[i]);
            }
        }
    }

    public int stages() {
        return embedDims.length;
    }

    /** Side of the token grid of stage s. */
    public int grid(int stage) {
        int g = imgSize;
        for (int i = 0; i <= stage; i++) {
            g = i == 0 ? (g + 2 * (stemKernel / 2) - stemKernel) / stemStride + 1 : (g + 2 - 3) / 2 + 1;
        }
        return g;
    }

    @Override
    public long minParameters() {
        long total = 0;
        long prev = inChans;
        for (int s = 0; s < stages(); s++) {
            long d = embedDims[s];
            long k = s == 0 ? stemKernel : 3;
            total += prev * k * k * d + (long) depths[s] * (4 * d * d + 2 * d * d * mlpRatios[s]);
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
            long n = g * g;
            long keys = (g / srRatios[s]) * (g / srRatios[s]);
            long k = s == 0 ? stemKernel : 3;
            long im2col = n * k * k * prev;
            f = f.max(ForwardFootprint.block(n, embedDims[s], heads[s], keys, (long) embedDims[s] * mlpRatios[s]))
                    .max(new ForwardFootprint(2 * im2col, im2col, 0));
            prev = embedDims[s];
        }
        return f;
    }

    @Override
    public Model build(long seed) {
        return new PvtV2(this, rng(seed));
    }

    @Override
    public Map<String, String> toMetadata() {
        return CODEC.toMetadata(this);
    }

    static PvtV2Config fromMetadata(Map<String, String> meta, String source) {
        return CODEC.fromMetadata(meta, source);
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    @Override
    public Builder toBuilder() {
        return builder(name).imgSize(imgSize).inChans(inChans).numClasses(numClasses).embedDims(embedDims)
                .heads(heads).mlpRatios(mlpRatios).srRatios(srRatios).depths(depths).stemKernel(stemKernel)
                .stemStride(stemStride).qkvBias(qkvBias).mean(mean).std(std);
    }

    /** Every field named at the call site; build() wants them all set and validates through the constructor. */
    public static final class Builder extends PyramidConfigBuilder<Builder> {
        private Integer stemKernel;
        private Integer stemStride;

        private Builder(String name) {
            super(name);
        }

        public Builder stemKernel(int v) { stemKernel = v; return this; }
        public Builder stemStride(int v) { stemStride = v; return this; }

        @Override
        public PvtV2Config build() {
            return new PvtV2Config(need(name, "name"), need(imgSize, "imgSize"), need(inChans, "inChans"),
                    need(numClasses, "numClasses"), need(embedDims, "embedDims"), need(heads, "heads"),
                    need(mlpRatios, "mlpRatios"), need(srRatios, "srRatios"), need(depths, "depths"),
                    need(stemKernel, "stemKernel"), need(stemStride, "stemStride"), need(qkvBias, "qkvBias"),
                    need(mean, "mean"), need(std, "std"));
        }
    }

    private static final ConfigCodec<PvtV2Config, Builder> CODEC = new ConfigCodec<>(ModelKeys.ARCH_PVT_V2,
            PvtV2Config::builder, Builder::build, List.of(
            Field.integer(ModelKeys.IMG_SIZE, PvtV2Config::imgSize, Builder::imgSize),
            Field.integer(ModelKeys.IN_CHANS, PvtV2Config::inChans, Builder::inChans),
            Field.integer(ModelKeys.NUM_CLASSES, PvtV2Config::numClasses, Builder::numClasses),
            Field.ints(ModelKeys.EMBED_DIMS, PvtV2Config::embedDims, Builder::embedDims),
            Field.ints(ModelKeys.NUM_HEADS, PvtV2Config::heads, Builder::heads),
            Field.ints(ModelKeys.MLP_RATIOS, PvtV2Config::mlpRatios, Builder::mlpRatios),
            Field.ints(ModelKeys.SR_RATIOS, PvtV2Config::srRatios, Builder::srRatios),
            Field.ints(ModelKeys.DEPTHS, PvtV2Config::depths, Builder::depths),
            Field.integer(ModelKeys.STEM_KERNEL, PvtV2Config::stemKernel, Builder::stemKernel),
            Field.integer(ModelKeys.STEM_STRIDE, PvtV2Config::stemStride, Builder::stemStride),
            Field.flag(ModelKeys.QKV_BIAS, PvtV2Config::qkvBias, Builder::qkvBias),
            Field.floats(ModelKeys.MEAN, PvtV2Config::mean, Builder::mean),
            Field.floats(ModelKeys.STD, PvtV2Config::std, Builder::std)));
}
