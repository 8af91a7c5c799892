package dev.shiftaddvit.model;

/**
 * The fields every config family has, set by name; a family's builder adds its own and builds
 * through the record's canonical constructor, which validates. A field left unset is refused by
 * name instead of becoming 0 or false.
 *
 * @param <B> the family's builder, returned by every setter so calls chain
 */
public abstract class ConfigBuilder<B extends ConfigBuilder<B>> {
    protected String name;
    protected Integer imgSize;
    protected Integer inChans;
    protected Integer numClasses;
    protected Boolean qkvBias;
    protected float[] mean;
    protected float[] std;

    protected ConfigBuilder(String name) {
        this.name = name;
    }

    @SuppressWarnings("unchecked")
    protected final B self() {
        return (B) this;
    }

    public B name(String v) { name = v; return self(); }
    public B imgSize(int v) { imgSize = v; return self(); }
    public B inChans(int v) { inChans = v; return self(); }
    public B numClasses(int v) { numClasses = v; return self(); }
    public B qkvBias(boolean v) { qkvBias = v; return self(); }
    /** Per-channel pixel mean (pixels in [0, 1]). */
    public B mean(float... v) { mean = v; return self(); }
    /** Per-channel pixel standard deviation. */
    public B std(float... v) { std = v; return self(); }

    /** The config, validated by its record's canonical constructor. */
    public abstract ModelConfig build();

    /** The value of a field, or a ConfigException naming it when it was never set. */
    protected <T> T need(T value, String field) {
        if (value == null) {
            String builder = getClass().getEnclosingClass().getSimpleName() + "." + getClass().getSimpleName();
            throw new ConfigException(name + ": " + builder + " left " + field + " unset");
        }
        return value;
    }
}
