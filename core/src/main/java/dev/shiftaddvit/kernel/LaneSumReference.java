package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link LaneSum} against at every vector width: the same pairwise
 * folding (upper half onto lower half) over a plain array of lanes.
 */
public final class LaneSumReference {
    private LaneSumReference() {
    }

    /** Oracle of {@link LaneSum#sum(jdk.incubator.vector.FloatVector)} over lanes[0..n), n a power of two. */
    static float sum(float[] lanes) {
        float[] a = lanes.clone();
        for (int half = a.length >> 1; half > 0; half >>= 1) {
            for (int i = 0; i < half; i++) a[i] += a[i + half];
        }
        return a[0];
    }

    /** Oracle of {@link LaneSum#sum(jdk.incubator.vector.DoubleVector)}. */
    static double sum(double[] lanes) {
        double[] a = lanes.clone();
        for (int half = a.length >> 1; half > 0; half >>= 1) {
            for (int i = 0; i < half; i++) a[i] += a[i + half];
        }
        return a[0];
    }
}
