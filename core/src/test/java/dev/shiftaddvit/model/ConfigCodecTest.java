package dev.shiftaddvit.model;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class ConfigCodecTest {
    // Written from the hand-written toMetadata methods before the codec replaced them: files already
    // on disk carry exactly these keys in exactly this order.
    private static final Map<String, List<String>> KEYS_BY_ARCH = Map.of(
            "vit", List.of("arch", "name", "img_size", "patch_size", "in_chans", "num_classes", "embed_dim", "depth",
                    "num_heads", "mlp_ratio", "qkv_bias", "class_token", "norm_eps", "mean", "std"),
            "pvt_v1", List.of("arch", "name", "img_size", "patch_size", "in_chans", "num_classes", "embed_dims",
                    "num_heads", "mlp_ratios", "sr_ratios", "depths", "qkv_bias", "mean", "std"),
            "pvt_v2", List.of("arch", "name", "img_size", "in_chans", "num_classes", "embed_dims", "num_heads",
                    "mlp_ratios", "sr_ratios", "depths", "stem_kernel", "stem_stride", "qkv_bias", "mean", "std"));

    @Test
    void everyRegisteredConfigWritesTodaysKeysInTodaysOrder() {
        for (String name : Configs.names()) {
            Map<String, String> meta = Configs.byName(name).toMetadata();
            List<String> expected = KEYS_BY_ARCH.get(meta.get("arch"));
            assertEquals(expected, List.copyOf(meta.keySet()), name);
        }
    }

    @Test
    void everyRegisteredConfigRoundTripsThroughItsCodecFieldByField() {
        for (String name : Configs.names()) {
            ModelConfig c = Configs.byName(name);
            ModelConfig back = ModelConfig.fromMetadata(c.toMetadata(), "test");
            // Records compare arrays by identity, so each component is compared on its own.
            switch (c) {
                case VitConfig v -> assertFieldsEqual(v, assertInstanceOf(VitConfig.class, back, name), name);
                case PvtV1Config v -> assertFieldsEqual(v, assertInstanceOf(PvtV1Config.class, back, name), name);
                case PvtV2Config v -> assertFieldsEqual(v, assertInstanceOf(PvtV2Config.class, back, name), name);
            }
        }
    }

    private static void assertFieldsEqual(VitConfig a, VitConfig b, String name) {
        assertEquals(a.name(), b.name(), name);
        assertEquals(a.imgSize(), b.imgSize(), name);
        assertEquals(a.patchSize(), b.patchSize(), name);
        assertEquals(a.inChans(), b.inChans(), name);
        assertEquals(a.numClasses(), b.numClasses(), name);
        assertEquals(a.embedDim(), b.embedDim(), name);
        assertEquals(a.depth(), b.depth(), name);
        assertEquals(a.heads(), b.heads(), name);
        assertEquals(a.mlpRatio(), b.mlpRatio(), name);
        assertEquals(a.qkvBias(), b.qkvBias(), name);
        assertEquals(a.classToken(), b.classToken(), name);
        assertEquals(a.eps(), b.eps(), name);
        assertArrayEquals(a.mean(), b.mean(), name);
        assertArrayEquals(a.std(), b.std(), name);
    }

    private static void assertFieldsEqual(PvtV1Config a, PvtV1Config b, String name) {
        assertEquals(a.name(), b.name(), name);
        assertEquals(a.imgSize(), b.imgSize(), name);
        assertEquals(a.patchSize(), b.patchSize(), name);
        assertEquals(a.inChans(), b.inChans(), name);
        assertEquals(a.numClasses(), b.numClasses(), name);
        assertArrayEquals(a.embedDims(), b.embedDims(), name);
        assertArrayEquals(a.heads(), b.heads(), name);
        assertArrayEquals(a.mlpRatios(), b.mlpRatios(), name);
        assertArrayEquals(a.srRatios(), b.srRatios(), name);
        assertArrayEquals(a.depths(), b.depths(), name);
        assertEquals(a.qkvBias(), b.qkvBias(), name);
        assertArrayEquals(a.mean(), b.mean(), name);
        assertArrayEquals(a.std(), b.std(), name);
    }

    private static void assertFieldsEqual(PvtV2Config a, PvtV2Config b, String name) {
        assertEquals(a.name(), b.name(), name);
        assertEquals(a.imgSize(), b.imgSize(), name);
        assertEquals(a.inChans(), b.inChans(), name);
        assertEquals(a.numClasses(), b.numClasses(), name);
        assertArrayEquals(a.embedDims(), b.embedDims(), name);
        assertArrayEquals(a.heads(), b.heads(), name);
        assertArrayEquals(a.mlpRatios(), b.mlpRatios(), name);
        assertArrayEquals(a.srRatios(), b.srRatios(), name);
        assertArrayEquals(a.depths(), b.depths(), name);
        assertEquals(a.stemKernel(), b.stemKernel(), name);
        assertEquals(a.stemStride(), b.stemStride(), name);
        assertEquals(a.qkvBias(), b.qkvBias(), name);
        assertArrayEquals(a.mean(), b.mean(), name);
        assertArrayEquals(a.std(), b.std(), name);
    }
}
