package dev.shiftaddvit.kernel;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/** Shared helpers for the kernel tests: seeded data, tolerant comparisons, finite differences. */
final class KernelTestSupport {
    private KernelTestSupport() {
    }

    /** Odd tails and tiny sizes every SIMD kernel is checked on. */
    static final int[] SIZES = {0, 1, 2, 3, 7, 8, 13, 16, 17, 31, 33, 64, 65, 100, 257};

    static double[] numericGrad(double[] p, DoubleSupplier loss) {
        double[] grad = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            double old = p[i];
            double h = 1e-6 * Math.max(1, Math.abs(old));
            p[i] = old + h;
            double lp = loss.getAsDouble();
            p[i] = old - h;
            double lm = loss.getAsDouble();
            p[i] = old;
            grad[i] = (lp - lm) / (2 * h);
        }
        return grad;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static float[] randn(SplittableRandom rnd, int n, float scale, float shift) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (gaussian(rnd) * scale + shift);
        return a;
    }

    private static double gaussian(SplittableRandom rnd) {
        double u = rnd.nextDouble(1e-12, 1.0);
        double v = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    static void assertClose(float[] expected, float[] actual, double atol, double rtol, String what) {
        assertClose(toDouble(expected), actual, atol, rtol, what);
    }

    static void assertClose(double[] expected, float[] actual, double atol, double rtol, String what) {
        if (expected.length != actual.length) fail(what + ": length " + actual.length + " != " + expected.length);
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
                fail(what + ": at " + i + " expected " + e + " but got " + a + " (|diff| " + Math.abs(a - e) + ")");
            }
        }
    }

    static float[] uniform(SplittableRandom rnd, int n, float lo, float hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextDouble(lo, hi);
        return a;
    }

    static void assertClose(double expected, double actual, double atol, double rtol, String what) {
        if (!(Math.abs(actual - expected) <= atol + rtol * Math.abs(expected))) {
            fail(what + ": expected " + expected + " but got " + actual);
        }
    }
}
