package dev.shiftaddvit.cost;

import dev.shiftaddvit.profile.Profiler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Measured operation counts, weight sizes and energy of one model, per layer and in total
 * ({@link CostAnalyzer} builds it). Operation counts and energies are per image; token counts are over
 * the analysed batch.
 *
 * @param model  the model's config name
 * @param images the batch the counts were measured on
 * @param rows   one per layer ({@link CostAnalyzer} lists them in the order the forward first reached them,
 *               then the rows of parameters no recorded layer ran); copied
 */
public record CostReport(String model, int images, List<Row> rows) {
    /**
     * Copies the rows.
     *
     * @throws NullPointerException when {@code rows} is or holds null
     */
    public CostReport {
        rows = List.copyOf(rows);
    }

    /**
     * One layer (a profiler name). Weight bytes: fp32 is 4 bytes per stored value (a Shift expert
     * stores P and S, 8 bytes per weight); packed is the deploy format, where a Shift expert's (P, S)
     * pair is one 5-bit code, bit-packed (⌈n·5/8⌉ bytes), and everything else stays fp32. Non-trainable
     * state (an add-attention's KSH hash) counts as fp32 bytes in both columns, not as params.
     *
     * @param name        the profiler name, e.g. {@code stages.0.blocks.0.mlp.fc1}
     * @param kind        what the profiler recorded the layer as ({@value Profiler#MOE}, {@code AddAttention},
     *                    ...); "idle" for the experts of a MoE layer that got no tokens, "Parameter" for
     *                    parameters of no recorded layer (a ViT's position embedding)
     * @param mults       multiplications per image
     * @param adds        additions per image
     * @param shifts      shifts per image
     * @param bitOps      bit operations per image (code-bit tests and selections)
     * @param params      stored parameter values (as {@code info} counts them; P and S both count)
     * @param fp32Bytes   weight bytes at 4 per stored value, non-trainable state included
     * @param packedBytes weight bytes in the deploy format
     * @param routing     tokens per expert over the batch (MoE rows only), else null
     */
    public record Row(String name, String kind, double mults, double adds, double shifts, double bitOps, long params,
                      long fp32Bytes, long packedBytes, Profiler.Routing routing) {
        /**
         * What the layer does in the model: kind, with MoE sub-layers named by their part.
         *
         * @return "Router", "Mult expert" or "Shift expert" for a MoE layer's parts, else {@link #kind}
         */
        public String role() {
            if (name.endsWith(".gate.gate")) return "Router";
            if (name.endsWith(".experts.0")) return "Mult expert";
            if (name.endsWith(".experts.1")) return "Shift expert";
            return kind;
        }

        /**
         * Compute energy of the layer's operations per image; weight reads are not included.
         *
         * @param t the energy per operation
         * @return picojoules per image
         */
        public double energyPj(EnergyTable t) {
            return t.computePj(mults, adds, shifts);
        }
    }

    /**
     * Sums over a set of rows. shiftOnlyBytes are the packed bytes without the MoE layers' Mult experts
     * and routers, i.e. if every converted linear layer kept only its Shift expert.
     *
     * @param mults          multiplications per image
     * @param adds           additions per image
     * @param shifts         shifts per image
     * @param bitOps         bit operations per image
     * @param params         stored parameter values
     * @param fp32Bytes      weight bytes stored as fp32
     * @param packedBytes    weight bytes in the deploy format
     * @param shiftOnlyBytes packed bytes without the Mult experts and routers
     * @param energyPj       compute energy per image with 32-bit operands ({@link EnergyTable#FP32}), pJ
     * @param energyPj8      compute energy per image with 8-bit operands ({@link EnergyTable#INT8}), pJ
     * @param multTokens     tokens the MoE layers sent to their Mult expert, over the batch
     * @param shiftTokens    tokens the MoE layers sent to their Shift expert, over the batch
     */
    public record Totals(double mults, double adds, double shifts, double bitOps, long params, long fp32Bytes,
                         long packedBytes, long shiftOnlyBytes, double energyPj, double energyPj8, long multTokens,
                         long shiftTokens) {
        /**
         * The sums over the given rows.
         *
         * @param rows the rows to sum, possibly none
         * @return their totals, all zero for no rows
         */
        public static Totals of(List<Row> rows) {
            double m = 0, a = 0, s = 0, b = 0, e = 0, e8 = 0;
            long p = 0, f = 0, k = 0, so = 0, mt = 0, st = 0;
            for (Row r : rows) {
                m += r.mults();
                a += r.adds();
                s += r.shifts();
                b += r.bitOps();
                e += r.energyPj(EnergyTable.FP32);
                e8 += r.energyPj(EnergyTable.INT8);
                p += r.params();
                f += r.fp32Bytes();
                k += r.packedBytes();
                String role = r.role();
                if (!role.equals("Mult expert") && !role.equals("Router")) so += r.packedBytes();
                if (r.routing() != null) {
                    mt += r.routing().multTokens();
                    st += r.routing().shiftTokens();
                }
            }
            return new Totals(m, a, s, b, p, f, k, so, e, e8, mt, st);
        }

        /**
         * Share of routed tokens that went to the Shift expert (NaN without MoE layers).
         *
         * @return shiftTokens / (multTokens + shiftTokens), in [0, 1], or NaN
         */
        public double shiftShare() {
            long n = multTokens + shiftTokens;
            return n == 0 ? Double.NaN : (double) shiftTokens / n;
        }

        /**
         * DRAM energy (pJ) of reading the packed weights once per forward pass, see {@link EnergyTable}.
         *
         * @return picojoules per forward pass ({@link EnergyTable#dramPj} of the packed bytes)
         */
        public double weightReadPj() {
            return EnergyTable.dramPj(packedBytes);
        }
    }

    /**
     * Parent and converted totals over the same layers.
     *
     * @param parent    the totals of the dense parent model
     * @param converted the totals of the reparameterised model
     */
    public record Comparison(Totals parent, Totals converted) {
        /**
         * 1 − converted/parent of the 32-bit compute energy.
         *
         * @return the fraction of the parent's energy saved (negative when the converted layers cost more)
         */
        public double energySaving() {
            return 1 - converted.energyPj() / parent.energyPj();
        }

        /**
         * parent/converted multiplications (infinite when the converted layers have none).
         *
         * @return how many times fewer multiplications the converted layers run
         */
        public double multReduction() {
            return parent.mults() / converted.mults();
        }

        /**
         * parent/converted packed weight bytes.
         *
         * @return how many times smaller the converted layers' deploy-format weights are
         */
        public double byteReduction() {
            return (double) parent.packedBytes() / converted.packedBytes();
        }

        /**
         * parent packed bytes / converted bytes if only the Shift experts were kept.
         *
         * @return how many times smaller the converted layers' weights would be, shift-only
         */
        public double shiftOnlyByteReduction() {
            return (double) parent.packedBytes() / converted.shiftOnlyBytes();
        }
    }

    /**
     * The sums over every row: the whole model.
     *
     * @return the model's totals
     */
    public Totals total() {
        return Totals.of(rows);
    }

    /**
     * Totals per {@link Row#role()}, in first-seen order.
     *
     * @return the totals by role (a fresh map)
     */
    public Map<String, Totals> byRole() {
        Map<String, List<Row>> groups = new LinkedHashMap<>();
        for (Row r : rows) groups.computeIfAbsent(r.role(), k -> new ArrayList<>()).add(r);
        Map<String, Totals> out = new LinkedHashMap<>();
        groups.forEach((k, v) -> out.put(k, Totals.of(v)));
        return out;
    }

    /**
     * Names of the reparameterised layers: MoE and add-attention rows.
     *
     * @return the names in row order (a fresh set), empty for a dense model
     */
    public Set<String> convertedLayers() {
        Set<String> s = new LinkedHashSet<>();
        for (Row r : rows) if (r.kind().equals(Profiler.MOE) || r.kind().equals("AddAttention")) s.add(r.name());
        return s;
    }

    /**
     * Totals over the given layers and everything under them (name or name + "."): on the converted
     * model its MoE sub-layers and attention projections, on a dense parent the layers they replaced
     * ({@code ...mlp.fc1}; {@code ...attn.q}, {@code .kv}, {@code .sr}, {@code .norm}, softmax, {@code .proj}).
     *
     * @param layers the layer names, e.g. another report's {@link #convertedLayers()}
     * @return the totals of the rows within them
     */
    public Totals under(Set<String> layers) {
        return Totals.of(rows.stream().filter(within(layers)).toList());
    }

    /**
     * Parent and this report over this report's converted layers.
     *
     * @param parent the report of the dense model this one was reparameterised from
     * @return the parent's totals over those layers against this report's
     */
    public Comparison convertedVs(CostReport parent) {
        Set<String> layers = convertedLayers();
        return new Comparison(parent.under(layers), under(layers));
    }

    /**
     * This report's totals against the parent's.
     *
     * @param parent the report of the dense model this one was reparameterised from
     * @return the parent's whole-model totals against this report's
     */
    public Comparison totalVs(CostReport parent) {
        return new Comparison(parent.total(), total());
    }

    private static Predicate<Row> within(Set<String> layers) {
        return r -> {
            for (String l : layers) if (r.name().equals(l) || r.name().startsWith(l + ".")) return true;
            return false;
        };
    }
}
