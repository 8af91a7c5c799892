package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.FixedPoint;
import dev.shiftaddvit.nn.GradCheck;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The 5-bit storage codec and the deployed (integer) Shift expert. */
class ShiftLinearDeployedTest {
    private static byte[] randomCodes(SplittableRandom rng, int n) {
        byte[] c = new byte[n];
        for (int i = 0; i < n; i++) {
            int v;
            do {
                v = rng.nextInt(32);
            } while (v == 0x10);
            c[i] = (byte) v;
        }
        return c;
    }

    @Test
    void codesArePackedLsbFirstFiveBitsEach() {
        // codes 1, 2, 3: stream bits 0-4 = 00001, 5-9 = 00010, 10-14 = 00011 → bytes 0b01000001, 0b00001100.
        assertArrayEquals(new byte[]{0x41, 0x0C}, ShiftCodeBits.pack(new byte[]{1, 2, 3}));
        // 8 codes of 0x1F fill 5 bytes exactly.
        assertArrayEquals(new byte[]{-1, -1, -1, -1, -1}, ShiftCodeBits.pack(new byte[]{31, 31, 31, 31, 31, 31, 31, 31}));
        assertEquals(0, ShiftCodeBits.pack(new byte[0]).length);
    }

    @Test
    void packUnpackRoundTripsEveryLength() {
        SplittableRandom rng = new SplittableRandom(4);
        for (int n = 0; n <= 41; n++) {
            byte[] codes = randomCodes(rng, n);
            byte[] packed = ShiftCodeBits.pack(codes);
            assertEquals((n * 5 + 7) / 8, packed.length);
            assertArrayEquals(codes, ShiftCodeBits.unpack(packed, 1, n), "n=" + n);
        }
    }

    @Test
    void unpackRejectsNegativeZeroPaddingAndWrongLengths() {
        byte[] packed = ShiftCodeBits.pack(new byte[]{1, 2, 3, 4, 5, 6});  // 30 bits in 4 bytes
        byte[] negZero = packed.clone();
        negZero[0] = (byte) ((negZero[0] & ~0x1F) | 0x10);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ShiftCodeBits.unpack(negZero, 2, 3));
        assertTrue(e.getMessage().contains("[0, 0]") && e.getMessage().contains("0x10"), e.getMessage());
        byte[] pad = packed.clone();
        pad[3] |= (byte) 0x80;
        e = assertThrows(IllegalArgumentException.class, () -> ShiftCodeBits.unpack(pad, 2, 3));
        assertTrue(e.getMessage().contains("padding"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ShiftCodeBits.unpack(java.util.Arrays.copyOf(packed, 3), 2, 3));
        assertTrue(e.getMessage().contains("expected 4"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ShiftCodeBits.pack(new byte[]{0x10}));
        assertThrows(IllegalArgumentException.class, () -> ShiftCodeBits.pack(new byte[]{0x20}));
    }

    @Test
    void deployedForwardIsTheIntegerKernelWithinTheFlooringBoundOfTheSimulation() {
        SplittableRandom rng = new SplittableRandom(5);
        int[][] shapes = {{1, 1, 1}, {5, 7, 3}, {37, 64, 130}, {70, 130, 20}};
        for (int[] s : shapes) {
            ShiftLinear layer = new ShiftLinear("fc", s[1], s[2], s[0] % 2 == 1, rng);
            ShiftLinearDeployed d = ShiftLinearDeployed.of("fc", layer);
            assertArrayEquals(layer.codes(), d.codes());
            Tensor x = GradCheck.randn(rng, 2f, 2, s[0], s[1]);
            float[] ys = layer.forward(x, false).data();
            Tensor yd = d.forward(x, false);
            assertArrayEquals(new int[]{2, s[0], s[2]}, yd.shape());
            float[] w = layer.effectiveWeight();
            float[] b = layer.bias() == null ? null : layer.bias().value().data();
            int in = s[1];
            int out = s[2];
            for (int i = 0; i < ys.length; i++) {
                // Exact value of the simulated arithmetic, Q(x)·Wᵀ + Q(b): MatShift rounds each term x·2^shift to the
                // 2^-16 grid at most once (< one unit per nonzero weight); the simulation's float GEMM rounds.
                double exact = b == null ? 0 : FixedPoint.quantize(b[i % out]);
                double sumAbs = 0;
                int nnz = 0;
                for (int k = 0; k < in; k++) {
                    double term = (double) FixedPoint.quantize(x.data()[i / out * in + k]) * w[i % out * in + k];
                    exact += term;
                    sumAbs += Math.abs(term);
                    if (w[i % out * in + k] != 0f) nnz++;
                }
                double floatRounding = 1e-6 * (sumAbs + Math.abs(exact));
                assertEquals(exact, ys[i], floatRounding, "simulation, index " + i);
                double dep = yd.data()[i];
                assertTrue(Math.abs(dep - exact) <= nnz * FixedPoint.ULP + Math.ulp((float) exact),
                        "index " + i + ": deployed " + dep + ", exact " + exact + ", " + nnz + " nonzero weights");
            }
        }
    }

    @Test
    void moeDeploySwapsOnlyTheShiftExpertAndForbidsBackward() {
        SplittableRandom rng = new SplittableRandom(6);
        Linear dense = new Linear("fc", 24, 16, true, rng);
        MoeLinear moe = MoeLinear.fromDense("fc", dense, new float[]{0.5f, 0.5f}, rng);
        Tensor x = GradCheck.randn(rng, 1f, 40, 24);
        moe.forceExpert(MoeLinear.MULT);
        float[] mult = moe.forward(x, false).data();
        moe.forceExpert(MoeLinear.SHIFT);
        float[] sim = moe.forward(x, false).data();
        moe.deploy();
        assertTrue(moe.isDeployed());
        assertEquals("fc.experts.1", moe.deployedShift().name());
        moe.forceExpert(MoeLinear.MULT);
        assertArrayEquals(mult, moe.forward(x, false).data(), 0f);
        moe.forceExpert(MoeLinear.SHIFT);
        float[] dep = moe.forward(x, false).data();
        assertArrayEquals(ShiftLinearDeployed.of("fc.experts.1", moe.shift()).forward(x, false).data(), dep, 0f);
        assertArrayEquals(sim, dep, 24 * FixedPoint.ULP + 1e-5f);  // ≤ one unit per weight of a row, + float rounding
        moe.forward(x, true);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> moe.backward(Tensor.zeros(40, 16)));
        assertTrue(e.getMessage().contains("inference-only"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> moe.deployedShift().backward(Tensor.zeros(40, 16)));
        assertTrue(e.getMessage().contains("fc.experts.1") && e.getMessage().contains("inference-only"));
        assertTrue(moe.deployedShift().parameters().isEmpty());
    }
}
