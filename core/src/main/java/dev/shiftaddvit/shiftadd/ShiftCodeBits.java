package dev.shiftaddvit.shiftadd;

/**
 * Storage form of {@link ShiftCodes}: the 5-bit codes of a weight matrix bit-packed back to back, so n
 * weights take ceil(5n/8) bytes instead of n (one code per byte) or 8n (float shift and sign).
 *
 * <p><b>Bit order</b> (LSB first, little-endian): the codes form one bit stream in which code i occupies
 * stream bits 5i..5i+4, its bit 0 at stream bit 5i; stream bit b is bit (b mod 8) of byte b/8. So every 8
 * codes fill exactly 5 bytes, read as a 40-bit little-endian integer whose bits 5j..5j+4 are code j. The
 * unused high bits of the last byte (8·bytes − 5n of them) are zero.
 *
 * <p>Of the 32 five-bit patterns all but 0x10 (negative zero) are codes: sign ∈ {−1, 0, 1} and
 * shift = 1 − f ∈ [−14, 0] hold by construction, so the only invalid content is 0x10, nonzero padding
 * and a wrong byte count.
 */
public final class ShiftCodeBits {
    /** Bits per code. */
    public static final int BITS = 5;
    private static final int MASK = (1 << BITS) - 1;
    private static final int NEGATIVE_ZERO = 0x10;

    private ShiftCodeBits() {
    }

    /** Bytes that n packed codes take: ceil(5n/8). */
    public static long packedBytes(long n) {
        return (n * BITS + 7) / 8;
    }

    /**
     * Packs one-per-byte codes.
     *
     * @throws IllegalArgumentException naming the index of the first invalid code
     */
    public static byte[] pack(byte[] codes) {
        ShiftCodes.validate(codes);
        byte[] out = new byte[(int) packedBytes(codes.length)];
        // Groups of 8 codes = 40 bits = 5 bytes; the last group may be short.
        for (int i = 0, o = 0; i < codes.length; i += 8, o += 5) {
            long word = 0;
            for (int j = 0, n = Math.min(8, codes.length - i); j < n; j++) {
                word |= (long) (codes[i + j] & MASK) << (BITS * j);
            }
            for (int j = 0, n = Math.min(5, out.length - o); j < n; j++) out[o + j] = (byte) (word >>> (8 * j));
        }
        return out;
    }

    /**
     * Unpacks the codes of a [rows, cols] weight matrix, one per byte.
     *
     * @throws IllegalArgumentException for a wrong byte count, the [row, col] of the first invalid code, or
     *                                  nonzero padding bits
     */
    public static byte[] unpack(byte[] packed, int rows, int cols) {
        long n = (long) rows * cols;
        if (rows < 0 || cols < 0 || packed.length != packedBytes(n)) {
            throw new IllegalArgumentException(packed.length + " bytes, expected " + packedBytes(Math.max(0, n))
                    + " (5-bit codes of a [" + rows + ", " + cols + "] weight)");
        }
        byte[] codes = new byte[(int) n];
        for (int i = 0, o = 0; i < codes.length; i += 8, o += 5) {
            long word = 0;
            for (int j = 0, m = Math.min(5, packed.length - o); j < m; j++) word |= (long) (packed[o + j] & 0xFF) << (8 * j);
            for (int j = 0, m = Math.min(8, codes.length - i); j < m; j++) {
                int c = (int) (word >>> (BITS * j)) & MASK;
                if (c == NEGATIVE_ZERO) {
                    int k = i + j;
                    throw new IllegalArgumentException("code at [" + k / cols + ", " + k % cols + "] is 0x10 (negative "
                            + "zero, not a valid shift code)");
                }
                codes[i + j] = (byte) c;
            }
        }
        int used = (int) (n * BITS % 8);
        if (used != 0 && (packed[packed.length - 1] & 0xFF) >>> used != 0) {
            throw new IllegalArgumentException("padding bits " + used + "..7 of the last byte are not zero");
        }
        return codes;
    }
}
