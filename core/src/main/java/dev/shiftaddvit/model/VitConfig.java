package dev.shiftaddvit.model;

import java.util.LinkedHashMap;
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
        if (imgSize <= 0 || patchSize <= 0 || imgSize % patchSize != 0) {
            throw new ConfigException(name + ": image size " + imgSize + " must be a positive multiple of patch size " + patchSize);
        }
        if (inChans <= 0 || numClasses <= 0 || depth <= 0 || heads <= 0 || embedDim <= 0 || embedDim % heads != 0) {
            throw new ConfigException(name + ": channels, classes, depth, heads and dim must be positive, dim divisible by heads");
        }
        if (mlpRatio <= 0) throw new ConfigException(name + ": mlp ratio must be positive");
        if (mean.length != inChans || std.length != inChans) {
            throw new ConfigException(name + ": mean/std need one value per input channel (" + inChans + ")");
        }
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
    public Model build(long seed) {
        return new VisionTransformer(this, rng(seed));
    }

    @Override
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("arch", "vit");
        m.put("name", name);
        m.put("img_size", Integer.toString(imgSize));
        m.put("patch_size", Integer.toString(patchSize));
        m.put("in_chans", Integer.toString(inChans));
        m.put("num_classes", Integer.toString(numClasses));
        m.put("embed_dim", Integer.toString(embedDim));
        m.put("depth", Integer.toString(depth));
        m.put("num_heads", Integer.toString(heads));
        m.put("mlp_ratio", Double.toString(mlpRatio));
        m.put("qkv_bias", Boolean.toString(qkvBias));
        m.put("class_token", Boolean.toString(classToken));
        m.put("norm_eps", Float.toString(eps));
        m.put("mean", MetaFields.join(mean));
        m.put("std", MetaFields.join(std));
        return m;
    }

    static VitConfig fromMetadata(Map<String, String> meta, String source) {
        MetaFields f = new MetaFields(meta, source);
        return new VitConfig(f.string("name"), f.integer("img_size"), f.integer("patch_size"), f.integer("in_chans"),
                f.integer("num_classes"), f.integer("embed_dim"), f.integer("depth"), f.integer("num_heads"),
                f.real("mlp_ratio"), Boolean.parseBoolean(f.string("qkv_bias")),
                Boolean.parseBoolean(f.string("class_token")), (float) f.real("norm_eps"), f.floats("mean"),
                f.floats("std"));
    }
}
