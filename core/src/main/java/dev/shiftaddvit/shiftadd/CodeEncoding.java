package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.BitCodes;

/**
 * The codes of one forward pass and what the backward pass needs. Made by {@link KshHash#encode}
 * and {@link SignCodes#encode}; the arrays are the encoder's own, not copies.
 *
 * @param codes          codes for groups g = b·heads + h
 * @param steMask        STE pass bits per (group, token): bit t set iff the gradient of code bit t passes
 * @param distances      squared distances to the anchors [groups·N, m] (KSH, kept for backward), else null
 * @param kernel         kernel values exp(−D/2σ) [groups·N, m] (KSH, kept for backward), else null
 * @param preActivations pre-activations z [groups, N, r] (KSH, kept for backward), else null
 * @param sigma          σ per group (KSH), else null
 */
public record CodeEncoding(BitCodes codes, long[] steMask, float[] distances, float[] kernel, float[] preActivations,
                           double[] sigma) {
}
