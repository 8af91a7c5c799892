package dev.shiftaddvit.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.io.Safetensors.Entry;
import dev.shiftaddvit.io.SafetensorsFile;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing of the safetensors reader (header length, UTF-8, JSON, dtypes, shapes,
 * offsets, tiling, then every tensor read through the memory map).
 *
 * <p>A plain {@code mvn test} runs this in Jazzer's regression mode: once on the empty input and on
 * every file in {@code src/test/resources/dev/shiftaddvit/fuzz/SafetensorsFuzzTestInputs/} (the
 * seed corpus, and any {@code crash-*} file a campaign left in {@code .../SafetensorsFuzzTestInputs/open/}),
 * in well under a second. With {@code JAZZER_FUZZ=1} it fuzzes for {@code maxDuration} (one fuzz
 * test per JVM, so pick it with {@code -Dtest}; {@code surefire:test@default-test} runs it once, where
 * {@code mvn test} would run it again in each vector-width execution):
 *
 * <pre>
 * JAZZER_FUZZ=1 mvn -pl core test-compile surefire:test@default-test -Dtest=SafetensorsFuzzTest
 * </pre>
 *
 * A longer campaign: add {@code -Djazzer.max_duration=1h}. Running all targets, the corpus and
 * findings: see {@link TorchCheckpointFuzzTest}.
 */
class SafetensorsFuzzTest {
    private static final Path FILE = FuzzOracle.scratchFile(".safetensors");

    @FuzzTest(maxDuration = "10s")
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void open(byte[] input) throws Exception {
        Files.write(FILE, input);
        // Float conversion at most doubles the data (F16/BF16 → F32); the header becomes JSON maps.
        long bound = FuzzOracle.BASE_ALLOWANCE + 64L * input.length;
        FuzzOracle.check(FILE.toString(), bound, () -> {
            try (SafetensorsFile f = Safetensors.read(FILE)) {
                f.metadata();
                for (Entry e : f.entries()) {
                    f.segment(e.name());
                    if (e.type().isFloatConvertible()) f.tensor(e.name(), e.shape());
                    else f.rawBytes(e.name());
                }
            }
        });
    }
}
