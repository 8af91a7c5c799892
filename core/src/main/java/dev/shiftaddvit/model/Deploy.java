package dev.shiftaddvit.model;

import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.shiftadd.MoeLinear;

import java.util.ArrayList;
import java.util.List;

/**
 * Deployment of a fine-tuned ShiftAddViT: {@link #freeze} switches every MoE layer's Shift expert to its
 * deploy kernel ({@link dev.shiftaddvit.shiftadd.ShiftKernel}; add-attention already runs MatAdd on
 * long-word codes); {@link #shiftOnly} also drops the router and the Mult expert of the layers whose
 * calibration routing ({@link #calibrate}) sent (nearly) every token to Shift. The file that stores the
 * Shift experts as packed 5-bit codes is {@code checkpoint.DeployFile}.
 */
public final class Deploy {
    private Deploy() {
    }

    /** Tokens a MoE layer sent to each expert over the calibration images. */
    public record LayerRouting(String layer, long multTokens, long shiftTokens) {
        /** The share of tokens on Shift, in [0, 1] (0 for a layer that saw none). */
        public double shiftShare() {
            long all = multTokens + shiftTokens;
            return all == 0 ? 0 : (double) shiftTokens / all;
        }
    }

    /** Deploys every MoE layer of the model ({@link MoeLinear#deploy()}); returns how many there are. */
    public static int freeze(Model model) {
        List<MoeLinear> layers = Reparam.moeLayers(model);
        for (MoeLinear l : layers) l.deploy();
        return layers.size();
    }

    /**
     * The routing of every MoE layer over the first {@code images} images of data (inference, batches of
     * {@code batchSize}); the layers' running statistics are reset first and hold these counts after.
     */
    public static List<LayerRouting> calibrate(Model model, BatchSource data, int images, int batchSize) {
        if (images < 1 || batchSize < 1) {
            throw new IllegalArgumentException("calibration needs images and batch size >= 1, got " + images + ", "
                    + batchSize);
        }
        List<MoeLinear> layers = Reparam.moeLayers(model);
        for (MoeLinear l : layers) l.resetRoutingStats();
        int n = Math.min(images, data.size());
        for (int from = 0; from < n; from += batchSize) {
            int[] idx = new int[Math.min(batchSize, n - from)];
            for (int i = 0; i < idx.length; i++) idx[i] = from + i;
            model.forward(data.select(idx).images(), false);
        }
        List<LayerRouting> routing = new ArrayList<>();
        for (MoeLinear l : layers) {
            long[] t = l.tokensPerExpert();
            routing.add(new LayerRouting(l.name(), t[MoeLinear.MULT], t[MoeLinear.SHIFT]));
        }
        return routing;
    }

    /**
     * Deploys shift-only ({@link MoeLinear#deployShiftOnly()}) every layer whose calibration Shift share is
     * at least {@code threshold} (in (0, 1]); the others keep router and both experts. Returns the names
     * of the shift-only layers.
     */
    public static List<String> shiftOnly(Model model, List<LayerRouting> routing, double threshold) {
        if (!(threshold > 0 && threshold <= 1)) {
            throw new IllegalArgumentException("shift-only threshold must be in (0, 1], got " + threshold);
        }
        List<String> names = new ArrayList<>();
        for (MoeLinear l : Reparam.moeLayers(model)) {
            for (LayerRouting r : routing) {
                if (r.layer().equals(l.name()) && r.shiftShare() >= threshold) {
                    l.deployShiftOnly();
                    names.add(l.name());
                }
            }
        }
        return names;
    }
}
