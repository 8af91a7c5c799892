package dev.shiftaddvit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.kernel.Gelu;
import dev.shiftaddvit.kernel.VectorWidth;
import dev.shiftaddvit.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FusedMlpTest {
    private static final int VL = VectorWidth.FLOAT.length();

    @Test
    void givesTheBitsOfTheLayerByLayerPathAtEveryRowCount() {
        for (int hidden : new int[] {2 * VL, 3 * VL, 48 * VL}) {
            for (int rows : new int[] {33, 144, 197, 301, 1000}) {
                SplittableRandom rng = new SplittableRandom(rows * 31L + hidden);
                Linear fc1 = withBias(new Linear("fc1", 24, hidden, true, rng), rng);
                Linear fc2 = withBias(new Linear("fc2", hidden, 40, true, rng), rng);
                Tensor x = Tensor.zeros(rows, 24);
                for (int i = 0; i < x.size(); i++) x.data()[i] = (float) rng.nextGaussian();
                assertTrue(FusedMlp.applies(fc1, fc2, x), "fused path applies");
                Tensor h = fc1.forward(x, false);
                Gelu.forward(h.data(), h.data(), h.size());
                float[] expected = fc2.forward(h, false).data();
                assertArrayEquals(expected, FusedMlp.forward(fc1, fc2, x).data(), "rows=" + rows + " hidden=" + hidden);
            }
        }
    }

    @Test
    void staysLayerByLayerWhereItsBitsWouldDiffer() {
        SplittableRandom rng = new SplittableRandom(3);
        Linear fc1 = new Linear("fc1", 16, 2 * VL + 1, true, rng);
        Linear fc2 = new Linear("fc2", 2 * VL + 1, 16, true, rng);
        assertFalse(FusedMlp.applies(fc1, fc2, Tensor.zeros(64, 16)), "hidden not a whole number of vectors");
        Linear fc1v = new Linear("fc1", 16, 2 * VL, true, rng);
        Linear fc2v = new Linear("fc2", 2 * VL, 16, true, rng);
        assertFalse(FusedMlp.applies(fc1v, fc2v, Tensor.zeros(8, 16)), "rows on the dot path");
    }

    private static Linear withBias(Linear l, SplittableRandom rng) {
        float[] b = l.bias().value().data();
        for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextGaussian();
        return l;
    }
}
