package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.MatShift;
import dev.shiftaddvit.kernel.MatShiftExponent;

import java.util.Locale;

/**
 * Which kernel runs a deployed Shift expert: {@link MatShiftExponent} (default: one integer add on the
 * float's exponent and one float add per weight, exact terms, the same sums as the float simulation up
 * to their order) or the fixed-point {@link MatShift} (int32 Q16.16 as upstream's kernels, each term
 * rounded to 2^-16). Chosen with {@code -Dshiftaddvit.shift.kernel=exponent|fixed}.
 */
public enum ShiftKernel {
    EXPONENT, FIXED;

    /** A layer's codes packed for one kernel: y[rows, out] = shift-layer(x[rows, in]). */
    @FunctionalInterface
    public interface Bound {
        void forward(int rows, float[] x, int xOff, float[] y, int yOff);
    }

    /** The kernel named by {@code shiftaddvit.shift.kernel}. */
    public static ShiftKernel selected() {
        String name = System.getProperty("shiftaddvit.shift.kernel", "exponent");
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "exponent" -> EXPONENT;
            case "fixed" -> FIXED;
            default -> throw new IllegalArgumentException("shiftaddvit.shift.kernel is \"" + name
                    + "\"; expected exponent or fixed");
        };
    }

    /** Packs [out, in] codes ({@link ShiftCodes}) and an optional raw Q16.16 bias for this kernel. */
    public Bound bind(byte[] codes, int out, int in, int[] biasFixed) {
        return switch (this) {
            case FIXED -> {
                MatShift.Packed p = ShiftCodes.toMatShift(codes, out, in, biasFixed);
                yield (rows, x, xOff, y, yOff) -> MatShift.forward(rows, p, x, xOff, in, y, yOff, out);
            }
            case EXPONENT -> {
                MatShiftExponent.Packed p = ShiftCodes.toMatShiftExponent(codes, out, in, biasFixed);
                yield (rows, x, xOff, y, yOff) -> MatShiftExponent.forward(rows, p, x, xOff, in, y, yOff, out);
            }
        };
    }
}
