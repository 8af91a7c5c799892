package dev.shiftaddvit.kernel;

import static dev.shiftaddvit.kernel.KernelTestSupport.SIZES;
import static dev.shiftaddvit.kernel.KernelTestSupport.assertClose;
import static dev.shiftaddvit.kernel.KernelTestSupport.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class OpsTest {

    @Test
    void elementwiseAddAndScaleMatchScalarTwinsExactly() {
        SplittableRandom rnd = new SplittableRandom(31);
        for (int n : SIZES) {
            float[] a = randn(rnd, n + 2, 1f, 0f);
            float[] b = randn(rnd, n + 2, 1f, 0f);
            float[] out = new float[n + 2];
            float[] oute = new float[n + 2];
            Ops.add(a, b, out, n);
            OpsReference.add(a, b, oute, n);
            assertArrayEquals(oute, out, "add n=" + n);   // also: nothing written past n

            float[] dst = a.clone();
            Ops.addInPlace(dst, b, n);
            assertArrayEquals(concat(oute, n, a), dst, "addInPlace n=" + n);

            float[] s = a.clone();
            float[] se = a.clone();
            Ops.scale(s, -0.37f, n);
            OpsReference.scale(se, -0.37f, n);
            assertArrayEquals(se, s, "scale n=" + n);
        }
    }

    @Test
    void addInPlaceWithOffsetsTouchesOnlyItsRange() {
        SplittableRandom rnd = new SplittableRandom(32);
        for (int n : SIZES) {
            float[] dst = randn(rnd, n + 10, 1f, 0f);
            float[] src = randn(rnd, n + 7, 1f, 0f);
            float[] expected = dst.clone();
            for (int i = 0; i < n; i++) expected[4 + i] += src[5 + i];
            Ops.addInPlace(dst, 4, src, 5, n);
            assertArrayEquals(expected, dst, "n=" + n);
        }
    }

    @Test
    void biasRowsAndColumnSumsMatchScalarTwins() {
        SplittableRandom rnd = new SplittableRandom(33);
        for (int cols : new int[] {1, 3, 7, 8, 13, 17, 33, 65, 192}) {
            for (int rows : new int[] {0, 1, 2, 5, 9}) {
                float[] y = randn(rnd, rows * cols, 1f, 0f);
                float[] bias = randn(rnd, cols, 1f, 0f);
                float[] yv = y.clone();
                float[] ye = y.clone();
                Ops.addBiasRows(yv, bias, rows, cols);
                OpsReference.addBiasRows(ye, bias, rows, cols);
                assertArrayEquals(ye, yv, "addBiasRows " + rows + "x" + cols);

                float[] start = randn(rnd, cols, 1f, 0f);
                float[] db = start.clone();
                float[] dbe = start.clone();
                Ops.sumRows(y, db, rows, cols);
                OpsReference.sumRows(y, dbe, rows, cols);
                assertClose(dbe, db, 1e-5, 1e-5, "sumRows " + rows + "x" + cols);
            }
        }
    }

    @Test
    void sumSquaresMatchesDoubleSumAcrossSizes() {
        SplittableRandom rnd = new SplittableRandom(34);
        for (int n : SIZES) {
            float[] x = randn(rnd, n, 3f, 1f);
            assertEquals(OpsReference.sumSquares(x, n), Ops.sumSquares(x, n), 1e-6f * OpsReference.sumSquares(x, n),
                    "n=" + n);
        }
        assertEquals(0f, Ops.sumSquares(new float[0], 0), 0f);
    }

    @Test
    void largeInputsThroughParallelPathMatchScalarTwinsAndReduceDeterministically() {
        SplittableRandom rnd = new SplittableRandom(35);
        int rows = 8 * 197;
        int cols = 384;
        int n = rows * cols;
        float[] a = randn(rnd, n, 1f, 0f);
        float[] b = randn(rnd, n, 1f, 0f);
        float[] out = new float[n];
        float[] oute = new float[n];
        Ops.add(a, b, out, n);
        OpsReference.add(a, b, oute, n);
        assertArrayEquals(oute, out, "add");
        Ops.scale(out, 0.5f, n);
        OpsReference.scale(oute, 0.5f, n);
        assertArrayEquals(oute, out, "scale");
        float[] bias = randn(rnd, cols, 1f, 0f);
        Ops.addBiasRows(out, bias, rows, cols);
        OpsReference.addBiasRows(oute, bias, rows, cols);
        assertArrayEquals(oute, out, "addBiasRows");

        float[] db = new float[cols];
        float[] dbe = new float[cols];
        Ops.sumRows(a, db, rows, cols);
        OpsReference.sumRows(a, dbe, rows, cols);
        assertClose(dbe, db, 1e-3, 1e-5, "sumRows");
        float[] db2 = new float[cols];
        Ops.sumRows(a, db2, rows, cols);
        assertArrayEquals(db, db2, "sumRows must be bit-identical across runs");

        float ss = Ops.sumSquares(a, n);
        assertEquals(OpsReference.sumSquares(a, n), ss, 1e-6f * ss);
        assertEquals(ss, Ops.sumSquares(a, n), 0f, "sumSquares must be bit-identical across runs");
    }

    private static float[] concat(float[] head, int n, float[] tail) {
        float[] r = tail.clone();
        System.arraycopy(head, 0, r, 0, n);
        return r;
    }
}
