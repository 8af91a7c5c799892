package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.FixedPoint;
import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.MatShift;
import dev.shiftaddvit.kernel.MatShiftExponent;
import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.kernel.RowBlocks;
import dev.shiftaddvit.kernel.ThreadScratch;

import java.util.Locale;

/**
 * Which kernel runs a deployed Shift expert, chosen with {@code -Dshiftaddvit.shift.kernel=gemm|exponent|fixed}:
 * <ul>
 *   <li>{@code gemm} (default): the weights ±2^-s decoded once to floats and packed for {@link Gemm}'s
 *       micro-kernel, the activations quantized to Q16.16 per call. A product by a power of two is exact
 *       on a fused multiply-add unit, so each term is the shift's exact value and this is the float
 *       simulation itself, bit for bit: on a CPU with FMA the multiplier is no dearer than an adder and
 *       the fastest shift layer is the GEMM's;</li>
 *   <li>{@code exponent}: {@link MatShiftExponent}, one integer add on the float's exponent and one float
 *       add per weight, multiplication-free, the same sums as the simulation up to their order;</li>
 *   <li>{@code fixed}: the fixed-point {@link MatShift} (int32 Q16.16 as upstream's kernels, each term
 *       rounded to 2^-16).</li>
 * </ul>
 */
public enum ShiftKernel {
    GEMM, EXPONENT, FIXED;

    /** A layer's codes packed for one kernel: y[rows, out] = shift-layer(x[rows, in]). */
    @FunctionalInterface
    public interface Bound {
        void forward(int rows, float[] x, int xOff, float[] y, int yOff);

        /**
         * Rows [0, m) of a call over {@code wholeRows} rows, on the calling thread, with the bits the whole
         * call gives them (the shift kernels compute every row on its own; the GEMM kernel picks the path
         * of the whole product).
         */
        default void forwardRows(int wholeRows, int m, float[] x, int xOff, float[] y, int yOff) {
            forward(m, x, xOff, y, yOff);
        }
    }

    /** Per-thread quantized activation rows of the {@link #GEMM} kernel. */
    private static final ThreadScratch QUANTIZED = new ThreadScratch();

    /**
     * The {@link #GEMM} kernel: Q(x) one row block per task into a per-thread buffer that stays in L2, then
     * its rows of the product (the whole product's GEMM path, so the bits do not follow the blocks).
     */
    private record OnGemm(Gemm.PackedB w, float[] bias) implements Bound {
        @Override
        public void forward(int rows, float[] x, int xOff, float[] y, int yOff) {
            RowBlocks.run(rows, (r0, m) -> forwardRows(rows, m, x, xOff + r0 * w.k(), y, yOff + r0 * w.n()));
        }

        @Override
        public void forwardRows(int wholeRows, int m, float[] x, int xOff, float[] y, int yOff) {
            int in = w.k();
            float[] xq = QUANTIZED.get(RowBlocks.MAX_ROWS * in);
            for (int r0 = 0; r0 < m; r0 += RowBlocks.MAX_ROWS) {
                int rows = Math.min(RowBlocks.MAX_ROWS, m - r0);
                FixedPoint.quantize(x, xOff + r0 * in, xq, 0, rows * in);
                Gemm.ntBlock(wholeRows, rows, w, xq, 0, in, y, yOff + r0 * w.n(), w.n(), false);
                if (bias != null) Ops.addBiasRows(y, yOff + r0 * w.n(), bias, rows, w.n());
            }
        }
    }

    /** The kernel named by {@code shiftaddvit.shift.kernel}. */
    public static ShiftKernel selected() {
        String name = System.getProperty("shiftaddvit.shift.kernel", "gemm");
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "gemm" -> GEMM;
            case "exponent" -> EXPONENT;
            case "fixed" -> FIXED;
            default -> throw new IllegalArgumentException("shiftaddvit.shift.kernel is \"" + name
                    + "\"; expected gemm, exponent or fixed");
        };
    }

    /** Packs [out, in] codes ({@link ShiftCodes}) and an optional raw Q16.16 bias for this kernel. */
    public Bound bind(byte[] codes, int out, int in, int[] biasFixed) {
        return switch (this) {
            case GEMM -> {
                ShiftCodes.validate(codes, out, in);
                float[] bias = biasFixed == null ? null : new float[out];
                if (bias != null) FixedPoint.toFloat(biasFixed, 0, bias, 0, out);
                yield new OnGemm(Gemm.packNt(out, in, ShiftCodes.toDense(codes), 0, in), bias);
            }
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
