package dev.shiftaddvit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Every named config (timm style: one test over the registry, so a new config is covered the day it is
 * registered): the model builds, maps a batch to [batch, classes] logits, gives every parameter a finite,
 * non-zero gradient, and survives a checkpoint round trip bit for bit. ONNX export of every config is
 * {@code OnnxExporterTest}'s.
 */
class EveryRegisteredModelTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @MethodSource("dev.shiftaddvit.model.Configs#names")
    void buildsRunsForwardAndBackwardAndRoundTripsThroughACheckpoint(String name) throws Exception {
        ModelConfig c = Configs.byName(name);
        Model m = c.build(3);
        int batch = 2;
        Tensor images = random(new SplittableRandom(5), batch, c.imgSize(), c.imgSize(), c.inChans());
        Tensor logits = m.forward(images, true);
        assertArrayEquals(new int[]{batch, c.numClasses()}, logits.shape(), name + " logits shape");
        for (Parameter p : m.parameters()) p.zeroGrad();
        m.backward(random(new SplittableRandom(6), batch, c.numClasses()));
        for (Parameter p : m.parameters()) {
            boolean nonZero = false;
            for (float g : p.grad().data()) {
                assertTrue(Float.isFinite(g), name + ": " + p.name() + " has a non-finite gradient");
                nonZero |= g != 0f;
            }
            assertTrue(nonZero, name + ": " + p.name() + " gets no gradient");
        }
        Path file = dir.resolve(name + ".safetensors");
        Checkpoints.save(file, m, Map.of(), Map.of());
        Model back = Checkpoints.load(file).model();
        assertEquals(m.parameterCount(), back.parameterCount(), name + " parameters after the round trip");
        assertArrayEquals(m.forward(images, false).data(), back.forward(images, false).data(),
                name + ": logits after the checkpoint round trip");
    }

    private static Tensor random(SplittableRandom rng, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = (float) (rng.nextDouble() * 2 - 1);
        return t;
    }
}
