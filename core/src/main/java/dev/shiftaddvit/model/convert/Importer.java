package dev.shiftaddvit.model.convert;

import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.model.ConfigException;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.PvtV1Config;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads a foreign state dict into a fresh model of a given config through a {@link Naming}. Every
 * problem (a parameter with no tensor, a tensor no parameter takes, a shape that does not fit) is
 * collected and reported together, by name, in one {@link InvalidInputException}. PVTv1 position
 * embeddings learned on another grid (a checkpoint imported at another image size) are resized
 * bilinearly, as the official model resizes them at run time.
 */
public final class Importer {
    private static final Pattern PVT_V1_POS = Pattern.compile("pos_embed(\\d+)");

    private Importer() {
    }

    /** The loaded model and one line per parameter saying where it came from. */
    public record Imported(Model model, List<String> mapped) {
    }

    public static Imported load(ModelConfig cfg, Map<String, Tensor> foreign, Naming naming, String source) {
        Map<String, Tensor> in = normalise(foreign, naming);
        refuseDistilled(in.keySet(), source);
        long stored = 0;
        for (Tensor t : foreign.values()) stored += t.size();
        try {
            cfg.requireLoadableFrom(stored, source);
        } catch (ConfigException e) {
            throw new InvalidInputException(source, e.getMessage().replace(source + ": ", ""));
        }
        Model model = cfg.build(0);
        List<String> missing = new ArrayList<>();
        List<String> wrongShape = new ArrayList<>();
        List<String> mapped = new ArrayList<>();
        Set<String> used = new HashSet<>();
        for (Parameter p : model.parameters()) {
            List<String> sources = naming.sources(p.name(), cfg);
            if (sources.isEmpty()) {
                missing.add(p.name() + " (no " + naming + " counterpart)");
                continue;
            }
            List<String> absent = sources.stream().filter(s -> !in.containsKey(s)).toList();
            if (!absent.isEmpty()) {
                missing.addAll(absent);
                continue;
            }
            used.addAll(sources);
            Tensor t = concatRows(sources.stream().map(in::get).toList());
            Tensor target = p.value();
            String note = "";
            int lead = pvtV1PositionLead(cfg, p.name());
            if (t != null && !t.sameShape(target) && lead >= 0) {
                Tensor resized = PositionResize.resize(t, target, lead);
                if (resized != null) {
                    note = " (resized from a " + PositionResize.grid(t, lead) + "×" + PositionResize.grid(t, lead)
                            + " grid)";
                    t = resized;
                }
            }
            if (t == null || !t.sameShape(target)) {
                wrongShape.add(String.join(" + ", sources) + " " + shapes(sources, in) + " for " + p.name()
                        + " " + Arrays.toString(target.shape()));
                continue;
            }
            System.arraycopy(t.data(), 0, target.data(), 0, t.size());
            mapped.add(p.name() + " " + Arrays.toString(target.shape())
                    + (sources.equals(List.of(p.name())) ? "" : " <- " + String.join(" + ", sources)) + note);
        }
        List<String> unexpected = in.keySet().stream().filter(k -> !used.contains(k)).toList();
        if (!missing.isEmpty() || !unexpected.isEmpty() || !wrongShape.isEmpty()) {
            StringBuilder sb = new StringBuilder("checkpoint (" + naming + " naming) does not fit model " + cfg.name());
            if (!missing.isEmpty()) sb.append("; missing: ").append(String.join(", ", missing));
            if (!unexpected.isEmpty()) sb.append("; unexpected: ").append(String.join(", ", unexpected));
            if (!wrongShape.isEmpty()) sb.append("; shape mismatches: ").append(String.join(", ", wrongShape));
            throw new InvalidInputException(source, sb.toString());
        }
        return new Imported(model, mapped);
    }

    /** Rows before the grid in a PVTv1 position embedding (1 in the last stage: the class token), or -1 for other parameters. */
    private static int pvtV1PositionLead(ModelConfig cfg, String name) {
        if (!(cfg instanceof PvtV1Config c)) return -1;
        Matcher m = PVT_V1_POS.matcher(name);
        if (!m.matches()) return -1;
        return Integer.parseInt(m.group(1)) == c.stages() ? 1 : 0;
    }

    /** torchvision before 0.13 (and its published ViT weights) name the MLP linear_1/linear_2. */
    private static Map<String, Tensor> normalise(Map<String, Tensor> foreign, Naming naming) {
        if (naming != Naming.TORCHVISION) return foreign;
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : foreign.entrySet()) {
            out.put(e.getKey().replace(".mlp.linear_1.", ".mlp.0.").replace(".mlp.linear_2.", ".mlp.3."), e.getValue());
        }
        return out;
    }

    /**
     * A distillation token changes the sequence every block sees (DeiT's distilled models, and every
     * Hugging Face DeiT* class, carry one); our ViT has none, so dropping it would silently change
     * the outputs.
     */
    private static void refuseDistilled(Set<String> keys, String source) {
        for (String k : keys) {
            if (k.endsWith("dist_token") || k.endsWith("distillation_token")) {
                throw new InvalidInputException(source, "has a distillation token (" + k + "): distilled DeiT "
                        + "is not supported; use the non-distilled checkpoint (timm deit_*_patch16_224, or the "
                        + "Hugging Face facebook/deit-*-patch16-224 ViT export)");
            }
        }
    }

    private static String shapes(List<String> names, Map<String, Tensor> in) {
        return String.join(" + ", names.stream().map(n -> Arrays.toString(in.get(n).shape())).toList());
    }

    /** Concatenation along dimension 0, or null when the trailing dimensions disagree. */
    private static Tensor concatRows(List<Tensor> parts) {
        if (parts.size() == 1) return parts.getFirst();
        int[] first = parts.getFirst().shape();
        if (first.length == 0) return null;
        int rows = 0;
        int size = 0;
        for (Tensor t : parts) {
            int[] s = t.shape();
            if (s.length != first.length || !Arrays.equals(s, 1, s.length, first, 1, first.length)) return null;
            rows += s[0];
            size += t.size();
        }
        float[] data = new float[size];
        int at = 0;
        for (Tensor t : parts) {
            System.arraycopy(t.data(), 0, data, at, t.size());
            at += t.size();
        }
        int[] shape = first.clone();
        shape[0] = rows;
        return Tensor.of(data, shape);
    }
}
