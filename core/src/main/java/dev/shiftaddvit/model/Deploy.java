package dev.shiftaddvit.model;

import dev.shiftaddvit.shiftadd.MoeLinear;

import java.util.ArrayList;
import java.util.List;

/**
 * Deployment of a fine-tuned ShiftAddViT: {@link #freeze} switches every MoE layer's Shift expert to its
 * deploy kernel ({@link dev.shiftaddvit.shiftadd.ShiftKernel}; add-attention already runs MatAdd on
 * long-word codes); {@link #shiftOnly} also drops the router and the Mult expert of the layers whose
 * calibration routing ({@link #routing}) sent (nearly) every token to Shift. The file that stores the
 * Shift experts as packed 5-bit codes is {@code checkpoint.DeployFile}.
 */
public final class Deploy {
    private Deploy() {
    }

    /**
     * Tokens a MoE layer sent to each expert over the calibration images.
     *
     * @param layer       the MoE layer's name
     * @param multTokens  tokens routed to the Mult expert
     * @param shiftTokens tokens routed to the Shift expert
     */
    public record LayerRouting(String layer, long multTokens, long shiftTokens) {
        /**
         * The share of tokens on Shift, in [0, 1] (0 for a layer that saw none).
         *
         * @return shiftTokens / (multTokens + shiftTokens), or 0
         */
        public double shiftShare() {
            long all = multTokens + shiftTokens;
            return all == 0 ? 0 : (double) shiftTokens / all;
        }
    }

    /**
     * Deploys every MoE layer of the model ({@link MoeLinear#deploy()}); returns how many there are.
     *
     * @param model the model, changed in place and inference-only from then on
     * @return the number of MoE layers, 0 for a model without
     */
    public static int freeze(Model model) {
        List<MoeLinear> layers = Reparam.moeLayers(model);
        for (MoeLinear l : layers) l.deploy();
        return layers.size();
    }

    /**
     * Starts a calibration: clears every MoE layer's running routing statistics.
     *
     * @param model the model to calibrate
     */
    public static void resetRouting(Model model) {
        for (MoeLinear l : Reparam.moeLayers(model)) l.resetRoutingStats();
    }

    /**
     * The tokens every MoE layer sent to each expert since {@link #resetRouting}: run the calibration
     * images through the model (inference) in between.
     *
     * @param model the model being calibrated
     * @return one entry per MoE layer, in forward order
     */
    public static List<LayerRouting> routing(Model model) {
        List<LayerRouting> routing = new ArrayList<>();
        for (MoeLinear l : Reparam.moeLayers(model)) {
            long[] t = l.tokensPerExpert();
            routing.add(new LayerRouting(l.name(), t[MoeLinear.MULT], t[MoeLinear.SHIFT]));
        }
        return routing;
    }

    /**
     * Deploys shift-only ({@link MoeLinear#deployShiftOnly()}) every layer whose calibration Shift share is
     * at least {@code threshold} (in (0, 1]); the others keep router and both experts. Returns the names
     * of the shift-only layers.
     *
     * @param model     the model, changed in place
     * @param routing   the calibration routing ({@link #routing}), matched to the layers by name
     * @param threshold the least Shift share for which a layer drops its router, in (0, 1]
     * @return the names of the layers deployed shift-only, in forward order
     * @throws IllegalArgumentException when {@code threshold} is not in (0, 1], or when a layer to drop gates by
     *                                  probability, which needs the router; the model is then left unchanged
     */
    public static List<String> shiftOnly(Model model, List<LayerRouting> routing, double threshold) {
        if (!(threshold > 0 && threshold <= 1)) {
            throw new IllegalArgumentException("shift-only threshold must be in (0, 1], got " + threshold);
        }
        // Every layer is checked before any changes, so a refusal does not leave the model half deployed.
        List<MoeLinear> drop = new ArrayList<>();
        for (MoeLinear l : Reparam.moeLayers(model)) {
            for (LayerRouting r : routing) {
                if (r.layer().equals(l.name()) && r.shiftShare() >= threshold) {
                    drop.add(l);
                    break;
                }
            }
        }
        for (MoeLinear l : drop) {
            if (l.mode() == MoeLinear.GateMode.PROBABILITY) {
                throw new IllegalArgumentException(l.name() + " gates by probability: its router scales the output, "
                        + "so it cannot be deployed shift-only");
            }
        }
        List<String> names = new ArrayList<>();
        for (MoeLinear l : drop) {
            l.deployShiftOnly();
            names.add(l.name());
        }
        return names;
    }
}
