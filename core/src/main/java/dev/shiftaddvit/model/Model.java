package dev.shiftaddvit.model;

import dev.shiftaddvit.nn.Block;
import dev.shiftaddvit.nn.Layer;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.shiftadd.AddAttention;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An image classifier: forward takes normalised NHWC images [B, H, W, C] and returns logits
 * [B, classes]; backward(dLogits) accumulates every parameter gradient and returns null, since no
 * caller needs the gradient of the images.
 */
public interface Model extends Layer {
    ModelConfig config();

    /**
     * The transformer blocks in forward order, grouped as "which stages convert" selects them: one
     * group per stage in PVT, one block per group in ViT (which has one stage).
     */
    List<List<Block>> blockGroups();

    /** The transformer blocks in forward order (read-only). */
    default List<Block> blocks() {
        List<Block> all = new ArrayList<>();
        for (List<Block> g : blockGroups()) all.addAll(g);
        return Collections.unmodifiableList(all);
    }

    /** For each block of {@link #blocks()}, the index of its group in {@link #blockGroups()}. */
    default int[] attentionGroups() {
        List<List<Block>> groups = blockGroups();
        int[] g = new int[groups.stream().mapToInt(List::size).sum()];
        int i = 0;
        for (int s = 0; s < groups.size(); s++) for (int j = 0; j < groups.get(s).size(); j++) g[i++] = s;
        return g;
    }

    /** What has been reparameterised ({@link ShiftAddSpec#DENSE} for a dense model). */
    ShiftAddSpec shiftAdd();

    /** Records what {@link Reparam} changed, so checkpoints rebuild the same structure. */
    void setShiftAdd(ShiftAddSpec spec);

    /** Non-trainable state saved with the parameters: the KSH hash of every add-attention. */
    default Map<String, Tensor> buffers() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Block b : blocks()) if (b.attn() instanceof AddAttention a) m.putAll(a.buffers());
        return m;
    }

    /** Parameters by their checkpoint names, in registration order. */
    default Map<String, Parameter> namedParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : parameters()) m.put(p.name(), p);
        return m;
    }

    default long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) n += p.value().size();
        return n;
    }

    /**
     * Refuses images that are not [B, size, size, channels] of the config, naming the config, and a
     * batch whose forward the heap cannot hold.
     */
    static void requireImages(ModelConfig c, Tensor images) {
        int s = c.imgSize();
        if (images.rank() != 4 || images.dim(1) != s || images.dim(2) != s || images.dim(3) != c.inChans()) {
            throw new ShapeException(c.name() + ": expected images [B, " + s + ", " + s + ", " + c.inChans()
                    + "] but got " + images);
        }
        ForwardFootprint.require(c, images.dim(0), "images " + images);
    }
}
