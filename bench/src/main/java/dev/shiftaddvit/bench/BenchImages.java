package dev.shiftaddvit.bench;

import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.tensor.Tensor;

import java.util.SplittableRandom;

/**
 * One batch of random images in both layouts: NHWC for our engine, NCHW for ONNX Runtime and libtorch.
 * Values are uniform in [-2, 2), about the range of normalised ImageNet pixels.
 */
record BenchImages(int batch, int size, int channels, Tensor nhwc, float[] nchw) {

    static BenchImages random(ModelConfig config, int batch, long seed) {
        int s = config.imgSize();
        int c = config.inChans();
        float[] x = new float[batch * s * s * c];
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextDouble() * 4 - 2);
        return new BenchImages(batch, s, c, Tensor.of(x, batch, s, s, c), nchw(x, batch, s, c));
    }

    long[] nchwShape() {
        return new long[]{batch, channels, size, size};
    }

    private static float[] nchw(float[] nhwc, int b, int s, int c) {
        float[] out = new float[nhwc.length];
        for (int n = 0; n < b; n++) {
            for (int y = 0; y < s; y++) {
                for (int x = 0; x < s; x++) {
                    for (int ch = 0; ch < c; ch++) out[((n * c + ch) * s + y) * s + x] = nhwc[((n * s + y) * s + x) * c + ch];
                }
            }
        }
        return out;
    }
}
