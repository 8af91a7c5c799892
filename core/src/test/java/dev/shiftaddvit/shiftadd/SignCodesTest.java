package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.nn.Init;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.shiftaddvit.shiftadd.HashInputs.normalisedRows;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The sign codes of LinAngularAttention_binary and their straight-through backward. */
class SignCodesTest {
    @Test
    void signCodesUseTheGlobalMeanAndAnInclusiveClampMask() {
        SplittableRandom rnd = new SplittableRandom(22);
        int batch = 2, n = 7, heads = 3, d = 5, ld = heads * d;
        float[] x = normalisedRows(rnd, batch, n, heads, d, ld);
        x[3] = 0f;
        x[4] = 1f;
        double mean = 0;
        for (float v : x) mean += v;
        mean /= x.length;
        CodeEncoding e = SignCodes.encode(x, 0, ld, batch, n, heads, d);
        assertEquals(d, e.codes().bits());
        float[] dc = new float[batch * heads * n * d];
        for (int i = 0; i < dc.length; i++) dc[i] = (float) Init.gaussian(rnd);
        float[] dx = new float[x.length];
        SignCodes.backward(e, dc, 0, ld, heads, dx);
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < n; k++) {
                for (int h = 0; h < heads; h++) {
                    int g = b * heads + h;
                    for (int c = 0; c < d; c++) {
                        float v = x[(b * n + k) * ld + h * d + c];
                        if (Math.abs(v - mean) > 1e-6) assertEquals(v - mean > 0, e.codes().get(g, k, c));
                        float expect = v >= 0 && v <= 1 ? dc[(g * n + k) * d + c] : 0f;
                        assertEquals(expect, dx[(b * n + k) * ld + h * d + c]);
                    }
                }
            }
        }
    }
}
