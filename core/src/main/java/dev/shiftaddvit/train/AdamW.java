package dev.shiftaddvit.train;

import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** AdamW with decoupled weight decay, applied only to parameters marked for decay. */
public final class AdamW {
    private final List<Parameter> params;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final Map<String, float[]> m = new LinkedHashMap<>();
    private final Map<String, float[]> v = new LinkedHashMap<>();
    private long step;

    public AdamW(List<Parameter> params, float beta1, float beta2, float eps, float weightDecay) {
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        for (Parameter p : params) {
            m.put(p.name(), new float[p.value().size()]);
            v.put(p.name(), new float[p.value().size()]);
        }
    }

    public long step() {
        return step;
    }

    public void step(float lr) {
        step++;
        double bc1 = 1.0 - Math.pow(beta1, step);
        double bc2 = 1.0 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bc1);
        float rbc2 = (float) (1.0 / Math.sqrt(bc2));
        for (Parameter p : params) {
            float[] w = p.value().data();
            float[] g = p.grad().data();
            float[] mm = m.get(p.name());
            float[] vv = v.get(p.name());
            float decay = p.decay() ? 1f - lr * weightDecay : 1f;
            for (int i = 0; i < w.length; i++) {
                float gi = g[i];
                float mi = beta1 * mm[i] + (1f - beta1) * gi;
                float vi = beta2 * vv[i] + (1f - beta2) * gi * gi;
                mm[i] = mi;
                vv[i] = vi;
                w[i] = w[i] * decay - stepSize * mi / ((float) Math.sqrt(vi) * rbc2 + eps);
            }
            p.changed();
        }
    }

    /** Optimizer moments as tensors named "optim.m.&lt;param&gt;" / "optim.v.&lt;param&gt;" for checkpoints. */
    public Map<String, Tensor> state() {
        Map<String, Tensor> s = new LinkedHashMap<>();
        for (Parameter p : params) {
            s.put("optim.m." + p.name(), Tensor.of(m.get(p.name()), p.value().shape()));
            s.put("optim.v." + p.name(), Tensor.of(v.get(p.name()), p.value().shape()));
        }
        return s;
    }

    public void restore(long stepCount, Map<String, Tensor> state, String source) {
        for (Parameter p : params) {
            for (String kind : new String[]{"m", "v"}) {
                Tensor t = state.get("optim." + kind + "." + p.name());
                if (t == null) {
                    throw new IllegalStateException(source + ": checkpoint lacks optimizer state optim." + kind + "." + p.name());
                }
                t.requireShape(source + ": optim." + kind + "." + p.name(), p.value().shape());
                float[] dst = kind.equals("m") ? m.get(p.name()) : v.get(p.name());
                System.arraycopy(t.data(), 0, dst, 0, dst.length);
            }
        }
        this.step = stepCount;
    }
}
