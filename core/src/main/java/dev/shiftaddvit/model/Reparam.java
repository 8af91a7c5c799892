package dev.shiftaddvit.model;

import dev.shiftaddvit.nn.Block;
import dev.shiftaddvit.nn.Layer;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.Mlp;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.nn.SelfAttention;
import dev.shiftaddvit.nn.SpatialReductionAttention;
import dev.shiftaddvit.shiftadd.AddAttention;
import dev.shiftaddvit.shiftadd.ExpertLatency;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * ShiftAddViT's reparameterisation of a trained model, in place: stage "attn" swaps the chosen blocks'
 * attention for {@link AddAttention} (initialised from the dense weights), stage "moe" turns every MLP
 * fc1/fc2 and every add-attention qk/v/proj into a {@link MoeLinear} whose experts start from the dense
 * layer and whose latency weights α come from the experts' latency measured on this machine. The model
 * records what changed ({@link Model#shiftAdd()}), so checkpoints rebuild it.
 */
public final class Reparam {
    private Reparam() {
    }

    /**
     * Options of stage attn.
     *
     * @param groups          the stages (PVT) or blocks (ViT) to convert; empty = all
     * @param keepLastSoftmax keep the last stage (PVT) or block (ViT) on softmax attention, as upstream does;
     *                        off by default, so every attention product runs on MatAdd
     * @param layer           the options of every add-attention layer made (codes, bits, anchors, taps, hash training)
     * @param qkInit          how the shared qk projection starts from the dense query and key weights
     */
    public record AttnOptions(Set<Integer> groups, boolean keepLastSoftmax, AddAttention.Options layer,
                              AddAttention.QkInit qkInit) {
        /** Every block converted, with the released layer options and qk from the dense queries. */
        public static final AttnOptions DEFAULT = new AttnOptions(Set.of(), false, AddAttention.Options.DEFAULT,
                AddAttention.QkInit.QUERY);

        /**
         * Copies the groups.
         *
         * @throws IllegalArgumentException when {@code layer} or {@code qkInit} is null
         * @throws NullPointerException     when {@code groups} is or holds null
         */
        public AttnOptions {
            groups = Set.copyOf(groups);
            if (layer == null || qkInit == null) throw new IllegalArgumentException("attn options: null field");
        }
    }

    /**
     * Options of stage moe.
     *
     * @param mlp         convert MLP fc1/fc2 (all stages)
     * @param attn        convert add-attention qk/v/proj
     * @param mode        how each layer gates its chosen expert's output by the router probability
     * @param balanceCoefficient weight of the load-balance loss (upstream's {@code loss_coef}, 0.01); 0 turns it off
     * @param fixedAlpha  null: measure α per layer; else this (Mult, Shift) pair for every layer (upstream: 0.6, 0.4)
     * @param batch       images per forward the latency is measured for (tokens = batch × the layer's tokens)
     */
    public record MoeOptions(boolean mlp, boolean attn, MoeLinear.GateMode mode, float balanceCoefficient,
                             float[] fixedAlpha, int batch) {
        /** MLP and attention layers, the default gate mode and coefficient, α measured for batches of 32. */
        public static final MoeOptions DEFAULT = new MoeOptions(true, true, MoeLinear.DEFAULT_MODE,
                MoeLinear.DEFAULT_BALANCE_COEF, null, 32);

        /**
         * Checks the options and normalises a fixed α to sum 1 ({@link ExpertLatency#alpha}).
         *
         * @throws IllegalArgumentException for a null mode, nothing to convert, a batch below 1, or a fixed α
         *                                  that is not two finite positive values
         */
        public MoeOptions {
            if (mode == null) throw new IllegalArgumentException("moe options: null gate mode");
            if (!mlp && !attn) throw new IllegalArgumentException("moe options convert nothing (neither mlp nor attn)");
            if (batch < 1) throw new IllegalArgumentException("latency batch must be >= 1, got " + batch);
            if (fixedAlpha != null) {
                if (fixedAlpha.length != MoeLinear.EXPERTS) throw new IllegalArgumentException("alpha needs 2 values");
                fixedAlpha = ExpertLatency.alpha(fixedAlpha[0], fixedAlpha[1]);
            }
        }

        /** The fixed (Mult, Shift) α, a copy (null: measured per layer). */
        @Override
        public float[] fixedAlpha() {
            return fixedAlpha == null ? null : fixedAlpha.clone();
        }

        /** Options are equal when they convert alike: the fixed α compared by value. */
        @Override
        public boolean equals(Object o) {
            return o instanceof MoeOptions m && mlp == m.mlp && attn == m.attn && mode == m.mode
                    && Float.compare(balanceCoefficient, m.balanceCoefficient) == 0
                    && Arrays.equals(fixedAlpha, m.fixedAlpha) && batch == m.batch;
        }

        @Override
        public int hashCode() {
            return Objects.hash(mlp, attn, mode, balanceCoefficient, Arrays.hashCode(fixedAlpha), batch);
        }

        @Override
        public String toString() {
            return "MoeOptions[mlp=" + mlp + ", attn=" + attn + ", mode=" + mode + ", balanceCoefficient="
                    + balanceCoefficient + ", fixedAlpha=" + Arrays.toString(fixedAlpha) + ", batch=" + batch + "]";
        }
    }

    /**
     * Stage attn: converts the chosen blocks. Their KSH hashes start untrained, and the model refuses a forward
     * until {@link #trainHashes} has trained them (or a checkpoint's buffers are loaded).
     *
     * @param model a trained model without add-attention, changed in place
     * @param o     which blocks to convert and how
     * @param rng   draws the new layers' random state (the conv taps, the initial KSH state, each hash's training rng)
     * @return what was converted, also recorded in the model's {@link Model#shiftAdd()}
     * @throws IllegalStateException    when the model already has add-attention, or a chosen block has no dense
     *                                  attention to convert
     * @throws IllegalArgumentException when {@code o} names a group the model does not have or selects no block
     */
    public static ShiftAddSpec.Attn toAddAttention(Model model, AttnOptions o, SplittableRandom rng) {
        if (model.shiftAdd().attn() != null) {
            throw new IllegalStateException(model.config().name() + " already has add-attention");
        }
        List<Integer> chosen = chooseBlocks(model, o);
        List<Block> blocks = model.blocks();
        for (int i : chosen) {
            Block b = blocks.get(i);
            int heads = heads(model, i);
            AddAttention a = switch (b.attn()) {
                case SelfAttention s -> AddAttention.fromSelfAttention(s, heads, o.layer(), o.qkInit(), rng);
                case SpatialReductionAttention s ->
                        AddAttention.fromSpatialReductionAttention(s, heads, o.layer(), o.qkInit(), rng);
                default -> throw new IllegalStateException("block " + i + " has no dense attention to convert: "
                        + b.attn().getClass().getSimpleName());
            };
            b.replaceAttn(a);
        }
        ShiftAddSpec.Attn spec = new ShiftAddSpec.Attn(chosen, o.layer());
        model.setShiftAdd(model.shiftAdd().withAttn(spec));
        return spec;
    }

    /**
     * Trains every untrained KSH hash of the model in one inference forward over the images: each such
     * add-attention, when the pass reaches it, trains its hash on its own block input (the output of the
     * layers before it, already trained) with its own rng ({@link AddAttention#trainHash(Tensor)}), then encodes
     * that input as a plain forward would. Trained hashes and sign codes are left as they are; nothing runs when
     * there is no hash to train.
     *
     * @param model  a model after {@link #toAddAttention}; its hashes are trained in place
     * @param images the calibration batch, NHWC [B, H, W, C], normalised as the model's input
     */
    public static void trainHashes(Model model, Tensor images) {
        List<Block> swapped = new ArrayList<>();
        for (Block b : model.blocks()) {
            if (b.attn() instanceof AddAttention a && a.hash() != null && !a.hash().isTrained()) {
                b.replaceAttn(new HashTrainingPass(a));
                swapped.add(b);
            }
        }
        if (swapped.isEmpty()) return;
        try {
            model.forward(images, false);
        } finally {
            for (Block b : swapped) b.replaceAttn(((HashTrainingPass) b.attn()).attention);
        }
    }

    /** Stands in for an add-attention during {@link #trainHashes}: trains its hash on the input, then runs it. */
    private static final class HashTrainingPass implements Layer {
        private final AddAttention attention;

        HashTrainingPass(AddAttention attention) {
            this.attention = attention;
        }

        @Override
        public Tensor forward(Tensor x, boolean training) {
            attention.trainHash(x);
            return attention.forward(x, training);
        }

        @Override
        public Tensor backward(Tensor dy) {
            throw new UnsupportedOperationException(attention.name() + ": the hash-training pass has no backward");
        }

        @Override
        public List<Parameter> parameters() {
            return attention.parameters();
        }
    }

    /**
     * Stage moe: converts the layers and measures (or fixes) α for each; the routers start fresh.
     *
     * @param model a trained model without MoE layers, changed in place
     * @param o     which layers to convert, their gating and α
     * @param rng   draws the routers' initial weights
     * @return the converted layers with their α and measured latencies, also recorded in the model's
     *         {@link Model#shiftAdd()}
     * @throws IllegalStateException when the model already has MoE layers or has no layer {@code o} converts
     */
    public static ShiftAddSpec.Moe toMoe(Model model, MoeOptions o, SplittableRandom rng) {
        if (model.shiftAdd().moe() != null) throw new IllegalStateException(model.config().name() + " already has MoE");
        int[] tokens = tokensPerImage(model);
        Map<List<Integer>, ExpertLatency.Measurement> cache = new HashMap<>();
        List<ShiftAddSpec.MoeLayer> layers = new ArrayList<>();
        List<Block> blocks = model.blocks();
        for (int i = 0; i < blocks.size(); i++) {
            int t = Math.multiplyExact(tokens[i], o.batch());
            Function<Linear, Layer> convert = dense -> {
                float[] alpha;
                double[] ns;
                if (o.fixedAlpha() != null) {
                    alpha = o.fixedAlpha();
                    ns = new double[]{Double.NaN, Double.NaN};
                } else {
                    ExpertLatency.Measurement m = cache.computeIfAbsent(List.of(dense.in(), dense.out(), t),
                            k -> ExpertLatency.measure(dense, t));
                    alpha = m.alpha();
                    ns = new double[]{m.multNanosPerToken(), m.shiftNanosPerToken()};
                }
                layers.add(new ShiftAddSpec.MoeLayer(dense.name(), alpha, ns));
                MoeLinear moe = MoeLinear.fromDense(dense.name(), dense, alpha, o.mode(), rng);
                moe.setBalanceCoefficient(o.balanceCoefficient());
                return moe;
            };
            convertBlock(blocks.get(i), o.mlp(), o.attn(), convert);
        }
        if (layers.isEmpty()) throw new IllegalStateException(model.config().name() + ": no layer to convert to MoE");
        ShiftAddSpec.Moe spec = new ShiftAddSpec.Moe(layers, o.mode(), o.balanceCoefficient());
        model.setShiftAdd(model.shiftAdd().withMoe(spec));
        return spec;
    }

    /**
     * Rebuilds a recorded structure on a freshly built dense model (parameters random, to be loaded from a
     * checkpoint; the KSH state comes from the checkpoint's buffers).
     *
     * @param model  a dense model just built from the recorded config, changed in place
     * @param spec   the recorded structure ({@link ShiftAddSpec#fromMetadata})
     * @param source names the checkpoint in messages
     * @throws IllegalStateException when the model is not dense
     * @throws ConfigException       when the spec names a block or layer the model does not have, or one twice
     */
    public static void apply(Model model, ShiftAddSpec spec, String source) {
        if (!model.shiftAdd().isDense()) throw new IllegalStateException("apply needs a dense model");
        SplittableRandom rng = new SplittableRandom(0);
        List<Block> blocks = model.blocks();
        if (spec.attn() != null) {
            for (int i : spec.attn().blocks()) {
                if (i < 0 || i >= blocks.size()) {
                    throw new ConfigException(source + ": add-attention block " + i + " does not exist (model has "
                            + blocks.size() + " blocks)");
                }
                Block b = blocks.get(i);
                Linear proj = switch (b.attn()) {
                    case SelfAttention s -> s.proj();
                    case SpatialReductionAttention s -> s.proj();
                    default -> throw new ConfigException(source + ": block " + i + " is listed twice for add-attention");
                };
                String name = proj.name().substring(0, proj.name().length() - ".proj".length());
                b.replaceAttn(new AddAttention(name, proj.in(), heads(model, i), qkvBias(model), spec.attn().options(),
                        rng));
            }
        }
        if (spec.moe() != null) {
            Map<String, ShiftAddSpec.MoeLayer> wanted = new LinkedHashMap<>();
            for (ShiftAddSpec.MoeLayer l : spec.moe().layers()) wanted.put(l.name(), l);
            Set<String> done = new TreeSet<>();
            for (Block b : blocks) {
                boolean mlp = b.mlp() instanceof Mlp m && wanted.containsKey(((Linear) m.fc1()).name());
                boolean attn = b.attn() instanceof AddAttention a && a.qk() instanceof Linear q
                        && wanted.containsKey(q.name());
                convertBlock(b, mlp, attn, dense -> {
                    ShiftAddSpec.MoeLayer l = wanted.get(dense.name());
                    if (l == null) {
                        throw new ConfigException(source + ": MoE layer list has " + dense.name() + "'s neighbours but "
                                + "not " + dense.name());
                    }
                    done.add(l.name());
                    MoeLinear moe = new MoeLinear(l.name(), dense.in(), dense.out(), dense.bias() != null, l.alpha(),
                            spec.moe().mode(), rng);
                    moe.setBalanceCoefficient(spec.moe().balanceCoefficient());
                    return moe;
                });
            }
            Set<String> unknown = new TreeSet<>(wanted.keySet());
            unknown.removeAll(done);
            if (!unknown.isEmpty()) {
                throw new ConfigException(source + ": MoE layers not found in " + model.config().name() + ": "
                        + String.join(", ", unknown));
            }
        }
        model.setShiftAdd(spec);
    }

    /**
     * Every MoE layer of the model, in forward order.
     *
     * @param model any model
     * @return the layers themselves (a fresh list), empty for a model without MoE
     */
    public static List<MoeLinear> moeLayers(Model model) {
        List<MoeLinear> out = new ArrayList<>();
        for (Block b : model.blocks()) {
            if (b.attn() instanceof AddAttention a) {
                for (Layer l : List.of(a.qk(), a.v(), a.proj())) if (l instanceof MoeLinear m) out.add(m);
            }
            if (b.mlp() instanceof Mlp m) {
                for (Layer l : List.of(m.fc1(), m.fc2())) if (l instanceof MoeLinear x) out.add(x);
            }
        }
        return out;
    }

    /**
     * Whether reparameterisation changed this block: add-attention, or a linear layer of its MLP replaced.
     *
     * @param b a block of a model
     * @return whether it differs from the dense block it was built as
     */
    public static boolean converted(Block b) {
        if (b.attn() instanceof AddAttention) return true;
        return b.mlp() instanceof Mlp m && !(m.fc1() instanceof Linear && m.fc2() instanceof Linear);
    }

    /**
     * Every add-attention of the model, in forward order.
     *
     * @param model any model
     * @return the layers themselves (a fresh list), empty for a model without add-attention
     */
    public static List<AddAttention> addAttentions(Model model) {
        List<AddAttention> out = new ArrayList<>();
        for (Block b : model.blocks()) if (b.attn() instanceof AddAttention a) out.add(a);
        return out;
    }

    /**
     * Σ over MoE layers of their balance loss in the last training forward (already coefficient-weighted).
     *
     * @param model any model
     * @return the sum, 0 for a model without MoE or before its first training forward
     */
    public static double balanceLoss(Model model) {
        double s = 0;
        for (MoeLinear m : moeLayers(model)) s += m.balanceLoss();
        return s;
    }

    private static void convertBlock(Block b, boolean mlp, boolean attn, Function<Linear, Layer> convert) {
        // Forward order: attention projections, then the MLP.
        if (attn && b.attn() instanceof AddAttention a) a.replaceProjections(convert);
        if (mlp && b.mlp() instanceof Mlp m) m.replaceLinears(convert);
    }

    private static List<Integer> chooseBlocks(Model model, AttnOptions o) {
        int[] groups = model.attentionGroups();
        int last = groups.length == 0 ? -1 : groups[groups.length - 1];
        for (int g : o.groups()) {
            if (g < 0 || g > last) {
                throw new IllegalArgumentException("attention group " + g + " does not exist in " + model.config().name()
                        + " (groups 0.." + last + ")");
            }
        }
        List<Integer> chosen = new ArrayList<>();
        for (int i = 0; i < groups.length; i++) {
            boolean selected = o.groups().isEmpty() || o.groups().contains(groups[i]);
            if (selected && !(o.keepLastSoftmax() && groups[i] == last)) chosen.add(i);
        }
        if (chosen.isEmpty()) {
            throw new IllegalArgumentException("no block of " + model.config().name() + " is selected for add-attention"
                    + (o.keepLastSoftmax() ? " (the last group keeps softmax attention)" : ""));
        }
        return chosen;
    }

    private static int heads(Model model, int block) {
        return switch (model.config()) {
            case PvtV2Config c -> c.heads()[model.attentionGroups()[block]];
            case PvtV1Config c -> c.heads()[model.attentionGroups()[block]];
            case VitConfig c -> c.heads();
        };
    }

    private static boolean qkvBias(Model model) {
        return switch (model.config()) {
            case PvtV2Config c -> c.qkvBias();
            case PvtV1Config c -> c.qkvBias();
            case VitConfig c -> c.qkvBias();
        };
    }

    /** Tokens each block sees per image. */
    private static int[] tokensPerImage(Model model) {
        int[] groups = model.attentionGroups();
        int[] t = new int[groups.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = switch (model.config()) {
                case PvtV2Config c -> c.grid(groups[i]) * c.grid(groups[i]);
                case PvtV1Config c -> c.tokens(groups[i]);
                case VitConfig c -> c.tokens();
            };
        }
        return t;
    }
}
