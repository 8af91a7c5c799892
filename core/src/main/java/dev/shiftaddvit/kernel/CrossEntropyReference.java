package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link CrossEntropy} against at every vector width: softmax, loss and
 * gradient row by row in double arithmetic throughout.
 */
public final class CrossEntropyReference {
    private CrossEntropyReference() {
    }

    /** Oracle of {@link CrossEntropy#forwardBackward} (double arithmetic throughout). */
    public static float forwardBackward(float[] logits, int[] labels, int batch, int classes,
                                        float smoothing, float[] dlogits) {
        CrossEntropy.check(labels, batch, classes, smoothing);
        if (batch == 0) return 0f;
        double total = 0;
        for (int r = 0; r < batch; r++) {
            int o = r * classes;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, logits[o + c]);
            double se = 0;
            for (int c = 0; c < classes; c++) se += Math.exp(logits[o + c] - max);
            double lse = max + Math.log(se);
            for (int c = 0; c < classes; c++) {
                double q = (double) smoothing / classes + (c == labels[r] ? 1.0 - smoothing : 0.0);
                total += q * (lse - logits[o + c]);
                if (dlogits != null) dlogits[o + c] = (float) ((Math.exp(logits[o + c] - lse) - q) / batch);
            }
        }
        return (float) (total / batch);
    }
}
