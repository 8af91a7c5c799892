package dev.shiftaddvit.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** {@link FixedPoint}: the Q16.16 semantics, and the vectorised array versions against their scalar twins. */
class MatShiftFixedPointTest {
    private static final float[] SPECIAL = {0f, -0f, 1f, -1f, 0.1f, -0.1f, 0x1p-16f, -0x1p-16f, 0x1p-17f, -0x1p-17f,
            -1e-30f, 1e-30f, Float.MIN_VALUE, -Float.MIN_VALUE, 127.99999f, -127.99999f, 128f, 255.5f, -255.5f,
            32767f, 32767.5f, 32768f, -32768f, -32768.004f, -32769f, 40000f, -40000f, 1e10f, -1e10f,
            Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
            0x1p7f - 0x1p-17f, -0x1p7f + 0x1p-17f, 0x1p8f + 0.5f};

    @Test
    void quantizerFloorsOntoTheQ16Grid() {
        assertEquals(6553 * 0x1p-16f, FixedPoint.quantize(0.1f));
        assertEquals(-6554 * 0x1p-16f, FixedPoint.quantize(-0.1f));
        assertEquals(0f, FixedPoint.quantize(0x1p-17f));
        assertEquals(-0x1p-16f, FixedPoint.quantize(-0x1p-17f));
        assertEquals(32767f, FixedPoint.quantize(32767.5f));
        assertEquals(32767f, FixedPoint.quantize(Float.POSITIVE_INFINITY));
        assertEquals(-32768f, FixedPoint.quantize(-40000f));
        assertEquals(Float.NaN, FixedPoint.quantize(Float.NaN));
        assertEquals(-0f, FixedPoint.quantize(-0f));
        assertEquals(1.5f, FixedPoint.quantize(1.5f));
    }

    @Test
    void rawValueIsTheQuantizedValueTimesTwoToTheSixteen() {
        assertEquals(6553, FixedPoint.toFixed(0.1f));
        assertEquals(-6554, FixedPoint.toFixed(-0.1f));
        assertEquals(FixedPoint.RAW_MAX, FixedPoint.toFixed(1e10f));
        assertEquals(32767 * 65536, FixedPoint.toFixed(32767.9f));
        assertEquals(Integer.MIN_VALUE, FixedPoint.toFixed(-1e10f));
        assertEquals(0, FixedPoint.toFixed(Float.NaN));
        assertEquals(-1, FixedPoint.toFixed(-1e-30f));
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < 20000; i++) {
            float x = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-6, 6)));
            assertEquals((int) (FixedPoint.quantize(x) * 65536f), FixedPoint.toFixed(x), "x=" + x);
            assertEquals(FixedPoint.quantize(x), FixedPoint.toFloat(FixedPoint.toFixed(x)), "x=" + x);
        }
        for (float x : SPECIAL) {
            if (!Float.isNaN(x)) assertEquals((int) (FixedPoint.quantize(x) * 65536f), FixedPoint.toFixed(x), "x=" + x);
        }
        assertEquals(1f, FixedPoint.toFloat(65536));
        assertEquals(-0x1p-16f, FixedPoint.toFloat(-1));
    }

    private static float[] data(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = switch (rnd.nextInt(4)) {
                case 0 -> SPECIAL[rnd.nextInt(SPECIAL.length)];
                case 1 -> (float) rnd.nextGaussian();
                case 2 -> (float) (rnd.nextGaussian() * 1e5);
                default -> Math.round(rnd.nextGaussian() * 1000) * 0x1p-16f + (rnd.nextBoolean() ? 0f : 0x1p-18f);
            };
        }
        return a;
    }

    @Test
    void vectorArraysMatchScalarTwinsBitForBit() {
        SplittableRandom rnd = new SplittableRandom(5);
        int[] sizes = {0, 1, 2, 3, 7, 8, 13, 16, 17, 31, 33, 64, 65, 100, 257, 70001};
        for (int n : sizes) {
            for (int off : new int[]{0, 3}) {
                float[] src = data(rnd, n + off + 2);
                float[] qe = new float[n + off + 1];
                float[] qa = new float[n + off + 1];
                FixedPointReference.quantize(src, off, qe, 1, n);
                FixedPoint.quantize(src, off, qa, 1, n);
                for (int i = 0; i < qe.length; i++) {
                    assertEquals(Float.floatToRawIntBits(qe[i]), Float.floatToRawIntBits(qa[i]),
                            "quantize n=" + n + " at " + i + " of " + (i - 1 + off < src.length && i >= 1
                                    ? src[i - 1 + off] : 0f));
                }
                int[] fe = new int[n + off];
                int[] fa = new int[n + off];
                FixedPointReference.toFixed(src, 1, fe, off, n);
                FixedPoint.toFixed(src, 1, fa, off, n);
                assertArrayEquals(fe, fa, "toFixed n=" + n);
                int[] raw = new int[n + 1];
                for (int i = 0; i < raw.length; i++) raw[i] = rnd.nextInt();
                float[] be = new float[n + 2];
                float[] ba = new float[n + 2];
                FixedPointReference.toFloat(raw, 1, be, 2, n);
                FixedPoint.toFloat(raw, 1, ba, 2, n);
                assertArrayEquals(be, ba, "toFloat n=" + n);
            }
        }
        // In place.
        float[] a = data(rnd, 1001);
        float[] expected = new float[a.length];
        FixedPointReference.quantize(a, 0, expected, 0, a.length);
        FixedPoint.quantize(a, 0, a, 0, a.length);
        assertArrayEquals(expected, a);
    }

    @Test
    void rejectsOutOfBoundsRanges() {
        assertThrows(IllegalArgumentException.class, () -> FixedPoint.quantize(new float[3], 1, new float[3], 0, 3));
        assertThrows(IllegalArgumentException.class, () -> FixedPoint.toFixed(new float[3], 0, new int[2], 0, 3));
        assertThrows(IllegalArgumentException.class, () -> FixedPoint.toFloat(new int[3], 0, new float[3], 0, -1));
    }
}
