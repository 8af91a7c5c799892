package dev.shiftaddvit.model;

import dev.shiftaddvit.model.ConfigCodec.Field;

import java.util.List;
import java.util.Map;

/**
 * A DeiT/ViT-style isotropic transformer: non-overlapping patch embedding, optional class token,
 * learned position embedding, pre-norm blocks, final norm and a linear head on the class token or
 * the mean of the tokens.
 */
public record VitConfig(String name, int imgSize, int patchSize, int inChans, int numClasses, int embedDim,
                        int depth, int heads, double mlpRatio, boolean qkvBias, boolean classToken, float eps,
                        float[] mean, float[] std) implements ModelConfig {
    public VitConfig {
        ModelConfig.requireImageSize(name, imgSize);
        if (imgSize <= 0 || patchSize <= 0 || imgSize % patchSize != 0) {
            throw new ConfigException(name + ": image size " + imgSize + " must be a positive multiple of patch size " + patchSize);
        }
        if (inChans <= 0 || numClasses <= 0 || depth <= 0 || heads <= 0 || embedDim <= 0 || embedDim % heads != 0) {
            throw new ConfigException(name + ": channels, classes, depth, heads and dim must be positive, dim divisible by heads");
        }
        if (mlpRatio <= 0) throw new ConfigException(name + ": mlp ratio must be positive");
        ModelConfig.requireNormalisation(name, inChans, mean, std);
    }

    public int gridSize() {
        return imgSize / patchSize;
    }

    public int tokens() {
        return gridSize() * gridSize() + (classToken ? 1 : 0);
    }

    public int mlpHidden() {
        return (int) Math.round(embedDim * mlpRatio);
    }

    @Override
    public long minParameters() {
        long d = embedDim;
        long blocks = (long) depth * (4 * d * d + 2 * d * mlpHidden());
        return blocks + (long) tokens() * d + (long) inChans * patchSize * patchSize * d + (long) numClasses * d;
    }

    @Override
    public ForwardFootprint footprint() {
        long n = tokens();
        long patches = (long) gridSize() * gridSize() * inChans * patchSize * patchSize;
        ForwardFootprint f = ForwardFootprint.block(n, embedDim, heads, n, mlpHidden());
        return f.max(new ForwardFootprint(2 * patches, patches, 0));
    }

    @Override
    public Model build(long seed) {
        return new VisionTransformer(this, rng(seed));
    }

    @Override
    public Map<String, String> toMetadata() {
        return CODEC.toMetadata(this);
    }

    static VitConfig fromMetadata(Map<String, String> meta, String source) {
        return CODEC.fromMetadata(meta, source);
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    @Override
    public Builder toBuilder() {
        return builder(name).imgSize(imgSize).patchSize(patchSize).inChans(inChans).numClasses(numClasses)
                .embedDim(embedDim).depth(depth).heads(heads).mlpRatio(mlpRatio).qkvBias(qkvBias)
                .classToken(classToken).eps(eps).mean(mean).std(std);
    }

    /** Every field named at the call site; build() wants them all set and validates through the constructor. */
    public static final class Builder extends ConfigBuilder<Builder> {
        private Integer patchSize;
        private Integer embedDim;
        private Integer depth;
        private Integer heads;
        private Double mlpRatio;
        private Boolean classToken;
        private Float eps;

        private Builder(String name) {
            super(name);
        }

        public Builder patchSize(int v) { patchSize = v; return this; }
        public Builder embedDim(int v) { embedDim = v; return this; }
        public Builder depth(int v) { depth = v; return this; }
        public Builder heads(int v) { heads = v; return this; }
        public Builder mlpRatio(double v) { mlpRatio = v; return this; }
        /** A class token read by the head; without it the head reads the mean of the tokens. */
        public Builder classToken(boolean v) { classToken = v; return this; }
        /** LayerNorm epsilon. */
        public Builder eps(float v) { eps = v; return this; }

        @Override
        public VitConfig build() {
            return new VitConfig(need(name, "name"), need(imgSize, "imgSize"), need(patchSize, "patchSize"),
                    need(inChans, "inChans"), need(numClasses, "numClasses"), need(embedDim, "embedDim"),
                    need(depth, "depth"), need(heads, "heads"), need(mlpRatio, "mlpRatio"), need(qkvBias, "qkvBias"),
                    need(classToken, "classToken"), need(eps, "eps"), need(mean, "mean"), need(std, "std"));
        }
    }

    private static final ConfigCodec<VitConfig, Builder> CODEC = new ConfigCodec<>(ModelKeys.ARCH_VIT,
            VitConfig::builder, Builder::build, List.of(
            Field.integer(ModelKeys.IMG_SIZE, VitConfig::imgSize, Builder::imgSize),
            Field.integer(ModelKeys.PATCH_SIZE, VitConfig::patchSize, Builder::patchSize),
            Field.integer(ModelKeys.IN_CHANS, VitConfig::inChans, Builder::inChans),
            Field.integer(ModelKeys.NUM_CLASSES, VitConfig::numClasses, Builder::numClasses),
            Field.integer(ModelKeys.EMBED_DIM, VitConfig::embedDim, Builder::embedDim),
            Field.integer(ModelKeys.DEPTH, VitConfig::depth, Builder::depth),
            Field.integer(ModelKeys.NUM_HEADS, VitConfig::heads, Builder::heads),
            Field.real(ModelKeys.MLP_RATIO, VitConfig::mlpRatio, Builder::mlpRatio),
            Field.flag(ModelKeys.QKV_BIAS, VitConfig::qkvBias, Builder::qkvBias),
            Field.flag(ModelKeys.CLASS_TOKEN, VitConfig::classToken, Builder::classToken),
            Field.real32(ModelKeys.NORM_EPS, VitConfig::eps, Builder::eps),
            Field.floats(ModelKeys.MEAN, VitConfig::mean, Builder::mean),
            Field.floats(ModelKeys.STD, VitConfig::std, Builder::std)));
}
