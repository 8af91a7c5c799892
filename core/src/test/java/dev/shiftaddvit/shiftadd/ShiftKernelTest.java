package dev.shiftaddvit.shiftadd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The deploy kernels of a Shift layer against its float simulation, and the kernel switch. */
class ShiftKernelTest {

    @Test
    void everyKernelMatchesTheFloatSimulationWithinItsBound() {
        // 13 rows take GEMM's dot path, 100 its packed kernel
        for (int rows : new int[] {13, 100}) {
            SplittableRandom rng = new SplittableRandom(9 + rows);
            int in = 96, out = 40;
            Linear dense = new Linear("l", in, out, true, rng);
            float[] b = dense.bias().value().data();
            for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextDouble(-0.5, 0.5);
            ShiftLinear layer = ShiftLinear.fromDense("s", dense);
            float[] x = new float[rows * in];
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian() * 3;
            float[] sim = layer.forward(Tensor.of(x, rows, in), false).data();
            for (ShiftKernel kernel : ShiftKernel.values()) {
                float[] y = new float[rows * out];
                kernel.bind(layer.codes(), out, in, layer.fixedBias()).forward(rows, x, 0, y, 0);
                // gemm: the simulation's own product, bit for bit; exponent: exact terms, only the float
                // summation order differs; fixed: ≤ 2^-17 per term.
                double bound = switch (kernel) {
                    case GEMM -> 0;
                    case EXPONENT -> 1e-5;
                    case FIXED -> in * 0x1p-17 + 1e-5;
                };
                for (int i = 0; i < y.length; i++) {
                    assertEquals(sim[i], y[i], bound * (1 + Math.abs(sim[i])), kernel + " rows=" + rows + " at " + i);
                }
            }
        }
    }

    @Test
    void gemmIsTheDefaultAndAnUnknownKernelNameIsRefused() {
        String saved = System.getProperty("shiftaddvit.shift.kernel");
        try {
            System.clearProperty("shiftaddvit.shift.kernel");
            assertEquals(ShiftKernel.GEMM, ShiftKernel.selected());
            System.setProperty("shiftaddvit.shift.kernel", "exponent");
            assertEquals(ShiftKernel.EXPONENT, ShiftKernel.selected());
            System.setProperty("shiftaddvit.shift.kernel", "FIXED");
            assertEquals(ShiftKernel.FIXED, ShiftKernel.selected());
            System.setProperty("shiftaddvit.shift.kernel", "float");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ShiftKernel::selected);
            assertTrue(e.getMessage().contains("\"float\"") && e.getMessage().contains("gemm, exponent or fixed"),
                    e.getMessage());
        } finally {
            if (saved == null) System.clearProperty("shiftaddvit.shift.kernel");
            else System.setProperty("shiftaddvit.shift.kernel", saved);
        }
    }
}
