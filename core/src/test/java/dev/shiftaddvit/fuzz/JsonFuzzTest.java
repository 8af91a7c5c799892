package dev.shiftaddvit.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.shiftaddvit.io.Json;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzzing of the JSON parser behind safetensors headers, index files and
 * {@code config.json}; what parses must also write and parse back to the same value. How to
 * fuzz: see {@link TorchCheckpointFuzzTest}.
 */
class JsonFuzzTest {
    private static final String SOURCE = "fuzz.json";

    @FuzzTest(maxDuration = "10s")
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void parse(byte[] input) throws Exception {
        String text = new String(input, StandardCharsets.UTF_8);
        FuzzOracle.check(SOURCE, FuzzOracle.BASE_ALLOWANCE + 256L * input.length, () -> {
            Object v = Json.parse(text, SOURCE);
            String written = Json.write(v);
            Object again = Json.parse(written, SOURCE);
            if (!Json.write(again).equals(written)) {
                throw new AssertionError("JSON does not round-trip: " + written + " vs " + Json.write(again));
            }
        });
    }
}
