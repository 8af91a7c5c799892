package dev.shiftaddvit.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A hand-built graph through ONNX Runtime: the builder's encoding of nodes, attributes and constants. */
class OnnxGraphTest {
    @Test
    void smallGraphRunsInOnnxRuntimeWithDynamicBatch() throws OrtException {
        // y = erf(Transpose(x) reshaped [N, 4] · W + b) · 0.5 with x [N, 2, 2], W [4, 3].
        OnnxGraph g = new OnnxGraph("tiny", OnnxExporter.OPSET);
        String x = g.input("x", "N", 2, 2);
        float[] w = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
        float[] b = {0.5f, -0.25f, 0f};
        String t = g.node("Transpose", List.of(x), OnnxGraph.intsAttr("perm", 0, 2, 1));
        String r = g.node("Reshape", List.of(t, g.int64s(0, -1)));
        String m = g.node("Add", List.of(g.node("MatMul", List.of(r, g.initializer("w", w, 4, 3))),
                g.initializer("b", b, 3)));
        String e = g.node("Erf", List.of(m));
        g.node("y", "Mul", List.of(e, g.floatScalar(0.5f)));
        g.output("y", "N", 3);
        assertEquals(g.int64s(0, -1), g.int64s(0, -1), "constants are shared");
        byte[] model = g.model("test", "0").toByteArray();

        float[] in = {0.25f, 0.5f, 0.75f, 1f, -0.25f, -0.5f, -0.75f, -1f};
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(model, new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(in), new long[]{2, 2, 2});
             OrtSession.Result res = s.run(Map.of("x", input))) {
            NodeInfo info = s.getInputInfo().get("x");
            assertArrayEquals(new long[]{-1, 2, 2}, ((TensorInfo) info.getInfo()).getShape(), "batch is dynamic");
            float[][] y = (float[][]) res.get(0).getValue();
            for (int n = 0; n < 2; n++) {
                // Transposed row: x[n,0,0], x[n,1,0], x[n,0,1], x[n,1,1].
                float[] row = {in[n * 4], in[n * 4 + 2], in[n * 4 + 1], in[n * 4 + 3]};
                for (int j = 0; j < 3; j++) {
                    double z = b[j];
                    for (int k = 0; k < 4; k++) z += row[k] * w[k * 3 + j];
                    assertEquals(0.5 * erf(z), y[n][j], 1e-6, "y[" + n + "][" + j + "]");
                }
            }
        }
    }

    @Test
    void nodesMustFollowTheirInputs() {
        OnnxGraph g = new OnnxGraph("bad", OnnxExporter.OPSET);
        assertThrows(IllegalArgumentException.class, () -> g.node("Relu", List.of("missing")));
        g.input("x", 1);
        assertThrows(IllegalArgumentException.class, () -> g.input("x", 1));
        assertThrows(IllegalArgumentException.class, () -> g.initializer("w", new float[3], 2, 2));
    }

    /** erf by its Maclaurin series, to double precision for |z| < 2. */
    private static double erf(double z) {
        double sum = 0;
        double term = z;
        for (int n = 0; n < 200; n++) {
            sum += term / (2 * n + 1);
            term *= -z * z / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }
}
