package dev.shiftaddvit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.kernel.Gelu;
import dev.shiftaddvit.kernel.VectorWidth;
import dev.shiftaddvit.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RowBlockInferenceTest {
    private static final int VL = VectorWidth.FLOAT.length();

    @Test
    void givesTheBitsOfTheLayerByLayerPathAtEveryRowCount() {
        for (int hidden : new int[] {2 * VL, 3 * VL, 48 * VL}) {
            for (int rows : new int[] {33, 144, 197, 301, 1000}) {
                SplittableRandom rng = new SplittableRandom(rows * 31L + hidden);
                Linear fc1 = withBias(new Linear("fc1", 24, hidden, true, rng), rng);
                Linear fc2 = withBias(new Linear("fc2", hidden, 40, true, rng), rng);
                Tensor x = Tensor.zeros(rows, 24);
                for (int i = 0; i < x.size(); i++) x.data()[i] = (float) rng.nextGaussian();
                assertTrue(FusedMlp.applies(fc1, fc2, x), "fused path applies");
                Tensor h = fc1.forward(x, false);
                Gelu.forward(h.data(), h.data(), h.size());
                float[] expected = fc2.forward(h, false).data();
                assertArrayEquals(expected, FusedMlp.forward(null, fc1, fc2, x, false).data(),
                        "rows=" + rows + " hidden=" + hidden);
            }
        }
    }

    @Test
    void withTheBlocksNormAndResidualGivesTheBitsOfTheBlockLayerByLayer() {
        for (int rows : new int[] {33, 197, 1000}) {
            SplittableRandom rng = new SplittableRandom(rows);
            int dim = 24;
            LayerNorm norm = randomNorm("norm2", dim, rng);
            Linear fc1 = withBias(new Linear("fc1", dim, 4 * VL, true, rng), rng);
            Linear fc2 = withBias(new Linear("fc2", 4 * VL, dim, true, rng), rng);
            Tensor x = Tensor.zeros(rows, dim);
            for (int i = 0; i < x.size(); i++) x.data()[i] = (float) rng.nextGaussian() * 2;
            Tensor h = fc1.forward(norm.forward(x, false), false);
            Gelu.forward(h.data(), h.data(), h.size());
            float[] expected = fc2.forward(h, false).data();
            for (int i = 0; i < expected.length; i++) expected[i] += x.data()[i];
            assertArrayEquals(expected, FusedMlp.forward(norm, fc1, fc2, x, true).data(), "rows=" + rows);
        }
    }

    @Test
    void staysLayerByLayerWhereItsBitsWouldDiffer() {
        SplittableRandom rng = new SplittableRandom(3);
        Linear fc1 = new Linear("fc1", 16, 2 * VL + 1, true, rng);
        Linear fc2 = new Linear("fc2", 2 * VL + 1, 16, true, rng);
        assertFalse(FusedMlp.applies(fc1, fc2, Tensor.zeros(64, 16)), "hidden not a whole number of vectors");
        Linear fc1v = new Linear("fc1", 16, 2 * VL, true, rng);
        Linear fc2v = new Linear("fc2", 2 * VL, 16, true, rng);
        assertFalse(FusedMlp.applies(fc1v, fc2v, Tensor.zeros(8, 16)), "rows on the dot path");
    }

    @Test
    void aViTBlockGivesTheBitsOfItsLayerByLayerPath() {
        for (int tokens : new int[] {17, 50}) {
            SplittableRandom rng = new SplittableRandom(tokens);
            int dim = 4 * VL;
            LayerNorm norm1 = randomNorm("norm1", dim, rng);
            LayerNorm norm2 = randomNorm("norm2", dim, rng);
            SelfAttention attn = new SelfAttention("attn", dim, 2, true, rng);
            Mlp mlp = new Mlp("mlp", dim, 4 * dim, 0, 0, rng);
            for (Parameter p : attn.parameters()) randomize(p, rng);
            for (Parameter p : mlp.parameters()) randomize(p, rng);
            Block block = new Block(norm1, attn, norm2, mlp);
            Tensor x = Tensor.zeros(2, tokens, dim);
            for (int i = 0; i < x.size(); i++) x.data()[i] = (float) rng.nextGaussian();
            Tensor a = attn.forward(norm1.forward(x, false), false);
            for (int i = 0; i < a.size(); i++) a.data()[i] += x.data()[i];
            Tensor h = ((Linear) mlp.fc1()).forward(norm2.forward(a, false), false);
            Gelu.forward(h.data(), h.data(), h.size());
            float[] expected = ((Linear) mlp.fc2()).forward(h, false).data();
            for (int i = 0; i < expected.length; i++) expected[i] += a.data()[i];
            assertTrue(attn.forwardNormResidual(norm1, x) != null, "fused attention applies");
            assertArrayEquals(expected, block.forward(x, false).data(), "tokens=" + tokens);
        }
    }

    private static LayerNorm randomNorm(String name, int dim, SplittableRandom rng) {
        LayerNorm norm = new LayerNorm(name, dim, 1e-6f);
        for (Parameter p : norm.parameters()) randomize(p, rng);
        return norm;
    }

    private static void randomize(Parameter p, SplittableRandom rng) {
        float[] v = p.value().data();
        for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * 0.3);
    }

    private static Linear withBias(Linear l, SplittableRandom rng) {
        float[] b = l.bias().value().data();
        for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextGaussian();
        return l;
    }
}
