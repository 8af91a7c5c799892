package dev.shiftaddvit.bench;

import dev.shiftaddvit.cost.EnergyTable;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.Deploy;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.PvtV1Config;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.model.VitConfig;
import dev.shiftaddvit.shiftadd.AddAttention;
import dev.shiftaddvit.shiftadd.MoeLinear;

import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The models the shootout measures, all built from the same seed so that every variant starts from the
 * same dense weights: the dense model, its add-attention conversion and the add-attention + MoE model
 * deployed, converted the way the CLI's reparam stages convert (KSH hashes trained on one calibration
 * batch; the MoE routers are fresh, i.e. untrained, as after {@code reparam --stage moe}).
 */
final class ShiftAddVariants {
    /** Seed of every model's initial weights. */
    static final long SEED = 0;

    /** What is measured of a model. */
    enum Variant {
        FULL, ADD, MOE;

        static Variant parse(String s) {
            return switch (s) {
                case "full", "dense" -> FULL;
                case "add" -> ADD;
                case "moe" -> MOE;
                default -> throw new IllegalArgumentException("unknown variant \"" + s + "\" (expected full, add or moe)");
            };
        }
    }

    /** Where the MoE latency weights α come from: measured expert latency, or the 45 nm energy table. */
    enum AlphaFrom { LATENCY, ENERGY }

    /**
     * How MoE tokens are routed: by the (untrained) router, all forced to one expert, or deployed
     * shift-only (no router and no Mult expert: what {@code deploy --shift-only} makes of a layer whose
     * calibration routing sent its tokens to Shift).
     */
    enum Route {
        ROUTER(-1, "untrained router"), MULT(MoeLinear.MULT, "forced: all Mult"),
        SHIFT(MoeLinear.SHIFT, "forced: all Shift"), SHIFTONLY(MoeLinear.SHIFT, "deployed shift-only");

        final int expert;
        final String note;

        Route(int expert, String note) {
            this.expert = expert;
            this.note = note;
        }
    }

    /** Conversion settings shared by the add and moe variants. */
    record Conversion(boolean keepLastSoftmax, AlphaFrom alphaFrom, int latencyBatch) {
    }

    private ShiftAddVariants() {
    }

    static Model dense(String config, int imgSize) {
        return config(config, imgSize).build(SEED);
    }

    /** A registered config, at another input size where imgSize > 0 (PVTv2 has no position table to resize). */
    static ModelConfig config(String name, int imgSize) {
        ModelConfig c = Configs.byName(name);
        return imgSize > 0 && imgSize != c.imgSize() ? c.toBuilder().imgSize(imgSize).build() : c;
    }

    /**
     * Whether every attention of the config is global (ViT, or PVT without spatial reduction): the
     * starting point the ShiftAddViT variants are built from.
     */
    static boolean fullAttention(String config) {
        return switch (Configs.byName(config)) {
            case VitConfig c -> true;
            case PvtV2Config c -> Arrays.stream(c.srRatios()).allMatch(r -> r == 1);
            case PvtV1Config c -> Arrays.stream(c.srRatios()).allMatch(r -> r == 1);
        };
    }

    /** The variant of a config; route applies to MOE only. */
    static Model build(String config, int imgSize, Variant v, Conversion c, Route route, BenchImages calibration) {
        Model m = dense(config, imgSize);
        if (v == Variant.FULL) return m;
        Reparam.AttnOptions attn = new Reparam.AttnOptions(Set.of(), c.keepLastSoftmax(), AddAttention.Options.DEFAULT,
                AddAttention.QkInit.QUERY);
        Reparam.toAddAttention(m, attn, new SplittableRandom(SEED));
        Reparam.trainHashes(m, calibration.nhwc());
        if (v == Variant.ADD) return m;
        float[] alpha = c.alphaFrom() == AlphaFrom.ENERGY ? EnergyTable.FP32.expertAlpha() : null;
        Reparam.MoeOptions moe = new Reparam.MoeOptions(true, true, MoeLinear.DEFAULT_MODE,
                MoeLinear.DEFAULT_BALANCE_COEF, alpha, c.latencyBatch());
        Reparam.toMoe(m, moe, new SplittableRandom(SEED));
        Deploy.freeze(m);
        for (MoeLinear l : Reparam.moeLayers(m)) {
            if (route == Route.SHIFTONLY) l.deployShiftOnly();
            else l.forceExpert(route.expert);
        }
        return m;
    }

    /** Table label of a variant of a config. */
    static String label(String config, Variant v, Conversion c) {
        String add = "add-attention" + (c.keepLastSoftmax() ? ", last " + (Configs.byName(config) instanceof VitConfig
                ? "block" : "stage") + " softmax" : " everywhere");
        return switch (v) {
            case FULL -> fullAttention(config) ? "full attention (MSA)" : "spatial-reduction attention (stock)";
            case ADD -> add;
            case MOE -> add + " + MoE, deployed";
        };
    }

    /** "Shift 48.7 % of 123,456 tokens" for the last forward of a MoE model, or null for a model without MoE. */
    static String routing(Model m, Route route) {
        long mult = 0;
        long shift = 0;
        for (MoeLinear l : Reparam.moeLayers(m)) {
            int[] t = l.lastTokensPerExpert();
            mult += t[MoeLinear.MULT];
            shift += t[MoeLinear.SHIFT];
        }
        if (mult + shift == 0) return null;
        return String.format(Locale.ROOT, "Shift %.1f %% of %,d tokens (%s)", 100.0 * shift / (mult + shift), mult + shift,
                route.note);
    }
}
