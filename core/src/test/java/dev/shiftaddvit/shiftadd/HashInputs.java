package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.nn.Init;

import java.util.SplittableRandom;

/** Inputs shared by the hash, hash-training and sign-code tests. */
final class HashInputs {
    private HashInputs() {
    }

    /** A short training (top-3 supervision) that keeps the hash tests quick. */
    static KshTraining.TrainConfig small() {
        return new KshTraining.TrainConfig(3, 100, 5e-4, 0.9);
    }

    /** Rows [batch, n, heads·d] (plus padding to ld), each head slice L2-normalised. */
    static float[] normalisedRows(SplittableRandom rnd, int batch, int n, int heads, int d, int ld) {
        float[] x = new float[batch * n * ld];
        for (int row = 0; row < batch * n; row++) {
            for (int h = 0; h < heads; h++) {
                int o = row * ld + h * d;
                double ss = 0;
                for (int c = 0; c < d; c++) {
                    x[o + c] = (float) Init.gaussian(rnd);
                    ss += x[o + c] * x[o + c];
                }
                for (int c = 0; c < d; c++) x[o + c] /= (float) Math.sqrt(ss);
            }
        }
        return x;
    }
}
