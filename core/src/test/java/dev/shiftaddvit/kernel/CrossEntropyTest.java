package dev.shiftaddvit.kernel;

import static dev.shiftaddvit.kernel.KernelTestSupport.assertClose;
import static dev.shiftaddvit.kernel.KernelTestSupport.numericGrad;
import static dev.shiftaddvit.kernel.KernelTestSupport.randn;
import static dev.shiftaddvit.kernel.KernelTestSupport.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CrossEntropyTest {
    private static final int[] CLASSES = {1, 2, 3, 7, 8, 10, 13, 17, 33, 100};
    private static final float[] SMOOTHING = {0f, 0.1f, 1f};

    @Test
    void lossAndGradientMatchScalarTwinAcrossShapesAndSmoothing() {
        SplittableRandom rnd = new SplittableRandom(41);
        for (int classes : CLASSES) {
            for (int batch : new int[] {1, 3, 8}) {
                for (float eps : SMOOTHING) {
                    float[] z = randn(rnd, batch * classes, 3f, 0f);
                    int[] labels = labels(rnd, batch, classes);
                    float[] dz = new float[batch * classes];
                    float[] dze = new float[batch * classes];
                    float loss = CrossEntropy.forwardBackward(z, labels, batch, classes, eps, dz);
                    float lossE = CrossEntropyReference.forwardBackward(z, labels, batch, classes, eps, dze);
                    String at = "batch=" + batch + " classes=" + classes + " eps=" + eps;
                    assertClose(lossE, loss, 1e-6, 1e-6, at + " loss");
                    assertClose(dze, dz, 1e-7, 1e-5, at + " dlogits");
                    assertEquals(loss, CrossEntropy.forwardBackward(z, labels, batch, classes, eps, null), 0f,
                            at + " loss without gradient");
                }
            }
        }
    }

    @Test
    void knownValuesMatchPytorchDefinition() {
        // uniform logits: loss = ln(C) whatever the smoothing
        float[] z = new float[2 * 10];
        assertEquals(Math.log(10), CrossEntropy.forwardBackward(z, new int[] {3, 7}, 2, 10, 0.1f, null), 1e-6);
        // logits (2, 0, 0), label 0, ε = 0.3: q = (0.8, 0.1, 0.1); lse = ln(e² + 2)
        float[] z3 = {2f, 0f, 0f};
        double lse = Math.log(Math.exp(2) + 2);
        double expected = lse - 0.8 * 2;
        float[] dz = new float[3];
        assertEquals(expected, CrossEntropy.forwardBackward(z3, new int[] {0}, 1, 3, 0.3f, dz), 1e-6);
        assertEquals(Math.exp(2) / Math.exp(lse) - 0.8, dz[0], 1e-6);
        assertEquals(1 / Math.exp(lse) - 0.1, dz[1], 1e-6);
    }

    @Test
    void gradientOfMeanLossMatchesFiniteDifferencesInDouble() {
        SplittableRandom rnd = new SplittableRandom(42);
        for (int classes : new int[] {1, 3, 8, 17}) {
            for (float eps : SMOOTHING) {
                int batch = 3;
                float[] z = randn(rnd, batch * classes, 2f, 0f);
                int[] labels = labels(rnd, batch, classes);
                float[] dz = new float[batch * classes];
                CrossEntropy.forwardBackward(z, labels, batch, classes, eps, dz);
                double[] zd = toDouble(z);
                double[] fd = numericGrad(zd, () -> lossDouble(zd, labels, batch, classes, eps));
                assertClose(fd, dz, 1e-6, 1e-4, "classes=" + classes + " eps=" + eps);
            }
        }
    }

    @Test
    void largeBatchThroughParallelPathMatchesScalarTwin() {
        SplittableRandom rnd = new SplittableRandom(43);
        int batch = 256;
        int classes = 1000;
        float[] z = randn(rnd, batch * classes, 4f, 1f);
        int[] labels = labels(rnd, batch, classes);
        float[] dz = new float[batch * classes];
        float[] dze = new float[batch * classes];
        float loss = CrossEntropy.forwardBackward(z, labels, batch, classes, 0.1f, dz);
        float lossE = CrossEntropyReference.forwardBackward(z, labels, batch, classes, 0.1f, dze);
        assertClose(lossE, loss, 1e-6, 1e-6, "loss");
        assertClose(dze, dz, 1e-9, 1e-5, "dlogits");
        assertEquals(loss, CrossEntropy.forwardBackward(z, labels, batch, classes, 0.1f, dz), 0f, "deterministic");
    }

    @Test
    void rejectsBadLabelsAndSmoothing() {
        float[] z = new float[6];
        assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forwardBackward(z, new int[] {0, 3}, 2, 3, 0f, null));
        assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forwardBackward(z, new int[] {-1, 0}, 2, 3, 0f, null));
        assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forwardBackward(z, new int[] {0, 0}, 2, 3, -0.1f, null));
        assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forwardBackward(z, new int[] {0, 0}, 2, 3, Float.NaN, null));
    }

    private static int[] labels(SplittableRandom rnd, int batch, int classes) {
        int[] l = new int[batch];
        for (int i = 0; i < batch; i++) l[i] = rnd.nextInt(classes);
        return l;
    }

    static double lossDouble(double[] z, int[] labels, int batch, int classes, double eps) {
        double total = 0;
        for (int r = 0; r < batch; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, z[r * classes + c]);
            double s = 0;
            for (int c = 0; c < classes; c++) s += Math.exp(z[r * classes + c] - max);
            double lse = max + Math.log(s);
            for (int c = 0; c < classes; c++) {
                double q = eps / classes + (c == labels[r] ? 1 - eps : 0);
                total -= q * (z[r * classes + c] - lse);
            }
        }
        return total / batch;
    }
}
