package dev.shiftaddvit.parity;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.shiftaddvit.nn.Parameter;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** libtorch copies of our parameters, by their checkpoint names, as leaves that collect gradients. */
public final class TorchParams {
    private final Map<String, NDArray> values = new LinkedHashMap<>();
    private final Map<String, Boolean> decay = new LinkedHashMap<>();

    private TorchParams() {
    }

    /** Copies every parameter's current value into manager (with requires-gradient set). */
    public static TorchParams copyOf(NDManager manager, Collection<Parameter> params) {
        TorchParams p = new TorchParams();
        for (Parameter q : params) {
            if (p.values.containsKey(q.name())) throw new IllegalArgumentException("duplicate parameter " + q.name());
            NDArray a = manager.create(q.value().data().clone(), shape(q.value().shape()));
            a.setName(q.name());
            a.setRequiresGradient(true);
            p.values.put(q.name(), a);
            p.decay.put(q.name(), q.decay());
        }
        return p;
    }

    public static Shape shape(int[] dims) {
        long[] s = new long[dims.length];
        for (int i = 0; i < dims.length; i++) s[i] = dims[i];
        return new Shape(s);
    }

    public NDArray get(String name) {
        NDArray a = values.get(name);
        if (a == null) throw new IllegalArgumentException("no parameter named " + name + "; have " + values.keySet());
        return a;
    }

    /** The parameter, or null when the layer has none under that name (optional biases). */
    public NDArray optional(String name) {
        return values.get(name);
    }

    public boolean decay(String name) {
        return decay.get(name);
    }

    public Map<String, NDArray> all() {
        return values;
    }
}
