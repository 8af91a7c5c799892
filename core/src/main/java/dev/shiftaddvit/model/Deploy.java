package dev.shiftaddvit.model;

import dev.shiftaddvit.shiftadd.MoeLinear;

import java.util.List;

/**
 * Deployment of a fine-tuned ShiftAddViT: {@link #freeze} switches every MoE layer's Shift expert to a
 * multiplication-free shift kernel ({@link dev.shiftaddvit.shiftadd.ShiftKernel}; add-attention already runs
 * MatAdd on long-word codes). The file that stores the Shift experts as packed 5-bit codes is
 * {@code checkpoint.DeployFile}.
 */
public final class Deploy {
    private Deploy() {
    }

    /** Deploys every MoE layer of the model ({@link MoeLinear#deploy()}); returns how many there are. */
    public static int freeze(Model model) {
        List<MoeLinear> layers = Reparam.moeLayers(model);
        for (MoeLinear l : layers) l.deploy();
        return layers.size();
    }
}
