package dev.shiftaddvit.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.shiftaddvit.data.Idx;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing of the IDX (MNIST) reader, raw and gzip, from a file (whose size is
 * checked against the dimensions) and from a stream (where only the cap applies). How to fuzz: see
 * {@link TorchCheckpointFuzzTest}.
 */
class IdxFuzzTest {
    private static final Path FILE = FuzzOracle.scratchFile(".idx");
    /** The cap passed to the stream reader: a stream has no size, so this is what bounds it. */
    private static final long STREAM_CAP = 1 << 20;

    @FuzzTest(maxDuration = "10s")
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void read(byte[] input) throws Exception {
        Files.write(FILE, input);
        FuzzOracle.check(FILE.toString(), FuzzOracle.BASE_ALLOWANCE + 4L * input.length, () -> Idx.read(FILE));
        FuzzOracle.check("stream", FuzzOracle.BASE_ALLOWANCE + 4 * STREAM_CAP,
                () -> Idx.read(new ByteArrayInputStream(input), "stream", 0, STREAM_CAP));
    }
}
