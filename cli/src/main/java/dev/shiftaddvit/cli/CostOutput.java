package dev.shiftaddvit.cli;

import dev.shiftaddvit.cost.CostReport;
import dev.shiftaddvit.cost.EnergyTable;
import dev.shiftaddvit.profile.Profiler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** JSON and text rendering of cost reports. */
final class CostOutput {
    /** A measured model and where it came from. */
    record Measured(String source, CostReport report) {
    }

    private CostOutput() {
    }

    static Map<String, Object> json(Measured m, Measured parent, String data) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("model", m.source());
        o.put("config", m.report().model());
        o.put("images", m.report().images());
        o.put("data", data);
        o.put("units", "operations and energy_pj per image (45 nm; 32-bit, energy_pj_8bit for 8-bit); "
                + "weight_read_pj per forward pass (DRAM, packed weights read once); bytes per model");
        o.put("total", totals(m.report().total()));
        Map<String, Object> kinds = new LinkedHashMap<>();
        m.report().byRole().forEach((k, t) -> kinds.put(k, totals(t)));
        o.put("by_kind", kinds);
        if (!m.report().convertedLayers().isEmpty()) {
            o.put("converted_layers", totals(m.report().under(m.report().convertedLayers())));
        }
        List<Object> rows = new ArrayList<>();
        for (CostReport.Row r : m.report().rows()) rows.add(row(r));
        o.put("layers", rows);
        if (parent != null) {
            o.put("baseline", parent.source());
            o.put("baseline_total", totals(parent.report().total()));
            o.put("vs_baseline", comparison(m.report().totalVs(parent.report())));
            if (!m.report().convertedLayers().isEmpty()) {
                o.put("converted_vs_baseline", comparison(m.report().convertedVs(parent.report())));
            }
        }
        return o;
    }

    private static Map<String, Object> totals(CostReport.Totals t) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("mults", num(t.mults()));
        o.put("adds", num(t.adds()));
        o.put("shifts", num(t.shifts()));
        o.put("bit_ops", num(t.bitOps()));
        o.put("params", t.params());
        o.put("fp32_bytes", t.fp32Bytes());
        o.put("packed_bytes", t.packedBytes());
        o.put("shift_only_bytes", t.shiftOnlyBytes());
        o.put("energy_pj", num(t.energyPj()));
        o.put("energy_pj_8bit", num(t.energyPj8()));
        o.put("weight_read_pj", num(t.weightReadPj()));
        if (t.multTokens() + t.shiftTokens() > 0) o.put("shift_token_share", num(t.shiftShare()));
        return o;
    }

    private static Map<String, Object> row(CostReport.Row r) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("name", r.name());
        o.put("kind", r.role());
        o.put("mults", num(r.mults()));
        o.put("adds", num(r.adds()));
        o.put("shifts", num(r.shifts()));
        o.put("bit_ops", num(r.bitOps()));
        o.put("params", r.params());
        o.put("fp32_bytes", r.fp32Bytes());
        o.put("packed_bytes", r.packedBytes());
        o.put("energy_pj", num(r.energyPj(EnergyTable.FP32)));
        if (r.routing() != null) {
            o.put("mult_tokens", r.routing().multTokens());
            o.put("shift_tokens", r.routing().shiftTokens());
        }
        return o;
    }

    private static Map<String, Object> comparison(CostReport.Comparison c) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("energy_saving", num(c.energySaving()));
        o.put("mult_reduction", num(c.multReduction()));
        o.put("packed_bytes_ratio", num(c.byteReduction()));
        o.put("shift_only_bytes_ratio", num(c.shiftOnlyByteReduction()));
        o.put("baseline", totals(c.parent()));
        o.put("converted", totals(c.converted()));
        return o;
    }

    /** A whole number as a long, else rounded to 4 decimals; null where undefined (a ratio over 0). */
    private static Object num(double v) {
        if (!Double.isFinite(v)) return null;
        if (v == Math.rint(v) && Math.abs(v) < 0x1p53) return (long) v;
        return Math.round(v * 1e4) / 1e4;
    }

    static void print(Measured m, Measured parent, String data, boolean perLayer) {
        CostReport r = m.report();
        System.out.printf("%s (%s): operations and energy per image, measured on %d images of %s%n%n", m.source(),
                r.model(), r.images(), data);
        Map<String, CostReport.Totals> lines = new LinkedHashMap<>();
        if (perLayer) {
            for (CostReport.Row row : r.rows()) lines.put(label(row), CostReport.Totals.of(List.of(row)));
        } else {
            // MoE rows only carry the routing; their work is in the Router and expert rows.
            r.byRole().forEach((k, t) -> {
                if (!k.equals(Profiler.MOE)) lines.put(k, t);
            });
        }
        lines.put("total", r.total());
        Set<String> converted = r.convertedLayers();
        if (!converted.isEmpty()) lines.put("converted layers (" + converted.size() + ")", r.under(converted));
        if (parent != null) {
            lines.put("baseline total", parent.report().total());
            if (!converted.isEmpty()) lines.put("baseline, same layers", parent.report().under(converted));
        }
        table(lines);

        CostReport.Totals t = r.total();
        if (t.multTokens() + t.shiftTokens() > 0) {
            long moe = r.rows().stream().filter(x -> x.routing() != null).count();
            System.out.printf("%ntokens routed to the Shift expert: %.1f%% (%,d of %,d over %d MoE layers)%n",
                    100 * t.shiftShare(), t.shiftTokens(), t.multTokens() + t.shiftTokens(), moe);
        }
        System.out.printf("%nweights: %,d bytes packed, %,d as fp32; read once from DRAM: %.2f uJ per forward pass%n",
                t.packedBytes(), t.fp32Bytes(), t.weightReadPj() / 1e6);
        if (t.shiftOnlyBytes() != t.packedBytes()) {
            System.out.printf("         %,d bytes packed if only the Shift experts were kept%n", t.shiftOnlyBytes());
        }
        if (parent == null) return;
        System.out.printf("%nvs baseline %s (%s):%n", parent.source(), parent.report().model());
        compare("whole model", r.totalVs(parent.report()));
        if (!converted.isEmpty()) compare("converted layers", r.convertedVs(parent.report()));
    }

    private static String label(CostReport.Row row) {
        String s = row.name() + " [" + row.role();
        if (row.routing() != null) {
            long n = row.routing().multTokens() + row.routing().shiftTokens();
            s += String.format(", %.0f%% shift", n == 0 ? 0.0 : 100.0 * row.routing().shiftTokens() / n);
        }
        return s + "]";
    }

    private static void table(Map<String, CostReport.Totals> lines) {
        int w = lines.keySet().stream().mapToInt(String::length).max().orElse(0);
        String f = "%-" + w + "s";
        System.out.printf(f + " %14s %14s %14s %12s %12s %12s %12s%n", "", "mults", "adds", "shifts", "bit ops",
                "packed B", "energy uJ", "8-bit uJ");
        lines.forEach((label, t) -> System.out.printf(f + " %,14.0f %,14.0f %,14.0f %,12.0f %,12d %12.3f %12.3f%n",
                label, t.mults(), t.adds(), t.shifts(), t.bitOps(), t.packedBytes(), t.energyPj() / 1e6,
                t.energyPj8() / 1e6));
    }

    private static void compare(String what, CostReport.Comparison c) {
        double saving8 = 1 - c.converted().energyPj8() / c.parent().energyPj8();
        System.out.printf("  %s: compute energy %.1f%% lower (32-bit; %.1f%% at 8-bit), %.2fx fewer mults; packed "
                        + "weights %,d -> %,d bytes (%,d with only the Shift experts)%n", what, 100 * c.energySaving(),
                100 * saving8, c.multReduction(), c.parent().packedBytes(), c.converted().packedBytes(),
                c.converted().shiftOnlyBytes());
    }
}
