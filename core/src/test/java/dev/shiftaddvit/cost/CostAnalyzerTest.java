package dev.shiftaddvit.cost;

import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.shiftadd.AddAttention;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whole-model reports: agreement with the profiler's MACs, weight bytes, energy, parent vs converted. */
class CostAnalyzerTest {
    private static final int BATCH = 3;

    private static Tensor images(long seed) {
        Tensor t = Tensor.zeros(BATCH, 28, 28, 1);
        SplittableRandom rng = new SplittableRandom(seed);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = (float) rng.nextGaussian();
        return t;
    }

    private static CostReport.Row row(CostReport r, String name) {
        return r.rows().stream().filter(x -> x.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name));
    }

    /** pvt_v2_fmnist with add-attention (sign codes) in stages 0–1 and every MoE forced to one expert. */
    private static Model converted(int expert) {
        Model m = Configs.byName("pvt_v2_fmnist").build(0);
        SplittableRandom rng = new SplittableRandom(1);
        Reparam.toAddAttention(m, new Reparam.AttnOptions(Set.of(), true,
                AddAttention.Options.DEFAULT.withCodes(AddAttention.CodeKind.SIGN), AddAttention.QkInit.QUERY), rng);
        Reparam.toMoe(m, new Reparam.MoeOptions(true, true, MoeLinear.DEFAULT_MODE, 0f, new float[]{0.5f, 0.5f}, 1),
                rng);
        for (MoeLinear l : Reparam.moeLayers(m)) l.forceExpert(expert);
        return m;
    }

    @Test
    void denseReportMultsEqualTheProfilerMacsPerImage() {
        Model m = Configs.byName("pvt_v2_fmnist").build(0);
        Tensor x = images(1);
        List<Profiler.Entry> entries = Profiler.during(() -> m.forward(x, false));
        CostReport r = CostAnalyzer.analyze(m, x);
        assertEquals(BATCH, r.images());
        long macLayers = 0;
        for (Profiler.Entry e : entries) {
            if (!Set.of("Linear", "Conv2d", "DwConv").contains(e.kind())) continue;
            macLayers += e.macs();
            assertEquals(e.macs() / (double) BATCH, row(r, e.name()).mults(), e.name());
        }
        double rowMults = r.rows().stream().filter(x2 -> Set.of("Linear", "Conv2d", "DwConv").contains(x2.kind()))
                .mapToDouble(CostReport.Row::mults).sum();
        assertEquals(macLayers / (double) BATCH, rowMults);
        CostReport.Totals t = r.total();
        assertEquals(m.parameterCount(), t.params());
        assertEquals(4 * m.parameterCount(), t.fp32Bytes());
        assertEquals(t.fp32Bytes(), t.packedBytes());
        assertEquals(0, t.shifts());
        assertTrue(Double.isNaN(t.shiftShare()));
    }

    @Test
    void energyIsTheSumOfCountsTimesUnitCosts() {
        CostReport.Totals t = CostAnalyzer.analyze(converted(MoeLinear.SHIFT), images(2)).total();
        assertTrue(t.shifts() > 0 && t.mults() > 0 && t.adds() > 0);
        assertEquals(t.mults() * 3.7 + t.adds() * 0.9 + t.shifts() * 0.13, t.energyPj(), 1e-6 * t.energyPj());
        assertEquals(t.mults() * 0.2 + t.adds() * 0.03 + t.shifts() * 0.024, t.energyPj8(), 1e-6 * t.energyPj8());
        assertEquals(t.packedBytes() * 8 * 12.5, t.weightReadPj(), 1e-9 * t.weightReadPj());
    }

    @Test
    void shiftExpertPacksFiveBitsPerWeightAndAnIdleExpertKeepsItsBytes() {
        SplittableRandom rng = new SplittableRandom(3);
        MoeLinear moe = MoeLinear.fromDense("fc", new Linear("fc", 3, 5, true, rng), new float[]{0.5f, 0.5f}, rng);
        moe.forceExpert(MoeLinear.SHIFT);
        List<Profiler.Entry> entries = Profiler.during(() -> moe.forward(Tensor.zeros(4, 3), false));
        Map<String, Parameter> params = new LinkedHashMap<>();
        for (Parameter p : moe.parameters()) params.put(p.name(), p);
        CostReport r = CostAnalyzer.report("moe", 2, entries, params, Map.of());
        CostReport.Row shift = row(r, "fc.experts.1");
        assertEquals((15 * 5 + 7) / 8 + 4 * 5, shift.packedBytes()); // ⌈15·5/8⌉ code bytes + fp32 bias
        assertEquals(4 * (2 * 15 + 5), shift.fp32Bytes());
        assertEquals(2 * 15 + 5, shift.params());
        CostReport.Row mult = row(r, "fc.experts.0");
        assertEquals("idle", mult.kind());
        assertEquals(4 * (15 + 5), mult.packedBytes());
        assertEquals(new Profiler.Routing(0, 4), row(r, "fc").routing());
        CostReport.Totals t = r.total();
        assertEquals(shift.packedBytes(), t.shiftOnlyBytes());
        assertEquals(shift.packedBytes() + mult.packedBytes() + 4 * (2 * 3 + 2), t.packedBytes());
        assertEquals(1.0, t.shiftShare());
        assertEquals(4.0 / 2 * 15, shift.shifts()); // per image: 4 tokens over a batch of 2
    }

    @Test
    void convertedLayersMatchTheirDenseParentsByName() {
        Tensor x = images(4);
        CostReport parent = CostAnalyzer.analyze(Configs.byName("pvt_v2_fmnist").build(0), x);
        CostReport shift = CostAnalyzer.analyze(converted(MoeLinear.SHIFT), x);
        Set<String> layers = shift.convertedLayers();
        double expected = parent.rows().stream()
                .filter(r -> r.name().matches("stages\\.[01]\\.blocks\\.\\d+\\.attn\\..+|.*\\.mlp\\.fc[12]"))
                .mapToDouble(CostReport.Row::mults).sum();
        assertEquals(expected, parent.under(layers).mults());
        assertTrue(layers.contains("stages.0.blocks.0.attn") && layers.contains("stages.2.blocks.0.mlp.fc1"));
        assertTrue(layers.stream().noneMatch(l -> l.startsWith("stages.2.blocks.0.attn")), "last stage stays softmax");

        CostReport.Comparison c = shift.convertedVs(parent);
        assertEquals(1.0, c.converted().shiftShare());
        assertTrue(c.multReduction() > 5, "mults left: routers and attention normalisations, " + c);
        assertTrue(c.energySaving() > 0.5, c.toString());
        // Both experts are kept: more bytes than the parent, fewer if only the Shift experts were deployed.
        assertTrue(c.converted().packedBytes() > c.parent().packedBytes());
        assertTrue(c.converted().shiftOnlyBytes() < c.parent().packedBytes() / 4);

        CostReport mult = CostAnalyzer.analyze(converted(MoeLinear.MULT), x);
        CostReport.Comparison cm = mult.convertedVs(parent);
        assertEquals(0.0, cm.converted().shiftShare());
        assertEquals(0, cm.converted().shifts());
        double experts = mult.rows().stream().filter(r -> r.role().equals("Mult expert"))
                .mapToDouble(CostReport.Row::mults).sum();
        double denseLinears = parent.rows().stream().filter(r -> r.name().matches(".*\\.mlp\\.fc[12]"))
                .mapToDouble(CostReport.Row::mults).sum();
        assertTrue(experts > denseLinears, "Mult experts run the MLPs and the attention projections");
    }
}
