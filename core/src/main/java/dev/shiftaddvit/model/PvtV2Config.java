package dev.shiftaddvit.model;

import java.util.LinkedHashMap;
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
        if (imgSize <= 0 || inChans <= 0 || numClasses <= 0 || stemKernel <= 0 || stemStride <= 0) {
            throw new ConfigException(name + ": image size, channels, classes and stem must be positive");
        }
        if (mean.length != inChans || std.length != inChans) {
            throw new ConfigException(name + ": mean/std need one value per input channel (" + inChans + ")");
        }
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
    public Model build(long seed) {
        return new PvtV2(this, rng(seed));
    }

    @Override
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("arch", "pvt_v2");
        m.put("name", name);
        m.put("img_size", Integer.toString(imgSize));
        m.put("in_chans", Integer.toString(inChans));
        m.put("num_classes", Integer.toString(numClasses));
        m.put("embed_dims", MetaFields.join(embedDims));
        m.put("num_heads", MetaFields.join(heads));
        m.put("mlp_ratios", MetaFields.join(mlpRatios));
        m.put("sr_ratios", MetaFields.join(srRatios));
        m.put("depths", MetaFields.join(depths));
        m.put("stem_kernel", Integer.toString(stemKernel));
        m.put("stem_stride", Integer.toString(stemStride));
        m.put("qkv_bias", Boolean.toString(qkvBias));
        m.put("mean", MetaFields.join(mean));
        m.put("std", MetaFields.join(std));
        return m;
    }

    static PvtV2Config fromMetadata(Map<String, String> meta, String source) {
        MetaFields f = new MetaFields(meta, source);
        return new PvtV2Config(f.string("name"), f.integer("img_size"), f.integer("in_chans"),
                f.integer("num_classes"), f.ints("embed_dims"), f.ints("num_heads"), f.ints("mlp_ratios"),
                f.ints("sr_ratios"), f.ints("depths"), f.integer("stem_kernel"), f.integer("stem_stride"),
                Boolean.parseBoolean(f.string("qkv_bias")), f.floats("mean"), f.floats("std"));
    }
}
