package dev.shiftaddvit.model;

import org.junit.jupiter.api.Test;

import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void everyRegisteredConfigRoundTripsThroughItsCodecFieldByField() throws ReflectiveOperationException {
        for (String name : Configs.names()) {
            ModelConfig c = Configs.byName(name);
            ModelConfig back = ModelConfig.fromMetadata(c.toMetadata(), "test");
            // Records compare arrays by identity, so each component is compared on its own, by value.
            assertEquals(c.getClass(), back.getClass(), name);
            for (RecordComponent rc : c.getClass().getRecordComponents()) {
                Object a = rc.getAccessor().invoke(c);
                Object b = rc.getAccessor().invoke(back);
                assertTrue(Objects.deepEquals(a, b), name + "." + rc.getName() + ": " + a + " became " + b);
            }
        }
    }
}
