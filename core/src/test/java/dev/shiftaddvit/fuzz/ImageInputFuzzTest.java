package dev.shiftaddvit.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.shiftaddvit.data.ImageInput;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzzing of image decoding (PNG, JPEG, GIF, BMP through ImageIO, the declared-size
 * checks, the PNG chunk walk, the gray and RGB conversions). Seeds: one small image of each kind
 * and a decompression bomb under {@code ImageInputFuzzTestInputs/}. How to fuzz: see
 * {@link TorchCheckpointFuzzTest}.
 */
class ImageInputFuzzTest {
    private static final String SOURCE = "fuzz-image";
    /**
     * A tiny file may declare up to {@link ImageInput#maxPixels()} pixels, which the decoder then
     * allocates: that is the documented limit, so the bound is per declarable pixel (ARGB raster,
     * RGB copy, float gray) rather than per input byte. The seed {@code bomb-16384x4096.png} declares
     * more and must be refused from its header.
     */
    private static final long BOUND = FuzzOracle.BASE_ALLOWANCE + 16L * ImageInput.maxPixels();

    @FuzzTest(maxDuration = "10s")
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void decode(byte[] input) throws Exception {
        FuzzOracle.check(SOURCE, BOUND, () -> ImageInput.decodeGray(input, SOURCE, 28, false));
        FuzzOracle.check(SOURCE, BOUND, () -> ImageInput.decodeRgb(input, SOURCE));
    }
}
