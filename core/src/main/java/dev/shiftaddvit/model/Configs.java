package dev.shiftaddvit.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/** Architectures by name, as timm's model registry. */
public final class Configs {
    private static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};
    /** Fashion-MNIST training-set pixel statistics. */
    private static final float[] FMNIST_MEAN = {0.2860f};
    private static final float[] FMNIST_STD = {0.3530f};

    private static final Map<String, Supplier<ModelConfig>> REGISTRY = new LinkedHashMap<>();

    static {
        REGISTRY.put("deit_tiny", () -> VitConfig.builder("deit_tiny").imgSize(224).patchSize(16).inChans(3)
                .numClasses(1000).embedDim(192).depth(12).heads(3).mlpRatio(4.0).qkvBias(true).classToken(true)
                .eps(1e-6f).mean(IMAGENET_MEAN).std(IMAGENET_STD).build());
        REGISTRY.put("deit_small", () -> VitConfig.builder("deit_small").imgSize(224).patchSize(16).inChans(3)
                .numClasses(1000).embedDim(384).depth(12).heads(6).mlpRatio(4.0).qkvBias(true).classToken(true)
                .eps(1e-6f).mean(IMAGENET_MEAN).std(IMAGENET_STD).build());
        REGISTRY.put("pvt_v2_b0", () -> PvtV2Config.builder("pvt_v2_b0").imgSize(224).inChans(3).numClasses(1000)
                .embedDims(32, 64, 160, 256).heads(1, 2, 5, 8).mlpRatios(8, 8, 4, 4).srRatios(8, 4, 2, 1)
                .depths(2, 2, 2, 2).stemKernel(7).stemStride(4).qkvBias(true).mean(IMAGENET_MEAN).std(IMAGENET_STD)
                .build());
        // The ShiftAddViT starting point: B0 with spatial reduction removed (global MSA in every stage).
        REGISTRY.put("pvt_v2_b0_msa", () -> PvtV2Config.builder("pvt_v2_b0_msa").imgSize(224).inChans(3)
                .numClasses(1000).embedDims(32, 64, 160, 256).heads(1, 2, 5, 8).mlpRatios(8, 8, 4, 4)
                .srRatios(1, 1, 1, 1).depths(2, 2, 2, 2).stemKernel(7).stemStride(4).qkvBias(true)
                .mean(IMAGENET_MEAN).std(IMAGENET_STD).build());
        REGISTRY.put("pvt_v2_b1", () -> PvtV2Config.builder("pvt_v2_b1").imgSize(224).inChans(3).numClasses(1000)
                .embedDims(64, 128, 320, 512).heads(1, 2, 5, 8).mlpRatios(8, 8, 4, 4).srRatios(8, 4, 2, 1)
                .depths(2, 2, 2, 2).stemKernel(7).stemStride(4).qkvBias(true).mean(IMAGENET_MEAN).std(IMAGENET_STD)
                .build());
        REGISTRY.put("pvt_v2_b2", () -> PvtV2Config.builder("pvt_v2_b2").imgSize(224).inChans(3).numClasses(1000)
                .embedDims(64, 128, 320, 512).heads(1, 2, 5, 8).mlpRatios(8, 8, 4, 4).srRatios(8, 4, 2, 1)
                .depths(3, 4, 6, 3).stemKernel(7).stemStride(4).qkvBias(true).mean(IMAGENET_MEAN).std(IMAGENET_STD)
                .build());
        // The original PVT (whai362/PVT pvt_tiny): non-overlapping patch embeddings, position embeddings, class token.
        REGISTRY.put("pvt_v1_tiny", () -> PvtV1Config.builder("pvt_v1_tiny").imgSize(224).patchSize(4).inChans(3)
                .numClasses(1000).embedDims(64, 128, 320, 512).heads(1, 2, 5, 8).mlpRatios(8, 8, 4, 4)
                .srRatios(8, 4, 2, 1).depths(2, 2, 2, 2).qkvBias(true).mean(IMAGENET_MEAN).std(IMAGENET_STD).build());
        // 28×28 grayscale: patch 4 gives 7×7 tokens, the common choice for small ViTs on this data.
        REGISTRY.put("vit_fmnist", () -> VitConfig.builder("vit_fmnist").imgSize(28).patchSize(4).inChans(1)
                .numClasses(10).embedDim(96).depth(6).heads(4).mlpRatio(2.0).qkvBias(true).classToken(false)
                .eps(1e-6f).mean(FMNIST_MEAN).std(FMNIST_STD).build());
        // The default: 14×14 → 7×7 → 4×4 token grids; convolutional embeddings and depthwise MLP convs
        // give the locality a small data set needs.
        REGISTRY.put("pvt_v2_fmnist", () -> PvtV2Config.builder("pvt_v2_fmnist").imgSize(28).inChans(1).numClasses(10)
                .embedDims(32, 64, 128).heads(1, 2, 4).mlpRatios(4, 4, 4).srRatios(2, 1, 1).depths(2, 2, 2)
                .stemKernel(3).stemStride(2).qkvBias(true).mean(FMNIST_MEAN).std(FMNIST_STD).build());
    }

    private Configs() {
    }

    public static ModelConfig byName(String name) {
        Supplier<ModelConfig> s = REGISTRY.get(name);
        if (s == null) {
            throw new ConfigException("unknown model config \"" + name + "\"; known: " + String.join(", ", REGISTRY.keySet()));
        }
        return s.get();
    }

    public static Iterable<String> names() {
        return REGISTRY.keySet();
    }
}
