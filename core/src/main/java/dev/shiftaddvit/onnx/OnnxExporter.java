package dev.shiftaddvit.onnx;

import dev.shiftaddvit.io.AtomicFiles;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.PvtV1Config;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.VitConfig;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Exports a dense ViT/DeiT, PVTv2 or PVTv1 as an ONNX opset-17 graph of standard operators. The graph takes
 * NCHW images [N, C, H, W] (normalised, as PyTorch and ONNX Runtime users feed them; our engine is
 * NHWC inside) with a dynamic batch N and returns logits [N, classes]. Linear weights are stored
 * transposed ([in, out], named "*.weight_t") for MatMul on token tensors [N, tokens, dim]; every
 * other initializer keeps the model's parameter name and PyTorch layout. GELU is the exact erf form.
 */
public final class OnnxExporter {
    public static final int OPSET = 17;
    public static final String INPUT = "images";
    public static final String OUTPUT = "logits";
    private static final String BATCH = "N";
    /** Per-head layouts: [N, T, H, hd] → [N, H, T, hd] for queries and values, [N, H, hd, T] for keys. */
    private static final long[] HEAD_MAJOR = {0, 2, 1, 3};
    private static final long[] HEAD_MAJOR_T = {0, 2, 3, 1};

    private final OnnxGraph g;
    /** Parameters not exported yet; anything left at the end is a structure the exporter does not know. */
    private final Map<String, Parameter> pending;

    private OnnxExporter(Model model) {
        this.g = new OnnxGraph(model.config().name(), OPSET);
        this.pending = new LinkedHashMap<>(model.namedParameters());
    }

    /** The ONNX ModelProto of a dense model; refuses ShiftAddViT-converted models. */
    public static Protobuf export(Model model) {
        if (!model.shiftAdd().isDense()) {
            throw new IllegalArgumentException(model.config().name() + " is a ShiftAddViT-converted model (stage "
                    + model.shiftAdd().stage() + "): its add-attention and shift/MoE layers have no standard ONNX "
                    + "operators, so only dense models can be exported");
        }
        OnnxExporter e = new OnnxExporter(model);
        switch (model.config()) {
            case VitConfig c -> e.vit(c);
            case PvtV2Config c -> e.pvtV2(c);
            case PvtV1Config c -> e.pvtV1(c);
        }
        if (!e.pending.isEmpty()) {
            throw new IllegalStateException(model.config().name() + ": parameters the exporter does not map: "
                    + String.join(", ", e.pending.keySet()));
        }
        return e.g.model("shiftaddvit-java", "0.1.0");
    }

    /** Writes the exported model to a file atomically (temporary file, then rename). */
    public static void write(Model model, Path out) throws IOException {
        Protobuf proto = export(model);
        AtomicFiles.write(out, ch -> {
            OutputStream os = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
            proto.writeTo(os);
            os.flush();
        });
    }

    private void vit(VitConfig c) {
        int d = c.embedDim();
        String x = g.input(INPUT, BATCH, c.inChans(), c.imgSize(), c.imgSize());
        g.scope("patch_embed");
        x = mapToTokens(conv(x, "patch_embed.proj", c.patchSize(), c.patchSize(), 0, 1), d);
        if (c.classToken()) {
            g.scope("cls_token");
            x = prependClassToken(x, d);
        }
        g.scope("pos_embed");
        x = g.node("Add", List.of(x, param("pos_embed", 1, c.tokens(), d)));
        for (int i = 0; i < c.depth(); i++) {
            String p = "blocks." + i;
            g.scope(p + ".attn");
            String h = layerNorm(x, p + ".norm1", d, c.eps());
            String qkv = g.node("Reshape", List.of(linear(h, p + ".attn.qkv", d, 3 * d),
                    g.int64s(0, 0, 3, c.heads(), d / c.heads())));
            String a = attention(part(qkv, 0, HEAD_MAJOR), part(qkv, 1, HEAD_MAJOR_T), part(qkv, 2, HEAD_MAJOR),
                    d, c.heads());
            x = g.node("Add", List.of(x, linear(a, p + ".attn.proj", d, d)));
            g.scope(p + ".mlp");
            x = g.node("Add", List.of(x, mlp(layerNorm(x, p + ".norm2", d, c.eps()), p + ".mlp", d, c.mlpHidden(), 0)));
        }
        g.scope("head");
        x = layerNorm(x, "norm", d, c.eps());
        String pooled = c.classToken()
                ? g.node("Gather", List.of(x, g.int64Scalar(0)), OnnxGraph.intAttr("axis", 1))
                : meanTokens(x);
        head(pooled, d, c.numClasses());
    }

    private void pvtV2(PvtV2Config c) {
        String x = g.input(INPUT, BATCH, c.inChans(), c.imgSize(), c.imgSize());
        int prev = c.inChans();
        String tokens = null;
        for (int s = 0; s < c.stages(); s++) {
            int d = c.embedDims()[s];
            int grid = c.grid(s);
            String embed = s == 0 ? "patch_embed" : "stages." + s + ".downsample";
            g.scope(embed);
            if (s > 0) x = tokensToMap(tokens, prev, c.grid(s - 1));
            String map = s == 0
                    ? conv(x, embed + ".proj", c.stemKernel(), c.stemStride(), c.stemKernel() / 2, 1)
                    : conv(x, embed + ".proj", 3, 2, 1, 1);
            tokens = layerNorm(mapToTokens(map, d), embed + ".norm", d, 1e-5f);
            for (int j = 0; j < c.depths()[s]; j++) {
                String p = "stages." + s + ".blocks." + j;
                g.scope(p + ".attn");
                String h = layerNorm(tokens, p + ".norm1", d, 1e-6f);
                tokens = g.node("Add", List.of(tokens, spatialReductionAttention(h, p + ".attn", d, c.heads()[s],
                        grid, c.srRatios()[s])));
                g.scope(p + ".mlp");
                String m = mlp(layerNorm(tokens, p + ".norm2", d, 1e-6f), p + ".mlp", d, d * c.mlpRatios()[s], grid);
                tokens = g.node("Add", List.of(tokens, m));
            }
            g.scope("stages." + s + ".norm");
            tokens = layerNorm(tokens, "stages." + s + ".norm", d, 1e-6f);
            prev = d;
        }
        g.scope("head");
        head(meanTokens(tokens), prev, c.numClasses());
    }

    private void pvtV1(PvtV1Config c) {
        String x = g.input(INPUT, BATCH, c.inChans(), c.imgSize(), c.imgSize());
        int prev = c.inChans();
        String tokens = null;
        for (int s = 0; s < c.stages(); s++) {
            int d = c.embedDims()[s];
            int grid = c.grid(s);
            int k = s == 0 ? c.patchSize() : 2;
            String embed = "patch_embed" + (s + 1);
            g.scope(embed);
            if (s > 0) x = tokensToMap(tokens, prev, c.grid(s - 1));
            tokens = layerNorm(mapToTokens(conv(x, embed + ".proj", k, k, 0, 1), d), embed + ".norm", d, 1e-5f);
            if (s == c.stages() - 1) {
                g.scope("cls_token");
                tokens = prependClassToken(tokens, d);
            }
            g.scope("pos_embed" + (s + 1));
            tokens = g.node("Add", List.of(tokens, param("pos_embed" + (s + 1), 1, c.tokens(s), d)));
            for (int j = 0; j < c.depths()[s]; j++) {
                String p = "block" + (s + 1) + "." + j;
                g.scope(p + ".attn");
                String h = layerNorm(tokens, p + ".norm1", d, 1e-6f);
                tokens = g.node("Add", List.of(tokens, spatialReductionAttention(h, p + ".attn", d, c.heads()[s],
                        grid, c.srRatios()[s])));
                g.scope(p + ".mlp");
                String m = mlp(layerNorm(tokens, p + ".norm2", d, 1e-6f), p + ".mlp", d, d * c.mlpRatios()[s], 0);
                tokens = g.node("Add", List.of(tokens, m));
            }
            prev = d;
        }
        g.scope("head");
        tokens = layerNorm(tokens, "norm", prev, 1e-6f);
        head(g.node("Gather", List.of(tokens, g.int64Scalar(0)), OnnxGraph.intAttr("axis", 1)), prev, c.numClasses());
    }

    /** [N, T, D] → [N, 1 + T, D] with the [1, 1, D] cls_token expanded to the batch, known only at run time. */
    private String prependClassToken(String x, int d) {
        String n = g.node("Shape", List.of(x), OnnxGraph.intAttr("start", 0), OnnxGraph.intAttr("end", 1));
        String shape = g.node("Concat", List.of(n, g.int64s(1, d)), OnnxGraph.intAttr("axis", 0));
        String cls = g.node("Expand", List.of(param("cls_token", 1, 1, d), shape));
        return g.node("Concat", List.of(cls, x), OnnxGraph.intAttr("axis", 1));
    }

    /** Queries from every token; keys and values from the grid reduced by a stride-sr conv + LayerNorm. */
    private String spatialReductionAttention(String x, String name, int d, int heads, int grid, int sr) {
        String q = g.node("Reshape", List.of(linear(x, name + ".q", d, d), g.int64s(0, 0, heads, d / heads)));
        q = g.node("Transpose", List.of(q), OnnxGraph.intsAttr("perm", HEAD_MAJOR));
        String xs = x;
        if (sr > 1) {
            String r = conv(tokensToMap(x, d, grid), name + ".sr", sr, sr, 0, 1);
            xs = layerNorm(mapToTokens(r, d), name + ".norm", d, 1e-5f);
        }
        String kv = g.node("Reshape", List.of(linear(xs, name + ".kv", d, 2 * d), g.int64s(0, 0, 2, heads, d / heads)));
        String a = attention(q, part(kv, 0, HEAD_MAJOR_T), part(kv, 1, HEAD_MAJOR), d, heads);
        return linear(a, name + ".proj", d, d);
    }

    /** Softmax attention of q, v [N, H, T, hd] and kT [N, H, hd, M]; returns [N, T, H·hd] before the projection. */
    private String attention(String q, String kT, String v, int d, int heads) {
        // Scaling q (N·hd values) rather than the scores (N·M values) is the cheaper equal form.
        q = g.node("Mul", List.of(q, g.floatScalar((float) (1.0 / Math.sqrt((double) d / heads)))));
        String p = g.node("Softmax", List.of(g.node("MatMul", List.of(q, kT))), OnnxGraph.intAttr("axis", -1));
        String o = g.node("Transpose", List.of(g.node("MatMul", List.of(p, v))), OnnxGraph.intsAttr("perm", HEAD_MAJOR));
        return g.node("Reshape", List.of(o, g.int64s(0, 0, d)));
    }

    /** Part index of a fused projection [N, T, parts, H, hd], transposed by perm to a per-head layout. */
    private String part(String x5, int index, long[] perm) {
        String x = g.node("Gather", List.of(x5, g.int64Scalar(index)), OnnxGraph.intAttr("axis", 2));
        return g.node("Transpose", List.of(x), OnnxGraph.intsAttr("perm", perm));
    }

    /** fc1 → (3×3 depthwise conv on the grid when grid > 0) → GELU → fc2. */
    private String mlp(String x, String name, int d, int hidden, int grid) {
        String h = linear(x, name + ".fc1", d, hidden);
        if (grid > 0) h = mapToTokens(conv(tokensToMap(h, hidden, grid), name + ".dwconv", 3, 1, 1, hidden), hidden);
        return linear(gelu(h), name + ".fc2", hidden, d);
    }

    /** 0.5·x·(1 + erf(x/√2)): opset 17 has no Gelu operator. */
    private String gelu(String x) {
        String e = g.node("Erf", List.of(g.node("Div", List.of(x, g.floatScalar((float) Math.sqrt(2))))));
        String y = g.node("Mul", List.of(x, g.node("Add", List.of(e, g.floatScalar(1f)))));
        return g.node("Mul", List.of(y, g.floatScalar(0.5f)));
    }

    private String linear(String x, String name, int in, int out) {
        float[] w = take(name + ".weight", out, in);
        float[] wt = new float[in * out];
        for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) wt[i * out + o] = w[o * in + i];
        String y = g.node("MatMul", List.of(x, g.initializer(name + ".weight_t", wt, in, out)));
        return pending.containsKey(name + ".bias") ? g.node("Add", List.of(y, param(name + ".bias", out))) : y;
    }

    private String layerNorm(String x, String name, int d, float eps) {
        return g.node("LayerNormalization", List.of(x, param(name + ".weight", d), param(name + ".bias", d)),
                OnnxGraph.intAttr("axis", -1), OnnxGraph.floatAttr("epsilon", eps));
    }

    /** A conv with symmetric padding; groups = channels makes it depthwise. */
    private String conv(String x, String name, int kernel, int stride, int pad, int groups) {
        Parameter w = pending.get(name + ".weight");
        if (w == null) throw new IllegalStateException("missing parameter " + name + ".weight");
        int[] s = w.value().shape();
        String weight = param(name + ".weight", s[0], s[1], kernel, kernel);
        return g.node("Conv", List.of(x, weight, param(name + ".bias", s[0])),
                OnnxGraph.intsAttr("kernel_shape", kernel, kernel), OnnxGraph.intsAttr("strides", stride, stride),
                OnnxGraph.intsAttr("pads", pad, pad, pad, pad), OnnxGraph.intAttr("group", groups));
    }

    /** [N, D, h, w] → [N, h·w, D], tokens in row-major grid order as the engine's NHWC reshape. */
    private String mapToTokens(String map, int d) {
        String flat = g.node("Reshape", List.of(map, g.int64s(0, d, -1)));
        return g.node("Transpose", List.of(flat), OnnxGraph.intsAttr("perm", 0, 2, 1));
    }

    /** [N, g·g, D] → [N, D, g, g]. */
    private String tokensToMap(String tokens, int d, int grid) {
        String t = g.node("Transpose", List.of(tokens), OnnxGraph.intsAttr("perm", 0, 2, 1));
        return g.node("Reshape", List.of(t, g.int64s(0, d, grid, grid)));
    }

    private String meanTokens(String x) {
        return g.node("ReduceMean", List.of(x), OnnxGraph.intsAttr("axes", 1), OnnxGraph.intAttr("keepdims", 0));
    }

    /** Gemm with transB keeps the head weight in PyTorch's [classes, D] layout. */
    private void head(String pooled, int d, int classes) {
        g.node(OUTPUT, "Gemm", List.of(pooled, param("head.weight", classes, d), param("head.bias", classes)),
                OnnxGraph.intAttr("transB", 1));
        g.output(OUTPUT, BATCH, classes);
    }

    private String param(String name, long... dims) {
        return g.initializer(name, take(name, dims), dims);
    }

    /** Removes a parameter from the pending set, checking its element count against the expected shape. */
    private float[] take(String name, long... dims) {
        Parameter p = pending.remove(name);
        if (p == null) throw new IllegalStateException("missing parameter " + name);
        Tensor t = p.value();
        long n = 1;
        for (long d : dims) n *= d;
        if (t.size() != n) {
            throw new IllegalStateException(name + ": shape " + Arrays.toString(t.shape())
                    + " but the exporter expects " + Arrays.toString(dims));
        }
        return t.data();
    }
}
