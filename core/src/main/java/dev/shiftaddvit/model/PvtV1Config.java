package dev.shiftaddvit.model;

import java.util.LinkedHashMap;
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
        if (imgSize <= 0 || patchSize <= 0 || inChans <= 0 || numClasses <= 0) {
            throw new ConfigException(name + ": image size, patch size, channels and classes must be positive");
        }
        if (mean.length != inChans || std.length != inChans) {
            throw new ConfigException(name + ": mean/std need one value per input channel (" + inChans + ")");
        }
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
    public Model build(long seed) {
        return new PvtV1(this, rng(seed));
    }

    @Override
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("arch", "pvt_v1");
        m.put("name", name);
        m.put("img_size", Integer.toString(imgSize));
        m.put("patch_size", Integer.toString(patchSize));
        m.put("in_chans", Integer.toString(inChans));
        m.put("num_classes", Integer.toString(numClasses));
        m.put("embed_dims", MetaFields.join(embedDims));
        m.put("num_heads", MetaFields.join(heads));
        m.put("mlp_ratios", MetaFields.join(mlpRatios));
        m.put("sr_ratios", MetaFields.join(srRatios));
        m.put("depths", MetaFields.join(depths));
        m.put("qkv_bias", Boolean.toString(qkvBias));
        m.put("mean", MetaFields.join(mean));
        m.put("std", MetaFields.join(std));
        return m;
    }

    static PvtV1Config fromMetadata(Map<String, String> meta, String source) {
        MetaFields f = new MetaFields(meta, source);
        return new PvtV1Config(f.string("name"), f.integer("img_size"), f.integer("patch_size"), f.integer("in_chans"),
                f.integer("num_classes"), f.ints("embed_dims"), f.ints("num_heads"), f.ints("mlp_ratios"),
                f.ints("sr_ratios"), f.ints("depths"), Boolean.parseBoolean(f.string("qkv_bias")), f.floats("mean"),
                f.floats("std"));
    }
}
