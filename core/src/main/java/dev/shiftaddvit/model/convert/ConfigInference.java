package dev.shiftaddvit.model.convert;

import dev.shiftaddvit.model.ConfigException;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.PvtV1Config;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.VitConfig;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.Predicate;

/**
 * The config of a checkpoint that carries none (timm, torchvision, official PVT files): the shapes
 * give the family, widths, depths, patch or stem, MLP and sr ratios, classes and (with a position
 * embedding) the image size, but not the head count, since q/k/v weights look the same for any
 * split into heads. The named config of {@link Configs} with the same structure supplies the heads
 * and what else the shapes cannot show (stem stride, norm eps, mean/std; PVTv2's image size).
 * Tensors are looked up through the checkpoint's {@link Naming}, so every naming it maps works.
 */
final class ConfigInference {
    private ConfigInference() {
    }

    /** The checkpoint's tensors by our parameter names, for configs of one family. */
    private record Lookup(Map<String, Tensor> tensors, Naming naming, ModelConfig family) {
        /** The (first) tensor making our parameter, or null. */
        Tensor get(String ours) {
            List<String> sources = naming.sources(ours, family);
            return sources.isEmpty() ? null : tensors.get(sources.getFirst());
        }

        boolean has(String ours) {
            List<String> sources = naming.sources(ours, family);
            return !sources.isEmpty() && tensors.keySet().containsAll(sources);
        }

        /** How many of pattern(0), pattern(1), ... are present. */
        int count(IntFunction<String> pattern, int from) {
            int n = 0;
            while (has(pattern.apply(from + n))) n++;
            return n;
        }
    }

    static ModelConfig infer(Map<String, Tensor> tensors, Naming naming, String source) {
        String hint = "; name the architecture with --model NAME (" + String.join(", ", Configs.names())
                + ") or --model FILE.json (our model metadata)";
        Lookup v1 = new Lookup(tensors, naming, Configs.byName("pvt_v1_tiny"));
        if (v1.get("pos_embed1") != null && v1.get("patch_embed1.proj.weight") != null) return pvtV1(v1, source, hint);
        Lookup vit = new Lookup(tensors, naming, Configs.byName("deit_tiny"));
        if (vit.get("pos_embed") != null && vit.get("patch_embed.proj.weight") != null) return vit(vit, source, hint);
        Lookup v2 = new Lookup(tensors, naming, Configs.byName("pvt_v2_b0"));
        if (v2.get("stages.0.norm.weight") != null && v2.get("patch_embed.proj.weight") != null) {
            return pvtV2(v2, source, hint);
        }
        throw new ConfigException(source + ": no config.json beside the weights, and its tensors (" + naming
                + " naming) are not a ViT, PVTv2 or PVTv1 layout" + hint);
    }

    private static ModelConfig vit(Lookup l, String source, String hint) {
        Tensor patch = require(l, "patch_embed.proj.weight", 4, source);
        Tensor pos = require(l, "pos_embed", 3, source);
        int dim = patch.dim(0);
        int p = patch.dim(2);
        boolean cls = l.has("cls_token");
        int grid = PositionResize.grid(pos, cls ? 1 : 0);
        if (grid < 0) throw new ConfigException(source + ": pos_embed " + pos + " is not a square token grid" + hint);
        int depth = l.count(i -> "blocks." + i + ".norm1.weight", 0);
        int hidden = require(l, "blocks.0.mlp.fc1.weight", 2, source).dim(0);
        int classes = require(l, "head.weight", 2, source).dim(0);
        int chans = patch.dim(1);
        String shapes = "ViT: dim " + dim + ", depth " + depth + ", patch " + p + ", MLP " + hidden + ", "
                + (cls ? "class token" : "no class token") + ", " + chans + " channels";
        VitConfig m = unique(VitConfig.class, c -> c.embedDim() == dim && c.depth() == depth && c.patchSize() == p
                && c.mlpHidden() == hidden && c.classToken() == cls && c.inChans() == chans, shapes, source, hint);
        return m.toBuilder().imgSize(grid * p).patchSize(p).inChans(chans).numClasses(classes).embedDim(dim).depth(depth)
                .qkvBias(l.has("blocks.0.attn.qkv.bias")).classToken(cls).build();
    }

    private static ModelConfig pvtV2(Lookup l, String source, String hint) {
        int stages = l.count(s -> "stages." + s + ".norm.weight", 0);
        int[] dims = new int[stages];
        int[] depths = new int[stages];
        int[] mlp = new int[stages];
        int[] sr = new int[stages];
        for (int s = 0; s < stages; s++) {
            String st = "stages." + s;
            dims[s] = l.get(st + ".norm.weight").dim(0);
            depths[s] = l.count(j -> st + ".blocks." + j + ".norm1.weight", 0);
            mlp[s] = require(l, st + ".blocks.0.mlp.fc1.weight", 2, source).dim(0) / dims[s];
            Tensor r = l.get(st + ".blocks.0.attn.sr.weight");
            sr[s] = r == null ? 1 : r.dim(2);
        }
        Tensor stem = require(l, "patch_embed.proj.weight", 4, source);
        int chans = stem.dim(1);
        int classes = require(l, "head.weight", 2, source).dim(0);
        String shapes = "PVTv2: dims " + Arrays.toString(dims) + ", depths " + Arrays.toString(depths) + ", MLP ratios "
                + Arrays.toString(mlp) + ", sr ratios " + Arrays.toString(sr) + ", stem " + stem.dim(2) + "×"
                + stem.dim(3) + ", " + chans + " channels";
        PvtV2Config m = unique(PvtV2Config.class, c -> Arrays.equals(c.embedDims(), dims)
                && Arrays.equals(c.depths(), depths) && Arrays.equals(c.mlpRatios(), mlp)
                && Arrays.equals(c.srRatios(), sr) && c.stemKernel() == stem.dim(2) && c.inChans() == chans,
                shapes, source, hint);
        return m.toBuilder().inChans(chans).numClasses(classes).embedDims(dims).mlpRatios(mlp).srRatios(sr).depths(depths)
                .qkvBias(l.has("stages.0.blocks.0.attn.q.bias")).build();
    }

    private static ModelConfig pvtV1(Lookup l, String source, String hint) {
        int stages = l.count(s -> "pos_embed" + s, 1);
        int[] dims = new int[stages];
        int[] depths = new int[stages];
        int[] mlp = new int[stages];
        int[] sr = new int[stages];
        for (int s = 0; s < stages; s++) {
            String b = "block" + (s + 1);
            dims[s] = require(l, "pos_embed" + (s + 1), 3, source).dim(2);
            depths[s] = l.count(j -> b + "." + j + ".norm1.weight", 0);
            mlp[s] = require(l, b + ".0.mlp.fc1.weight", 2, source).dim(0) / dims[s];
            Tensor r = l.get(b + ".0.attn.sr.weight");
            sr[s] = r == null ? 1 : r.dim(2);
        }
        Tensor patch = require(l, "patch_embed1.proj.weight", 4, source);
        int p = patch.dim(2);
        int chans = patch.dim(1);
        int grid = PositionResize.grid(l.get("pos_embed1"), stages == 1 ? 1 : 0);
        if (grid < 0) throw new ConfigException(source + ": pos_embed1 is not a square token grid" + hint);
        int classes = require(l, "head.weight", 2, source).dim(0);
        String shapes = "PVTv1: dims " + Arrays.toString(dims) + ", depths " + Arrays.toString(depths) + ", MLP ratios "
                + Arrays.toString(mlp) + ", sr ratios " + Arrays.toString(sr) + ", patch " + p + ", " + chans
                + " channels";
        PvtV1Config m = unique(PvtV1Config.class, c -> Arrays.equals(c.embedDims(), dims)
                && Arrays.equals(c.depths(), depths) && Arrays.equals(c.mlpRatios(), mlp)
                && Arrays.equals(c.srRatios(), sr) && c.patchSize() == p && c.inChans() == chans, shapes, source, hint);
        return m.toBuilder().imgSize(grid * p).patchSize(p).inChans(chans).numClasses(classes).embedDims(dims)
                .mlpRatios(mlp).srRatios(sr).depths(depths).qkvBias(l.has("block1.0.attn.q.bias")).build();
    }

    private static Tensor require(Lookup l, String ours, int rank, String source) {
        Tensor t = l.get(ours);
        if (t == null || t.rank() != rank) {
            throw new ConfigException(source + ": cannot infer the architecture: " + ours + " is "
                    + (t == null ? "missing" : "of shape " + Arrays.toString(t.shape())) + " (" + l.naming() + " naming)");
        }
        return t;
    }

    /** The one named config of this family the predicate accepts. */
    private static <C extends ModelConfig> C unique(Class<C> family, Predicate<C> fits, String shapes, String source,
                                                    String hint) {
        List<C> matches = new ArrayList<>();
        for (String name : Configs.names()) {
            ModelConfig c = Configs.byName(name);
            if (family.isInstance(c) && fits.test(family.cast(c))) matches.add(family.cast(c));
        }
        if (matches.size() == 1) return matches.getFirst();
        throw new ConfigException(source + ": no config.json beside the weights, and its shapes (" + shapes + ") match "
                + (matches.isEmpty() ? "no named config" : "several named configs ("
                + String.join(", ", matches.stream().map(ModelConfig::name).toList()) + ")")
                + ", so the head count is unknown" + hint);
    }
}
