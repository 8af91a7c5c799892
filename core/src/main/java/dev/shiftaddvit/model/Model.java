package dev.shiftaddvit.model;

import dev.shiftaddvit.nn.Layer;
import dev.shiftaddvit.nn.Parameter;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An image classifier: forward takes normalised NHWC images [B, H, W, C] and returns logits
 * [B, classes]; backward(dLogits) accumulates every parameter gradient and returns null, since no
 * caller needs the gradient of the images.
 */
public interface Model extends Layer {
    ModelConfig config();

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
}
