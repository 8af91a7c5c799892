package dev.shiftaddvit.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exported models run in ONNX Runtime and give our engine's logits on the same random weights and
 * images: max |Δ| ≤ 1e-4 · max |logit| + 1e-5 (float32 with different summation orders).
 */
class OnnxExporterTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @MethodSource("dev.shiftaddvit.model.Configs#names")
    void logitsOfEveryRegisteredModelMatchOurEngineInOnnxRuntime(String name) throws IOException, OrtException {
        Model model = Configs.byName(name).build(7);
        perturb(model, new SplittableRandom(11));
        Path file = dir.resolve(name + ".onnx");
        OnnxExporter.write(model, file);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(2);
            try (OrtSession session = env.createSession(file.toString(), opts)) {
                for (int batch : new int[]{1, 3}) {
                    int s = model.config().imgSize();
                    int c = model.config().inChans();
                    Tensor images = Tensor.zeros(batch, s, s, c);
                    SplittableRandom rng = new SplittableRandom(batch);
                    float[] px = images.data();
                    for (int i = 0; i < px.length; i++) px[i] = (float) (rng.nextDouble() * 4 - 2);
                    float[] ours = model.forward(images, false).data();
                    float[] theirs = run(env, session, nchw(px, batch, s, c), batch, c, s);
                    assertEquals(ours.length, theirs.length);
                    double maxLogit = 0;
                    double maxDiff = 0;
                    for (int i = 0; i < ours.length; i++) {
                        maxLogit = Math.max(maxLogit, Math.abs(ours[i]));
                        maxDiff = Math.max(maxDiff, Math.abs(ours[i] - theirs[i]));
                    }
                    System.out.printf("onnx %s batch %d: max|logit| %.4g, max|Δ| %.3g%n", name, batch, maxLogit, maxDiff);
                    assertTrue(maxDiff <= 1e-4 * maxLogit + 1e-5,
                            name + " batch " + batch + ": max|Δ| " + maxDiff + " for max|logit| " + maxLogit);
                }
            }
        }
    }

    @Test
    void refusesShiftAddConvertedModels() {
        Model model = Configs.byName("vit_fmnist").build(1);
        Reparam.toAddAttention(model, Reparam.AttnOptions.DEFAULT, new SplittableRandom(2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxExporter.write(model, dir.resolve("converted.onnx")));
        assertTrue(e.getMessage().contains("ShiftAddViT-converted"), e.getMessage());
        assertTrue(e.getMessage().contains("stage attn"), e.getMessage());
        assertTrue(Files.notExists(dir.resolve("converted.onnx")));
    }

    /** Random offsets on every parameter, so biases and norm affines (zero and one at init) are exercised. */
    private static void perturb(Model model, SplittableRandom rng) {
        for (Parameter p : model.parameters()) {
            float[] d = p.value().data();
            for (int i = 0; i < d.length; i++) d[i] += (float) (rng.nextDouble() * 0.1 - 0.05);
        }
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

    private static float[] run(OrtEnvironment env, OrtSession session, float[] images, int b, int c, int s)
            throws OrtException {
        try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(images), new long[]{b, c, s, s});
             OrtSession.Result r = session.run(Map.of(OnnxExporter.INPUT, in))) {
            OnnxTensor out = (OnnxTensor) r.get(OnnxExporter.OUTPUT).orElseThrow();
            FloatBuffer fb = out.getFloatBuffer();
            float[] logits = new float[fb.remaining()];
            fb.get(logits);
            return logits;
        }
    }
}
