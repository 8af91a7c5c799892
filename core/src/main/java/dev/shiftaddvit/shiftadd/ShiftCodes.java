package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.FixedPoint;
import dev.shiftaddvit.kernel.MatShift;
import dev.shiftaddvit.kernel.MatShiftExponent;

/**
 * Shift-weight codes: conversion of dense weights and DeepShift-PS parameters to (sign, shift) pairs,
 * and their 5-bit code, stored one code per byte (safetensors dtype U8, shape [out, in] as the
 * PyTorch weight it replaces).
 *
 * <p><b>Code layout</b> (bits 7..0 of the byte):
 * <pre>
 *   0 0 0 n f f f f      n = 1 for a negative weight, f = 1 − shift ∈ 1..15 (shift ∈ [−14, 0])
 *   0x00                 the zero weight (sign 0)
 * </pre>
 * so a code is 0 for zero, 0x01..0x0F for +2^0..+2^-14 and 0x11..0x1F for −2^0..−2^-14. Invalid:
 * 0x10 (negative zero) and anything with bits 5..7 set. A zero-filled buffer is all-zero weights.
 *
 * <p><b>Rounding</b> (spec §3.4, {@code utils.get_shift_and_sign}): sign(w) and round(log₂|w|) in the
 * log domain, clamped to [−14, 0]: w = 0 → (0, −14), |w| &gt; 1 → shift 0, and tiny nonzero w keep
 * their sign at 2^-14 (only exact zeros become zero). round(log₂ a) is computed exactly (a = m·2^e with
 * m ∈ [1, 2) rounds up iff m² &gt; 2, exact in double), so the threshold between 2^e and 2^(e+1) is √2·2^e
 * with no ties; upstream's float32 log may differ only for a within an ulp of that threshold.
 */
public final class ShiftCodes {
    /** Smallest shift (weight magnitude 2^-14), upstream's 5-bit shift_range. */
    public static final int MIN_SHIFT = -14;
    /** Largest shift (weight magnitude 1). */
    public static final int MAX_SHIFT = 0;
    /** Code of the zero weight. */
    public static final byte ZERO = 0;
    private static final int NEG = 0x10;

    private ShiftCodes() {
    }

    /** Exact round(log₂ a) for finite a &gt; 0 (subnormal floats included). */
    public static int log2Round(float a) {
        if (!(a > 0) || Float.isInfinite(a)) {
            throw new IllegalArgumentException("log2Round needs a finite positive value, got " + a);
        }
        double d = a;
        int e = Math.getExponent(d);
        double m = Math.scalb(d, -e);
        return m * m > 2.0 ? e + 1 : e;
    }

    /** Log-domain rounding of one dense weight to its shift in [−14, 0] (−14 for w = 0). */
    public static int shiftOf(float w) {
        if (w == 0f) return MIN_SHIFT;
        float a = Math.abs(w);
        if (a > 1f) return MAX_SHIFT;
        return Math.max(MIN_SHIFT, log2Round(a));
    }

    /** Ternary sign of a dense weight: signum, with 0 for ±0. */
    public static int signOf(float w) {
        return w > 0 ? 1 : w < 0 ? -1 : 0;
    }

    /**
     * Dense weights → (sign, shift) by log-domain rounding (see class comment).
     *
     * @throws IllegalArgumentException naming the index of a NaN or infinite weight
     */
    public static void fromDense(float[] w, byte[] sign, byte[] shift) {
        requireSameLength(w.length, sign.length, shift.length);
        for (int i = 0; i < w.length; i++) {
            float v = w[i];
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("dense weight at index " + i + " is " + v + ", expected finite");
            }
            sign[i] = (byte) signOf(v);
            shift[i] = (byte) shiftOf(v);
        }
    }

    /**
     * DeepShift-PS parameters → the (sign, shift) its forward uses: shift = rint(clamp(P, −14, 0)),
     * sign = signum(rint(S)) (|S| ≤ 0.5 gives 0; rint is half-to-even like torch.round).
     *
     * @throws IllegalArgumentException naming the index of a NaN parameter
     */
    public static void fromParameters(float[] p, float[] s, byte[] sign, byte[] shift) {
        requireSameLength(p.length, s.length, sign.length);
        requireSameLength(p.length, shift.length, shift.length);
        for (int i = 0; i < p.length; i++) {
            if (Float.isNaN(p[i]) || Float.isNaN(s[i])) {
                throw new IllegalArgumentException("shift/sign parameter at index " + i + " is NaN");
            }
            shift[i] = (byte) roundShift(p[i]);
            sign[i] = (byte) roundSign(s[i]);
        }
    }

    /** rint(clamp(P, −14, 0)) as the PS forward does it. */
    public static int roundShift(float p) {
        return (int) Math.rint(Math.min(Math.max(p, (float) MIN_SHIFT), (float) MAX_SHIFT));
    }

    /** signum(rint(S)) as the PS forward does it. */
    public static int roundSign(float s) {
        return (int) Math.signum(Math.rint(s));
    }

    /** Code of one (sign, shift) pair; the shift is ignored (canonical zero) when sign is 0. */
    public static byte encode(int sign, int shift) {
        if (sign < -1 || sign > 1) throw new IllegalArgumentException("sign " + sign + " is not -1, 0 or 1");
        if (sign == 0) return ZERO;
        if (shift < MIN_SHIFT || shift > MAX_SHIFT) {
            throw new IllegalArgumentException("shift " + shift + " is outside [" + MIN_SHIFT + ", " + MAX_SHIFT + "]");
        }
        return (byte) ((sign < 0 ? NEG : 0) | (1 - shift));
    }

    /** Whether a byte is a valid code. */
    public static boolean isValid(byte code) {
        int c = code & 0xFF;
        return c < 0x20 && c != NEG;
    }

    /** Sign (−1, 0, 1) of a valid code. */
    public static int sign(byte code) {
        int c = code & 0xFF;
        return c == 0 ? 0 : (c & NEG) != 0 ? -1 : 1;
    }

    /** Shift of a valid code (−14 for the zero code, as the PS forward clamps w = 0 there). */
    public static int shift(byte code) {
        int f = code & 0x0F;
        return f == 0 ? MIN_SHIFT : 1 - f;
    }

    /** Weight value sign·2^shift of a valid code. */
    public static float weight(byte code) {
        int s = sign(code);
        return s == 0 ? 0f : s * Math.scalb(1f, shift(code));
    }

    /**
     * Packs (sign, shift) arrays into codes.
     *
     * @throws IllegalArgumentException naming the first index whose sign or shift is out of range
     */
    public static byte[] pack(byte[] sign, byte[] shift) {
        requireSameLength(sign.length, shift.length, shift.length);
        byte[] codes = new byte[sign.length];
        for (int i = 0; i < sign.length; i++) {
            int s = sign[i];
            int e = shift[i];
            if (s < -1 || s > 1) {
                throw new IllegalArgumentException("sign at index " + i + " is " + s + ", expected -1, 0 or 1");
            }
            if (s != 0 && (e < MIN_SHIFT || e > MAX_SHIFT)) {
                throw new IllegalArgumentException("shift at index " + i + " is " + e + ", expected within ["
                        + MIN_SHIFT + ", " + MAX_SHIFT + "]");
            }
            codes[i] = encode(s, e);
        }
        return codes;
    }

    /** Codes → (sign, shift); validates first (see {@link #validate(byte[])}). */
    public static void unpack(byte[] codes, byte[] sign, byte[] shift) {
        requireSameLength(codes.length, sign.length, shift.length);
        validate(codes);
        for (int i = 0; i < codes.length; i++) {
            sign[i] = (byte) sign(codes[i]);
            shift[i] = (byte) shift(codes[i]);
        }
    }

    /** Codes → dense float weights sign·2^shift. */
    public static float[] toDense(byte[] codes) {
        validate(codes);
        float[] w = new float[codes.length];
        for (int i = 0; i < codes.length; i++) w[i] = weight(codes[i]);
        return w;
    }

    /** @throws IllegalArgumentException naming the index of the first invalid code */
    public static void validate(byte[] codes) {
        for (int i = 0; i < codes.length; i++) {
            if (!isValid(codes[i])) {
                throw new IllegalArgumentException("shift code at index " + i + " is " + describe(codes[i]));
            }
        }
    }

    /**
     * Validates a [rows, cols] code matrix.
     *
     * @throws IllegalArgumentException naming the size mismatch or the [row, col] of the first invalid code
     */
    public static void validate(byte[] codes, int rows, int cols) {
        if ((long) rows * cols != codes.length) {
            throw new IllegalArgumentException("shift codes: " + codes.length + " codes for shape [" + rows + ", "
                    + cols + "]");
        }
        for (int i = 0; i < codes.length; i++) {
            if (!isValid(codes[i])) {
                throw new IllegalArgumentException("shift code at [" + (i / cols) + ", " + (i % cols) + "] (index " + i
                        + ") is " + describe(codes[i]));
            }
        }
    }

    /** Packs a [n, k] code matrix (PyTorch [out, in]) and optional raw Q16.16 bias for {@link MatShift}. */
    public static MatShift.Packed toMatShift(byte[] codes, int n, int k, int[] biasFixed) {
        Unpacked u = unpacked(codes, n, k);
        return MatShift.pack(n, k, u.sign(), u.shift(), biasFixed);
    }

    /** As {@link #toMatShift} for {@link MatShiftExponent}; the raw Q16.16 bias is passed on as its exact float. */
    public static MatShiftExponent.Packed toMatShiftExponent(byte[] codes, int n, int k, int[] biasFixed) {
        Unpacked u = unpacked(codes, n, k);
        float[] bias = null;
        if (biasFixed != null) {
            bias = new float[n];
            FixedPoint.toFloat(biasFixed, 0, bias, 0, n);
        }
        return MatShiftExponent.pack(n, k, u.sign(), u.shift(), bias);
    }

    private record Unpacked(byte[] sign, byte[] shift) {
    }

    private static Unpacked unpacked(byte[] codes, int n, int k) {
        validate(codes, n, k);
        byte[] sign = new byte[codes.length];
        byte[] shift = new byte[codes.length];
        unpack(codes, sign, shift);
        return new Unpacked(sign, shift);
    }

    private static String describe(byte code) {
        int c = code & 0xFF;
        return String.format("0x%02X (%s)", c, c == NEG ? "negative zero" : "bits above 4 set");
    }

    private static void requireSameLength(int a, int b, int c) {
        if (a != b || a != c) {
            throw new IllegalArgumentException("array lengths differ: " + a + ", " + b + ", " + c);
        }
    }
}
