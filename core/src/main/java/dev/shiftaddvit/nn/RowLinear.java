package dev.shiftaddvit.nn;

/**
 * A linear layer whose inference can run on any block of rows on the calling thread, with the bits
 * its forward gives those rows: what the row-blocked paths of a block ({@link FusedMlp},
 * {@link NormResidualAttention}) call for each of their projections. Dense {@link Linear} layers on
 * prepacked weights are such layers, and so are deployed shift-only Mult/Shift layers.
 */
public interface RowLinear extends Layer {
    int in();

    int out();

    /** Whether {@link #forwardRows} is available now (e.g. prepacked weights, a deployed shift-only layer). */
    boolean forwardsRows();

    /**
     * Inference on rows [0, m) of a product of {@code wholeRows} rows: y[yOff + r·out] for x[xOff + r·in],
     * on the calling thread.
     */
    void forwardRows(int wholeRows, int m, float[] x, int xOff, float[] y, int yOff);
}
