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
        REGISTRY.put("deit_tiny", () -> new VitConfig("deit_tiny", 224, 16, 3, 1000, 192, 12, 3, 4.0, true, true,
                1e-6f, IMAGENET_MEAN, IMAGENET_STD));
        REGISTRY.put("deit_small", () -> new VitConfig("deit_small", 224, 16, 3, 1000, 384, 12, 6, 4.0, true, true,
                1e-6f, IMAGENET_MEAN, IMAGENET_STD));
        REGISTRY.put("pvt_v2_b0", () -> new PvtV2Config("pvt_v2_b0", 224, 3, 1000, new int[]{32, 64, 160, 256},
                new int[]{1, 2, 5, 8}, new int[]{8, 8, 4, 4}, new int[]{8, 4, 2, 1}, new int[]{2, 2, 2, 2}, 7, 4,
                true, IMAGENET_MEAN, IMAGENET_STD));
        // The ShiftAddViT starting point: B0 with spatial reduction removed (global MSA in every stage).
        REGISTRY.put("pvt_v2_b0_msa", () -> new PvtV2Config("pvt_v2_b0_msa", 224, 3, 1000, new int[]{32, 64, 160, 256},
                new int[]{1, 2, 5, 8}, new int[]{8, 8, 4, 4}, new int[]{1, 1, 1, 1}, new int[]{2, 2, 2, 2}, 7, 4,
                true, IMAGENET_MEAN, IMAGENET_STD));
        REGISTRY.put("pvt_v2_b1", () -> new PvtV2Config("pvt_v2_b1", 224, 3, 1000, new int[]{64, 128, 320, 512},
                new int[]{1, 2, 5, 8}, new int[]{8, 8, 4, 4}, new int[]{8, 4, 2, 1}, new int[]{2, 2, 2, 2}, 7, 4,
                true, IMAGENET_MEAN, IMAGENET_STD));
        REGISTRY.put("pvt_v2_b2", () -> new PvtV2Config("pvt_v2_b2", 224, 3, 1000, new int[]{64, 128, 320, 512},
                new int[]{1, 2, 5, 8}, new int[]{8, 8, 4, 4}, new int[]{8, 4, 2, 1}, new int[]{3, 4, 6, 3}, 7, 4,
                true, IMAGENET_MEAN, IMAGENET_STD));
        // The original PVT (whai362/PVT pvt_tiny): non-overlapping patch embeddings, position embeddings, class token.
        REGISTRY.put("pvt_v1_tiny", () -> new PvtV1Config("pvt_v1_tiny", 224, 4, 3, 1000, new int[]{64, 128, 320, 512},
                new int[]{1, 2, 5, 8}, new int[]{8, 8, 4, 4}, new int[]{8, 4, 2, 1}, new int[]{2, 2, 2, 2}, true,
                IMAGENET_MEAN, IMAGENET_STD));
        // 28×28 grayscale: patch 4 gives 7×7 tokens, the common choice for small ViTs on this data.
        REGISTRY.put("vit_fmnist", () -> new VitConfig("vit_fmnist", 28, 4, 1, 10, 96, 6, 4, 2.0, true, false,
                1e-6f, FMNIST_MEAN, FMNIST_STD));
        // The default: 14×14 → 7×7 → 4×4 token grids; convolutional embeddings and depthwise MLP convs
        // give the locality a small data set needs.
        REGISTRY.put("pvt_v2_fmnist", () -> new PvtV2Config("pvt_v2_fmnist", 28, 1, 10, new int[]{32, 64, 128},
                new int[]{1, 2, 4}, new int[]{4, 4, 4}, new int[]{2, 1, 1}, new int[]{2, 2, 2}, 3, 2, true,
                FMNIST_MEAN, FMNIST_STD));
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
