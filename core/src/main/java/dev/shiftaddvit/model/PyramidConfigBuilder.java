package dev.shiftaddvit.model;

/** The per-stage fields the two PVT families share: one entry per stage in each list. */
public abstract class PyramidConfigBuilder<B extends PyramidConfigBuilder<B>> extends ConfigBuilder<B> {
    protected int[] embedDims;
    protected int[] heads;
    protected int[] mlpRatios;
    protected int[] srRatios;
    protected int[] depths;

    protected PyramidConfigBuilder(String name) {
        super(name);
    }

    public B embedDims(int... v) { embedDims = v; return self(); }
    public B heads(int... v) { heads = v; return self(); }
    public B mlpRatios(int... v) { mlpRatios = v; return self(); }
    /** Spatial-reduction ratio of each stage's attention (1: every token is a key). */
    public B srRatios(int... v) { srRatios = v; return self(); }
    public B depths(int... v) { depths = v; return self(); }
}
