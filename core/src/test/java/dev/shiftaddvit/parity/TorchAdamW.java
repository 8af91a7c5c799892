package dev.shiftaddvit.parity;

import ai.djl.ndarray.NDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The same AdamW update as dev.shiftaddvit.train.AdamW (bias-corrected moments, decoupled decay on
 * parameters marked for decay), as in-place libtorch operations on the reference's parameters.
 * Call it outside a GradientCollector (DJL then runs with gradient recording off, as torch.no_grad).
 */
public final class TorchAdamW {
    private final TorchParams params;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private long step;

    public TorchAdamW(TorchParams params, float beta1, float beta2, float eps, float weightDecay) {
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        for (Map.Entry<String, NDArray> e : params.all().entrySet()) {
            NDArray w = e.getValue();
            m.put(e.getKey(), w.getManager().zeros(w.getShape()));
            v.put(e.getKey(), w.getManager().zeros(w.getShape()));
        }
    }

    /** One update from the accumulated gradients, which it then sets to zero. */
    public void step(float lr) {
        step++;
        double bc1 = 1.0 - Math.pow(beta1, step);
        double bc2 = 1.0 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bc1);
        float rbc2 = (float) (1.0 / Math.sqrt(bc2));
        for (Map.Entry<String, NDArray> e : params.all().entrySet()) {
            String name = e.getKey();
            NDArray w = e.getValue();
            NDArray mm = m.get(name);
            NDArray vv = v.get(name);
            try (NDArray g = w.getGradient();
                 NDArray g1 = g.mul(1f - beta1);
                 NDArray g2 = g.square()) {
                mm.muli(beta1).addi(g1);
                vv.muli(beta2).addi(g2.muli(1f - beta2));
                if (params.decay(name)) w.muli(1f - lr * weightDecay);
                try (NDArray denom = vv.sqrt();
                     NDArray upd = mm.div(denom.muli(rbc2).addi(eps))) {
                    w.subi(upd.muli(stepSize));
                }
                g.muli(0f);
            }
        }
    }
}
