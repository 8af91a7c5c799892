package dev.shiftaddvit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax cross-entropy over logits [batch, classes] with label smoothing, as PyTorch's
 * {@code CrossEntropyLoss(label_smoothing=ε)} with mean reduction: the target distribution is
 * q = (1−ε)·onehot(label) + ε/classes, the loss per row is logsumexp(z) − Σ_c q_c·z_c, and the
 * gradient of the mean loss is (softmax(z) − q)/batch. Per-row losses are summed in double in
 * row order, so the result does not depend on the thread count.
 */
public final class CrossEntropy {
    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int L = F.length();
    private static final int GRAIN = 16384;

    private CrossEntropy() {
    }

    /**
     * Returns the mean loss; when dlogits is non-null it is overwritten with d(mean loss)/d(logits).
     *
     * @throws IllegalArgumentException for a label outside [0, classes) or ε outside [0, 1]
     */
    public static float forwardBackward(float[] logits, int[] labels, int batch, int classes, float smoothing,
                                        float[] dlogits) {
        check(labels, batch, classes, smoothing);
        if (batch == 0) return 0f;
        double[] rowLoss = new double[batch];
        Parallel.forRange(batch, Math.max(1, GRAIN / classes), (r0, r1) -> {
            for (int r = r0; r < r1; r++) rowLoss[r] = row(logits, labels[r], r, classes, smoothing, batch, dlogits);
        });
        double s = 0;
        for (double v : rowLoss) s += v;
        return (float) (s / batch);
    }

    private static double row(float[] z, int label, int r, int classes, float eps, int batch, float[] dz) {
        int o = r * classes;
        float max = Softmax.rowMax(z, o, classes);
        FloatVector mv = FloatVector.broadcast(F, max);
        FloatVector se = FloatVector.zero(F);
        FloatVector sz = FloatVector.zero(F);
        int i = 0;
        for (; i <= classes - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, z, o + i);
            FloatVector e = Softmax.exp(v.sub(mv));
            if (dz != null) e.intoArray(dz, o + i);
            se = se.add(e);
            sz = sz.add(v);
        }
        double sumExp = LaneSum.sum(se);
        double sumZ = LaneSum.sum(sz);
        for (; i < classes; i++) {
            float e = (float) Math.exp(z[o + i] - max);
            if (dz != null) dz[o + i] = e;
            sumExp += e;
            sumZ += z[o + i];
        }
        double lse = max + Math.log(sumExp);
        double loss = lse - (1.0 - eps) * z[o + label] - (double) eps / classes * sumZ;
        if (dz != null) {
            float scale = (float) (1.0 / (sumExp * batch));
            float off = (float) ((double) eps / classes / batch);
            FloatVector sv = FloatVector.broadcast(F, scale);
            FloatVector ov = FloatVector.broadcast(F, off);
            i = 0;
            for (; i <= classes - L; i += L) {
                FloatVector.fromArray(F, dz, o + i).fma(sv, ov.neg()).intoArray(dz, o + i);
            }
            for (; i < classes; i++) dz[o + i] = dz[o + i] * scale - off;
            dz[o + label] -= (float) ((1.0 - eps) / batch);
        }
        return loss;
    }

    static void check(int[] labels, int batch, int classes, float smoothing) {
        if (!(smoothing >= 0f && smoothing <= 1f)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1], got " + smoothing);
        }
        if (classes <= 0) throw new IllegalArgumentException("classes must be > 0, got " + classes);
        for (int r = 0; r < batch; r++) {
            if (labels[r] < 0 || labels[r] >= classes) {
                throw new IllegalArgumentException("label " + labels[r] + " at row " + r
                        + " is outside [0, " + classes + ")");
            }
        }
    }
}
