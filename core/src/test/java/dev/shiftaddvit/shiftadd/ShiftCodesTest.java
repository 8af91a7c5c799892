package dev.shiftaddvit.shiftadd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The 5-bit shift code: layout, round trips, validation messages and the dense conversion. */
class ShiftCodesTest {
    @Test
    void everyValidPairRoundTripsThroughItsCode() {
        int valid = 0;
        for (int s = -1; s <= 1; s++) {
            for (int e = -14; e <= 0; e++) {
                byte c = ShiftCodes.encode(s, e);
                assertTrue(ShiftCodes.isValid(c));
                assertEquals(s, ShiftCodes.sign(c));
                if (s != 0) {
                    assertEquals(e, ShiftCodes.shift(c));
                    assertEquals(s * Math.scalb(1f, e), ShiftCodes.weight(c));
                    valid++;
                } else {
                    assertEquals(ShiftCodes.ZERO, c);
                    assertEquals(0f, ShiftCodes.weight(c));
                }
            }
        }
        assertEquals(30, valid);
        assertEquals(0x01, ShiftCodes.encode(1, 0));
        assertEquals(0x0F, ShiftCodes.encode(1, -14));
        assertEquals(0x11, ShiftCodes.encode(-1, 0));
        assertEquals(0x1F, ShiftCodes.encode(-1, -14));
        int count = 0;
        for (int c = 0; c < 256; c++) if (ShiftCodes.isValid((byte) c)) count++;
        assertEquals(31, count);
        assertFalse(ShiftCodes.isValid((byte) 0x10));
        assertFalse(ShiftCodes.isValid((byte) 0x20));
        assertFalse(ShiftCodes.isValid((byte) 0xFF));
    }

    @Test
    void packAndUnpackArrays() {
        SplittableRandom rnd = new SplittableRandom(1);
        int n = 1000;
        byte[] sign = new byte[n];
        byte[] shift = new byte[n];
        for (int i = 0; i < n; i++) {
            sign[i] = (byte) (rnd.nextInt(3) - 1);
            shift[i] = (byte) -rnd.nextInt(15);
        }
        byte[] codes = ShiftCodes.pack(sign, shift);
        byte[] s2 = new byte[n];
        byte[] e2 = new byte[n];
        ShiftCodes.unpack(codes, s2, e2);
        assertArrayEquals(sign, s2);
        float[] dense = ShiftCodes.toDense(codes);
        for (int i = 0; i < n; i++) {
            if (sign[i] != 0) assertEquals(shift[i], e2[i]);
            else assertEquals(-14, e2[i]);
            assertEquals(sign[i] == 0 ? 0f : sign[i] * Math.scalb(1f, shift[i]), dense[i]);
        }
    }

    @Test
    void invalidCodesAndPairsAreRejectedNamingThePosition() {
        byte[] codes = {0x01, 0x00, 0x1F, 0x10, 0x05, 0x05};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShiftCodes.validate(codes));
        assertTrue(e.getMessage().contains("index 3") && e.getMessage().contains("0x10"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ShiftCodes.validate(codes, 2, 3));
        assertTrue(e.getMessage().contains("[1, 0]"), e.getMessage());
        byte[] high = {0x01, (byte) 0xE1};
        e = assertThrows(IllegalArgumentException.class, () -> ShiftCodes.unpack(high, new byte[2], new byte[2]));
        assertTrue(e.getMessage().contains("index 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ShiftCodes.validate(new byte[5], 2, 3));
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ShiftCodes.pack(new byte[]{1, 1, 2}, new byte[]{0, 0, 0}));
        assertTrue(e.getMessage().contains("index 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ShiftCodes.pack(new byte[]{1, -1}, new byte[]{0, -15}));
        assertTrue(e.getMessage().contains("index 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ShiftCodes.pack(new byte[]{1}, new byte[]{1}));
        assertTrue(e.getMessage().contains("index 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ShiftCodes.encode(2, 0));
        e = assertThrows(IllegalArgumentException.class,
                () -> ShiftCodes.fromDense(new float[]{1f, Float.NaN}, new byte[2], new byte[2]));
        assertTrue(e.getMessage().contains("index 1"), e.getMessage());
        // The zero sign ignores any shift.
        assertArrayEquals(new byte[]{0}, ShiftCodes.pack(new byte[]{0}, new byte[]{-100}));
    }

    @Test
    void logDomainRoundingIsExactAtTheSquareRootOfTwoThreshold() {
        SplittableRandom rnd = new SplittableRandom(2);
        for (int i = 0; i < 100000; i++) {
            float a = (float) Math.scalb(rnd.nextDouble(1, 2), rnd.nextInt(-140, 120));
            double l = Math.log(a) / Math.log(2);
            int r = ShiftCodes.log2Round(a);
            if (Math.abs(l - Math.floor(l) - 0.5) > 1e-9) assertEquals((int) Math.rint(l), r, "a=" + a);
        }
        float below = 1.4142135f; // < √2
        float above = Math.nextUp(below); // > √2
        assertEquals(0, ShiftCodes.log2Round(below));
        assertEquals(1, ShiftCodes.log2Round(above));
        assertEquals(-5, ShiftCodes.log2Round(below * 0x1p-5f));
        assertEquals(-4, ShiftCodes.log2Round(above * 0x1p-5f));
        assertEquals(-149, ShiftCodes.log2Round(Float.MIN_VALUE));
        assertThrows(IllegalArgumentException.class, () -> ShiftCodes.log2Round(0f));
    }

    @Test
    void denseAndParameterConversion() {
        float[] w = {0f, -0f, 2f, -0.3f, 1e-9f, -0.70f, 0.71f, 0.25f};
        byte[] s = new byte[w.length];
        byte[] e = new byte[w.length];
        ShiftCodes.fromDense(w, s, e);
        assertArrayEquals(new byte[]{0, 0, 1, -1, 1, -1, 1, 1}, s);
        assertArrayEquals(new byte[]{-14, -14, 0, -2, -14, -1, 0, -2}, e);
        float[] p = {-0.5f, -2.5f, -20f, 3f};
        float[] sg = {0.5f, -0.6f, 1.5f, -0.4f};
        byte[] s2 = new byte[4];
        byte[] e2 = new byte[4];
        ShiftCodes.fromParameters(p, sg, s2, e2);
        assertArrayEquals(new byte[]{0, -1, 1, 0}, s2);
        assertArrayEquals(new byte[]{0, -2, -14, 0}, e2);
    }
}
