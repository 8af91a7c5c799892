package dev.shiftaddvit.model.convert;

import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.PvtV1Config;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.VitConfig;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parameter namings a checkpoint may use, each as a map from our (timm) parameter names to the
 * foreign tensors that make them. Several sources are concatenated along dimension 0: Hugging Face
 * keeps query/key/value (and PVT's key/value) as separate Linears where we fuse them, rows in q, k, v
 * order as timm does.
 */
public enum Naming {
    /** timm: our own names (PVTv1, which timm lacks, uses the official names). */
    TIMM,
    /** Hugging Face transformers: ViT ({@code vit.}) and PVTv2 ({@code pvt_v2.}). */
    HF,
    /** torchvision.models.VisionTransformer. */
    TORCHVISION,
    /**
     * The original whai362/PVT release: PVTv2 ({@code patch_embed1}, {@code block1.0}, {@code norm1}) and
     * PVTv1, whose names are ours.
     */
    PVT;

    private record Rule(Pattern pattern, Function<MatchResult, List<String>> sources) {
    }

    private static Rule rule(String regex, Function<MatchResult, List<String>> sources) {
        return new Rule(Pattern.compile(regex), sources);
    }

    private static Rule one(String regex, Function<MatchResult, String> source) {
        return rule(regex, m -> List.of(source.apply(m)));
    }

    private static final List<Rule> HF_VIT = List.of(
            one("patch_embed\\.proj\\.(\\w+)", m -> "vit.embeddings.patch_embeddings.projection." + m.group(1)),
            one("cls_token", m -> "vit.embeddings.cls_token"),
            one("pos_embed", m -> "vit.embeddings.position_embeddings"),
            one("blocks\\.(\\d+)\\.norm1\\.(\\w+)", m -> layer(m) + "layernorm_before." + m.group(2)),
            rule("blocks\\.(\\d+)\\.attn\\.qkv\\.(\\w+)", m -> List.of(
                    layer(m) + "attention.attention.query." + m.group(2),
                    layer(m) + "attention.attention.key." + m.group(2),
                    layer(m) + "attention.attention.value." + m.group(2))),
            one("blocks\\.(\\d+)\\.attn\\.proj\\.(\\w+)", m -> layer(m) + "attention.output.dense." + m.group(2)),
            one("blocks\\.(\\d+)\\.norm2\\.(\\w+)", m -> layer(m) + "layernorm_after." + m.group(2)),
            one("blocks\\.(\\d+)\\.mlp\\.fc1\\.(\\w+)", m -> layer(m) + "intermediate.dense." + m.group(2)),
            one("blocks\\.(\\d+)\\.mlp\\.fc2\\.(\\w+)", m -> layer(m) + "output.dense." + m.group(2)),
            one("norm\\.(\\w+)", m -> "vit.layernorm." + m.group(1)),
            one("head\\.(\\w+)", m -> "classifier." + m.group(1)));

    private static final List<Rule> TORCHVISION_VIT = List.of(
            one("patch_embed\\.proj\\.(\\w+)", m -> "conv_proj." + m.group(1)),
            one("cls_token", m -> "class_token"),
            one("pos_embed", m -> "encoder.pos_embedding"),
            one("blocks\\.(\\d+)\\.norm1\\.(\\w+)", m -> tvLayer(m) + "ln_1." + m.group(2)),
            one("blocks\\.(\\d+)\\.attn\\.qkv\\.(\\w+)", m -> tvLayer(m) + "self_attention.in_proj_" + m.group(2)),
            one("blocks\\.(\\d+)\\.attn\\.proj\\.(\\w+)", m -> tvLayer(m) + "self_attention.out_proj." + m.group(2)),
            one("blocks\\.(\\d+)\\.norm2\\.(\\w+)", m -> tvLayer(m) + "ln_2." + m.group(2)),
            one("blocks\\.(\\d+)\\.mlp\\.fc1\\.(\\w+)", m -> tvLayer(m) + "mlp.0." + m.group(2)),
            one("blocks\\.(\\d+)\\.mlp\\.fc2\\.(\\w+)", m -> tvLayer(m) + "mlp.3." + m.group(2)),
            one("norm\\.(\\w+)", m -> "encoder.ln." + m.group(1)),
            one("head\\.(\\w+)", m -> "heads.head." + m.group(1)));

    private static final List<Rule> PVT_OFFICIAL = List.of(
            one("patch_embed\\.(.+)", m -> "patch_embed1." + m.group(1)),
            one("stages\\.(\\d+)\\.downsample\\.(.+)", m -> "patch_embed" + plus1(m, 1) + "." + m.group(2)),
            one("stages\\.(\\d+)\\.blocks\\.(\\d+)\\.mlp\\.dwconv\\.(\\w+)",
                    m -> "block" + plus1(m, 1) + "." + m.group(2) + ".mlp.dwconv.dwconv." + m.group(3)),
            one("stages\\.(\\d+)\\.blocks\\.(\\d+)\\.(.+)", m -> "block" + plus1(m, 1) + "." + m.group(2) + "." + m.group(3)),
            one("stages\\.(\\d+)\\.norm\\.(\\w+)", m -> "norm" + plus1(m, 1) + "." + m.group(2)),
            one("head\\.(\\w+)", m -> "head." + m.group(1)));

    private static final String HF_PVT_LAYERS = "pvt_v2.encoder.layers.";
    private static final List<Rule> HF_PVT = List.of(
            one("patch_embed\\.proj\\.(\\w+)", m -> HF_PVT_LAYERS + "0.patch_embedding.proj." + m.group(1)),
            one("patch_embed\\.norm\\.(\\w+)", m -> HF_PVT_LAYERS + "0.patch_embedding.layer_norm." + m.group(1)),
            one("stages\\.(\\d+)\\.downsample\\.proj\\.(\\w+)",
                    m -> HF_PVT_LAYERS + m.group(1) + ".patch_embedding.proj." + m.group(2)),
            one("stages\\.(\\d+)\\.downsample\\.norm\\.(\\w+)",
                    m -> HF_PVT_LAYERS + m.group(1) + ".patch_embedding.layer_norm." + m.group(2)),
            one("stages\\.(\\d+)\\.blocks\\.(\\d+)\\.norm1\\.(\\w+)", m -> hfBlock(m) + "layer_norm_1." + m.group(3)),
            one("stages\\.(\\d+)\\.blocks\\.(\\d+)\\.norm2\\.(\\w+)", m -> hfBlock(m) + "layer_norm_2." + m.group(3)),
            one("stages\\.(\\d+)\\.blocks\\.(\\d+)\\.attn\\.q\\.(\\w+)", m -> hfBlock(m) + "attention.query." + m.group(3)),
            rule("stages\\.(\\d+)\\.blocks\\.(\\d+)\\.attn\\.kv\\.(\\w+)", m -> List.of(
                    hfBlock(m) + "attention.key." + m.group(3), hfBlock(m) + "attention.value." + m.group(3))),
            one("stages\\.(\\d+)\\.blocks\\.(\\d+)\\.attn\\.sr\\.(\\w+)",
                    m -> hfBlock(m) + "attention.spatial_reduction." + m.group(3)),
            one("stages\\.(\\d+)\\.blocks\\.(\\d+)\\.attn\\.norm\\.(\\w+)", m -> hfBlock(m) + "attention.layer_norm." + m.group(3)),
            one("stages\\.(\\d+)\\.blocks\\.(\\d+)\\.attn\\.proj\\.(\\w+)", m -> hfBlock(m) + "attention.proj." + m.group(3)),
            one("stages\\.(\\d+)\\.blocks\\.(\\d+)\\.mlp\\.fc1\\.(\\w+)", m -> hfBlock(m) + "mlp.dense1." + m.group(3)),
            one("stages\\.(\\d+)\\.blocks\\.(\\d+)\\.mlp\\.dwconv\\.(\\w+)", m -> hfBlock(m) + "mlp.dwconv.dwconv." + m.group(3)),
            one("stages\\.(\\d+)\\.blocks\\.(\\d+)\\.mlp\\.fc2\\.(\\w+)", m -> hfBlock(m) + "mlp.dense2." + m.group(3)),
            one("stages\\.(\\d+)\\.norm\\.(\\w+)", m -> HF_PVT_LAYERS + m.group(1) + ".layer_norm." + m.group(2)),
            one("head\\.(\\w+)", m -> "classifier." + m.group(1)));

    private static String layer(MatchResult m) {
        return "vit.encoder.layer." + m.group(1) + ".";
    }

    private static String tvLayer(MatchResult m) {
        return "encoder.layers.encoder_layer_" + m.group(1) + ".";
    }

    private static String hfBlock(MatchResult m) {
        return HF_PVT_LAYERS + m.group(1) + ".blocks." + m.group(2) + ".";
    }

    private static int plus1(MatchResult m, int group) {
        return Integer.parseInt(m.group(group)) + 1;
    }

    /** The naming named on a command line (timm, hf, torchvision, pvt). */
    public static Naming parse(String s) {
        for (Naming n : values()) if (n.name().equalsIgnoreCase(s)) return n;
        throw new IllegalArgumentException("unknown naming \"" + s + "\"; known: timm, hf, torchvision, pvt");
    }

    /** Guesses the naming from marker keys; timm when none matches. */
    public static Naming detect(Set<String> keys) {
        for (String k : keys) {
            if (k.startsWith("vit.") || k.startsWith("deit.") || k.startsWith("pvt_v2.")) return HF;
            if (k.equals("conv_proj.weight") || k.equals("class_token")) return TORCHVISION;
            if (k.startsWith("patch_embed1.")) return PVT;
        }
        return TIMM;
    }

    /**
     * The foreign tensors that make our parameter {@code ours} of a model with config {@code cfg}, in
     * concatenation order; empty when this naming has no counterpart.
     */
    List<String> sources(String ours, ModelConfig cfg) {
        List<Rule> rules = switch (this) {
            case TIMM -> null;
            case HF -> switch (cfg) {
                case VitConfig _ -> HF_VIT;
                case PvtV2Config _ -> HF_PVT;
                case PvtV1Config _ -> List.of();
            };
            case TORCHVISION -> cfg instanceof VitConfig ? TORCHVISION_VIT : List.of();
            case PVT -> switch (cfg) {
                case PvtV2Config _ -> PVT_OFFICIAL;
                case PvtV1Config _ -> null;
                case VitConfig _ -> List.of();
            };
        };
        if (rules == null) return List.of(ours);
        for (Rule r : rules) {
            Matcher m = r.pattern().matcher(ours);
            if (m.matches()) return r.sources().apply(m.toMatchResult());
        }
        return List.of();
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
