package dev.shiftaddvit.nn;

import java.util.SplittableRandom;

/** Seeded parameter initialisers (timm's choices: truncated normal 0.02 for linears, zeros/ones for norms). */
public final class Init {
    private Init() {
    }

    /** Normal(0, std) truncated to ±2 std, as timm's trunc_normal_. */
    public static void truncNormal(float[] w, float std, SplittableRandom rng) {
        for (int i = 0; i < w.length; i++) {
            double v;
            do {
                v = gaussian(rng);
            } while (Math.abs(v) > 2.0);
            w[i] = (float) (v * std);
        }
    }

    /** Kaiming-normal with fan-out, as PVTv2 initialises its convolutions. */
    public static void convFanOut(float[] w, int fanOut, SplittableRandom rng) {
        double std = Math.sqrt(2.0 / fanOut);
        for (int i = 0; i < w.length; i++) w[i] = (float) (gaussian(rng) * std);
    }

    public static double gaussian(SplittableRandom rng) {
        double u1 = rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
