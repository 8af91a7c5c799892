package dev.shiftaddvit.train;

/**
 * The soft-target term of knowledge distillation over logits [batch, classes]: T²·mean over rows of
 * KL(softmax(t/T) ‖ softmax(s/T)), whose gradient with respect to the student logits s is
 * T·(softmax(s/T) − softmax(t/T))/batch. Rows are small (one per image), so this is scalar code,
 * summed in double.
 */
public final class SoftTargets {
    private SoftTargets() {
    }

    /** Returns the term; adds {@code scale}·its gradient into {@code dStudent} when that is non-null. */
    public static float forwardBackward(float[] student, float[] teacher, int batch, int classes, float temperature,
                                        float scale, float[] dStudent) {
        double total = 0;
        double[] ps = new double[classes];
        double[] pt = new double[classes];
        for (int r = 0; r < batch; r++) {
            int o = r * classes;
            double lseS = softmax(student, o, classes, temperature, ps);
            double lseT = softmax(teacher, o, classes, temperature, pt);
            double kl = 0;
            for (int c = 0; c < classes; c++) {
                if (pt[c] > 0) kl += pt[c] * ((teacher[o + c] / temperature - lseT) - (student[o + c] / temperature - lseS));
                if (dStudent != null) dStudent[o + c] += (float) (scale * temperature * (ps[c] - pt[c]) / batch);
            }
            total += kl;
        }
        return (float) (temperature * temperature * total / batch);
    }

    /** Writes softmax(z/T) of one row into p; returns log Σ exp(z/T). */
    private static double softmax(float[] z, int o, int classes, float temperature, double[] p) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) max = Math.max(max, z[o + c] / temperature);
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            p[c] = Math.exp(z[o + c] / temperature - max);
            sum += p[c];
        }
        for (int c = 0; c < classes; c++) p[c] /= sum;
        return max + Math.log(sum);
    }
}
