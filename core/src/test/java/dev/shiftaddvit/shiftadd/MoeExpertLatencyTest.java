package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.nn.Linear;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** α from measured expert latencies: positive, finite, normalised to sum 1, larger for the slower expert. */
class MoeExpertLatencyTest {
    private static void assertValid(ExpertLatency.Measurement m, int in, int out, int tokens) {
        assertEquals(in, m.in());
        assertEquals(out, m.out());
        assertEquals(tokens, m.tokens());
        assertTrue(m.multNanosPerToken() > 0 && Double.isFinite(m.multNanosPerToken()), m.toString());
        assertTrue(m.shiftNanosPerToken() > 0 && Double.isFinite(m.shiftNanosPerToken()), m.toString());
        float[] a = m.alpha();
        assertEquals(2, a.length);
        assertTrue(a[0] > 0 && a[1] > 0 && Float.isFinite(a[0]) && Float.isFinite(a[1]), m.toString());
        assertEquals(1.0, a[0] + a[1], 1e-6);
        assertEquals(m.ratio(), a[0] / (double) a[1], 1e-4 * m.ratio());
    }

    @Test
    void measuresPositiveFiniteAlphaThatSumsToOne() {
        assertValid(ExpertLatency.measure(16, 8, true, 32, 2, 3, 1), 16, 8, 32);
        Linear dense = new Linear("fc", 12, 5, false, new SplittableRandom(2));
        assertValid(ExpertLatency.measure(dense, 7, 1, 2), 12, 5, 7);
    }

    @Test
    void alphaIsProportionalToLatency() {
        // Latencies 3 : 2 (Mult slower) → α = (0.6, 0.4), upstream's 6:4.
        assertArrayEquals(new float[]{0.6f, 0.4f}, ExpertLatency.alpha(3.0, 2.0), 1e-7f);
        assertArrayEquals(ExpertLatency.UPSTREAM_ALPHA, ExpertLatency.alpha(6, 4), 1e-7f);
        float[] a = ExpertLatency.alpha(1.0, 4.0);
        assertTrue(a[1] > a[0], "the slower expert gets the larger alpha");
        assertThrows(IllegalArgumentException.class, () -> ExpertLatency.alpha(0, 1));
        assertThrows(IllegalArgumentException.class, () -> ExpertLatency.alpha(1, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> ExpertLatency.alpha(Double.POSITIVE_INFINITY, 1));
        assertThrows(IllegalArgumentException.class, () -> ExpertLatency.measure(4, 4, false, 0, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> ExpertLatency.measure(4, 4, false, 4, 1, 0, 1));
    }

    @Test
    void medianOfSamples() {
        assertEquals(3.0, ExpertLatency.median(new double[]{9, 1, 3}));
        assertEquals(2.5, ExpertLatency.median(new double[]{4, 1, 2, 3}));
    }
}
