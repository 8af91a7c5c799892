package dev.shiftaddvit.cost;

import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.profile.OpCount;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Measures a model's cost: one inference forward under the {@link Profiler}, each layer's recorded
 * operations summed per name and divided by the batch, and each parameter's bytes attached to its layer.
 * Measured rather than analytical, so MoE counts follow the actual routing and MatAdd counts the actual
 * codes of these images.
 */
public final class CostAnalyzer {
    private static final String SHIFT_P = ".experts.1.shift";
    private static final String SHIFT_S = ".experts.1.sign";

    private CostAnalyzer() {
    }

    /**
     * Runs model.forward(images, false) with the profiler on; images are NHWC [B, H, W, C].
     *
     * @param model  the model to measure, as it stands (its routers route, its codes are those of the images)
     * @param images at least one image, NHWC [B, H, W, C], normalised as the model's input
     * @return per-image operation counts and the weight bytes of every layer
     * @throws IllegalArgumentException when {@code images} is not a rank-4 batch of at least one image
     */
    public static CostReport analyze(Model model, Tensor images) {
        if (images.rank() != 4 || images.dim(0) < 1) {
            throw new IllegalArgumentException("cost analysis needs a batch of images [B, H, W, C], got " + images);
        }
        List<Profiler.Entry> entries = Profiler.during(() -> model.forward(images, false));
        return report(model.config().name(), images.dim(0), entries, model.namedParameters(), model.buffers());
    }

    /**
     * Builds the report from forward entries of a batch of the given size, the model's parameters and its
     * non-trainable state (KSH hashes: weight bytes, fp32 in both columns, but not parameters).
     */
    static CostReport report(String model, int images, List<Profiler.Entry> entries, Map<String, Parameter> params,
                             Map<String, Tensor> buffers) {
        Map<String, Acc> layers = new LinkedHashMap<>();
        for (Profiler.Entry e : entries) {
            if (e.kind().endsWith("/bwd")) continue;
            layers.computeIfAbsent(e.name(), k -> new Acc(e.kind())).add(e);
        }
        for (Parameter p : params.values()) owner(layers, p.name()).addParameter(p);
        buffers.forEach((name, t) -> owner(layers, name).addBuffer(t.size()));
        List<CostReport.Row> rows = new ArrayList<>();
        layers.forEach((name, a) -> rows.add(a.row(name, images)));
        return new CostReport(model, images, rows);
    }

    /**
     * The layer a parameter belongs to: the one named by the parameter without its last segment, else the
     * longest recorded layer name it starts with (add-attention's conv taps), except that the experts of a
     * MoE layer that got no tokens (so recorded nothing) get a row of their own, kind "idle"; a parameter of
     * no recorded layer (a ViT's position embedding) gets a row of kind "Parameter".
     */
    private static Acc owner(Map<String, Acc> layers, String param) {
        int dot = param.lastIndexOf('.');
        String own = dot < 0 ? param : param.substring(0, dot);
        Acc exact = layers.get(own);
        if (exact != null) return exact;
        String best = null;
        for (String l : layers.keySet()) {
            if (param.startsWith(l + ".") && (best == null || l.length() > best.length())) best = l;
        }
        if (best != null && !layers.get(best).kind.equals(Profiler.MOE)) return layers.get(best);
        String kind = best != null ? "idle" : "Parameter";
        return layers.computeIfAbsent(own, k -> new Acc(kind));
    }

    /** Packed size: a Shift expert's P carries the 5-bit code of each (P, S) pair, S adds nothing. */
    static long packedBytes(String param, long values) {
        if (param.endsWith(SHIFT_P)) return (values * 5 + 7) / 8;
        if (param.endsWith(SHIFT_S)) return 0;
        return 4 * values;
    }

    private static final class Acc {
        final String kind;
        OpCount ops = OpCount.ZERO;
        long params;
        long fp32;
        long packed;
        long multTokens;
        long shiftTokens;
        boolean routed;

        Acc(String kind) {
            this.kind = kind;
        }

        void add(Profiler.Entry e) {
            ops = ops.plus(e.ops());
            if (e.routing() != null) {
                routed = true;
                multTokens += e.routing().multTokens();
                shiftTokens += e.routing().shiftTokens();
            }
        }

        void addParameter(Parameter p) {
            long n = p.value().size();
            params += n;
            fp32 += 4 * n;
            packed += packedBytes(p.name(), n);
        }

        void addBuffer(long n) {
            fp32 += 4 * n;
            packed += 4 * n;
        }

        CostReport.Row row(String name, int images) {
            double b = images;
            Profiler.Routing routing = routed ? new Profiler.Routing(multTokens, shiftTokens) : null;
            return new CostReport.Row(name, kind, ops.mults() / b, ops.adds() / b, ops.shifts() / b,
                    ops.bitOps() / b, params, fp32, packed, routing);
        }
    }
}
