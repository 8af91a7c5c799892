package dev.shiftaddvit.profile;

import dev.shiftaddvit.kernel.BitCodes;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.shiftadd.AddAttention;
import dev.shiftaddvit.shiftadd.KshTraining;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.shiftadd.ShiftLinear;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The operation counts each layer's forward reports to the profiler. */
class OpCountTest {
    private static List<Profiler.Entry> profile(Supplier<Tensor> forward) {
        return Profiler.during(forward::get);
    }

    private static Profiler.Entry only(List<Profiler.Entry> entries, String name) {
        List<Profiler.Entry> m = entries.stream().filter(e -> e.name().equals(name)).toList();
        assertEquals(1, m.size(), name + " in " + entries);
        return m.getFirst();
    }

    private static Tensor random(SplittableRandom rng, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = (float) rng.nextGaussian();
        return t;
    }

    @Test
    void linearCountsRowsTimesInTimesOutMultsAndTheAddsOfItsDotProducts() {
        SplittableRandom rng = new SplittableRandom(1);
        Linear l = new Linear("fc", 7, 5, true, rng);
        Profiler.Entry e = only(profile(() -> l.forward(random(rng, 2, 3, 7), false)), "fc");
        assertEquals(new OpCount(6L * 7 * 5, 6L * 7 * 5, 0, 0), e.ops()); // (in − 1) adds + 1 for the bias
        assertEquals(e.macs(), e.ops().mults());
        Linear noBias = new Linear("nb", 7, 5, false, rng);
        assertEquals(6L * 6 * 5, only(profile(() -> noBias.forward(random(rng, 6, 7), false)), "nb").ops().adds());
    }

    @Test
    void shiftLinearHasNoMultsAndSkipsZeroWeights() {
        SplittableRandom rng = new SplittableRandom(2);
        float[] w = new float[4 * 3];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
        w[0] = 0f;
        w[1] = 0f;
        w[2] = 0f; // output 0 keeps only its bias
        w[5] = 0f;
        ShiftLinear s = ShiftLinear.fromDense("shift", w, new float[4], 4, 3);
        Profiler.Entry e = only(profile(() -> s.forward(random(rng, 5, 3), false)), "shift");
        // 8 nonzero weights: 8 shifts per row; adds per output = nonzero terms + bias − 1 = 0 + 2 + 3 + 3
        assertEquals(new OpCount(0, 5L * 8, 5L * 8, 0), e.ops());
    }

    @Test
    void moeExpertCountsFollowTheRouting() {
        SplittableRandom rng = new SplittableRandom(3);
        Linear dense = new Linear("mlp.fc1", 6, 4, true, rng);
        MoeLinear moe = MoeLinear.fromDense("mlp.fc1", dense, new float[]{0.5f, 0.5f}, rng);
        Tensor x = random(rng, 2, 5, 6);

        moe.forceExpert(MoeLinear.SHIFT);
        List<Profiler.Entry> shift = profile(() -> moe.forward(x, false));
        assertEquals(new Profiler.Routing(0, 10), only(shift, "mlp.fc1").routing());
        assertEquals(OpCount.ZERO, only(shift, "mlp.fc1").ops());
        assertEquals(OpCount.dense(10, 6, 2, true), only(shift, "mlp.fc1.gate.gate").ops());
        assertTrue(shift.stream().noneMatch(e -> e.name().equals("mlp.fc1.experts.0")));
        Profiler.Entry se = only(shift, "mlp.fc1.experts.1");
        assertEquals(0, se.ops().mults());
        assertEquals(10L * 24, se.ops().shifts()); // no zero weight in a Gaussian layer

        moe.forceExpert(MoeLinear.MULT);
        List<Profiler.Entry> mult = profile(() -> moe.forward(x, false));
        assertEquals(new Profiler.Routing(10, 0), only(mult, "mlp.fc1").routing());
        assertEquals(10L * 6 * 4, only(mult, "mlp.fc1.experts.0").ops().mults());
        assertTrue(mult.stream().noneMatch(e -> e.name().equals("mlp.fc1.experts.1")));

        moe.forceExpert(-1);
        moe.overrideRoutes(new int[]{0, 1, 1, 0, 1, 1, 1, 0, 0, 1});
        List<Profiler.Entry> mixed = profile(() -> moe.forward(x, false));
        assertEquals(new Profiler.Routing(4, 6), only(mixed, "mlp.fc1").routing());
        assertEquals(4L * 24, only(mixed, "mlp.fc1.experts.0").ops().mults());
        assertEquals(6L * 24, only(mixed, "mlp.fc1.experts.1").ops().shifts());
        assertNull(only(mixed, "mlp.fc1.experts.1").routing());
    }

    @Test
    void matAddCountsTheAdditionsOfTheSelectedRowsAndNoMults() {
        SplittableRandom rng = new SplittableRandom(4);
        int groups = 3, n = 50, r = 9, d = 5;
        BitCodes codes = new BitCodes(groups, n, r);
        for (int g = 0; g < groups; g++) {
            for (int k = 0; k < n; k++) {
                for (int t = 0; t < r; t++) codes.set(g, k, t, t != 4 && rng.nextInt(3) == 0); // bit 4 never set
            }
        }
        long adds = 0;
        for (int g = 0; g < groups; g++) {
            for (int t = 0; t < r; t++) { // Bᵀ·V row t: (selected tokens − 1) row additions
                int sel = 0;
                for (int k = 0; k < n; k++) if (codes.get(g, k, t)) sel++;
                adds += Math.max(0, sel - 1) * (long) d;
            }
            for (int k = 0; k < n; k++) { // B·T row k: (set bits − 1) row additions
                int sel = 0;
                for (int t = 0; t < r; t++) if (codes.get(g, k, t)) sel++;
                adds += Math.max(0, sel - 1) * (long) d;
            }
        }
        assertEquals(new OpCount(0, adds, 0, 2L * groups * n * r), OpCount.matAdd(codes, d));
    }

    @Test
    void addAttentionMultsDoNotDependOnTheCodesButItsAddsDo() {
        SplittableRandom rng = new SplittableRandom(5);
        AddAttention.Options opt = new AddAttention.Options(AddAttention.CodeKind.KSH, 8, 5, 9,
                new KshTraining.TrainConfig(3, 20, 5e-4, 0.9));
        AddAttention a = new AddAttention("attn", 8, 2, true, opt, rng);
        Tensor x1 = random(rng, 2, 16, 8);
        Tensor x2 = random(rng, 2, 16, 8);
        a.trainHash(x1); // outside the profiled calls
        Profiler.Entry e1 = only(profile(() -> a.forward(x1, false)), "attn");
        OpCount m1 = OpCount.matAdd(a.lastEncoding().codes(), 4);
        Profiler.Entry e2 = only(profile(() -> a.forward(x2, false)), "attn");
        OpCount m2 = OpCount.matAdd(a.lastEncoding().codes(), 4);
        assertNotEquals(m1.adds(), m2.adds());
        assertEquals(e1.ops().mults(), e2.ops().mults());
        assertEquals(e1.ops().adds() - m1.adds(), e2.ops().adds() - m2.adds());
        assertEquals(0, e1.ops().shifts());
        // bit operations: 8-bit codes of 2·16 tokens × 2 heads, produced once and read by both products
        assertEquals(3L * 2 * 16 * 2 * 8, e1.ops().bitOps());
    }
}
