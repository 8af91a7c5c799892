package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.BitCodes;

/**
 * The codes of one forward pass and what the backward pass needs: codes for groups
 * g = b·heads + h; {@code mask} holds per (g, n) the STE pass bits; for KSH, the distances,
 * kernel values exp(−D/2σ), σ per group and the pre-activations z (null unless kept). Made by
 * {@link KshHash#encode} and {@link SignCodes#encode}.
 */
public final class CodeEncoding {
    private final BitCodes codes;
    private final long[] mask;
    private final float[] dist;
    private final float[] kern;
    private final float[] z;
    private final double[] sigma;

    CodeEncoding(BitCodes codes, long[] mask, float[] dist, float[] kern, float[] z, double[] sigma) {
        this.codes = codes;
        this.mask = mask;
        this.dist = dist;
        this.kern = kern;
        this.z = z;
        this.sigma = sigma;
    }

    public BitCodes codes() {
        return codes;
    }

    /** STE pass bits per (group, token): bit t set iff the gradient of code bit t passes. */
    public long[] steMask() {
        return mask;
    }

    /** Pre-activations z [groups, N, r] (KSH, kept for backward), else null. */
    public float[] preActivations() {
        return z;
    }

    /** σ per group (KSH), else null. */
    public double[] sigma() {
        return sigma;
    }

    /** Squared distances to the anchors [groups·N, m] (KSH, kept for backward), else null. */
    float[] distances() {
        return dist;
    }

    /** Kernel values exp(−D/2σ) [groups·N, m] (KSH, kept for backward), else null. */
    float[] kernel() {
        return kern;
    }
}
