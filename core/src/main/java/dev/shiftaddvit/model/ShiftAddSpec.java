package dev.shiftaddvit.model;

import dev.shiftaddvit.shiftadd.AddAttention;
import dev.shiftaddvit.shiftadd.KshTraining;
import dev.shiftaddvit.shiftadd.MoeLinear;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which parts of a model are reparameterised, recorded in checkpoint metadata ("shiftadd.*" keys) so a
 * loader can rebuild the structure before reading the tensors: the blocks whose attention became
 * {@link AddAttention}, and the linear layers that became {@link MoeLinear} with their latency
 * weights α and the per-token expert latencies they were measured from.
 */
public record ShiftAddSpec(Attn attn, Moe moe) {
    public static final ShiftAddSpec DENSE = new ShiftAddSpec(null, null);

    /** Add-attention in the listed (global) block indices. */
    public record Attn(List<Integer> blocks, AddAttention.Options options) {
        public Attn {
            blocks = List.copyOf(blocks);
            if (blocks.isEmpty()) throw new IllegalArgumentException("add-attention converts no block");
            if (options == null) throw new IllegalArgumentException("add-attention options are null");
        }
    }

    /** One converted linear layer: α (Mult, Shift) and the measured ns per token of each expert (NaN if not measured). */
    public record MoeLayer(String name, float[] alpha, double[] nanosPerToken) {
        public MoeLayer {
            if (alpha.length != MoeLinear.EXPERTS || nanosPerToken.length != MoeLinear.EXPERTS) {
                throw new IllegalArgumentException(name + ": alpha and latencies need " + MoeLinear.EXPERTS + " values");
            }
            alpha = alpha.clone();
            nanosPerToken = nanosPerToken.clone();
        }

        @Override
        public float[] alpha() {
            return alpha.clone();
        }

        @Override
        public double[] nanosPerToken() {
            return nanosPerToken.clone();
        }

        /** Whether both experts were timed at conversion (α from latency; energy or fixed α times neither). */
        public boolean timed() {
            return !Double.isNaN(nanosPerToken[0]) && !Double.isNaN(nanosPerToken[1]);
        }
    }

    /** MoE layers by name, in conversion order. */
    public record Moe(List<MoeLayer> layers, MoeLinear.GateMode mode, float balanceCoefficient) {
        public Moe {
            layers = List.copyOf(layers);
            if (layers.isEmpty()) throw new IllegalArgumentException("the MoE stage converts no layer");
            if (mode == null) throw new IllegalArgumentException("MoE gate mode is null");
            if (!(balanceCoefficient >= 0f)) throw new IllegalArgumentException("balance coefficient must be >= 0");
        }
    }

    public boolean isDense() {
        return attn == null && moe == null;
    }

    public ShiftAddSpec withAttn(Attn a) {
        return new ShiftAddSpec(a, moe);
    }

    public ShiftAddSpec withMoe(Moe m) {
        return new ShiftAddSpec(attn, m);
    }

    /** "dense", "attn" or "attn+moe" (or "moe"). */
    public String stage() {
        if (isDense()) return "dense";
        if (moe == null) return "attn";
        return attn == null ? "moe" : "attn+moe";
    }

    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(ModelKeys.SHIFTADD_STAGE, stage());
        if (attn != null) {
            AddAttention.Options o = attn.options();
            m.put(ModelKeys.ATTN_BLOCKS, join(attn.blocks()));
            m.put(ModelKeys.ATTN_CODES, o.codes().name().toLowerCase());
            m.put(ModelKeys.ATTN_BITS, Integer.toString(o.bits()));
            m.put(ModelKeys.ATTN_ANCHORS, Integer.toString(o.anchors()));
            m.put(ModelKeys.ATTN_TAPS, Integer.toString(o.taps()));
        }
        if (moe != null) {
            m.put(ModelKeys.MOE_GATE, moe.mode().name().toLowerCase());
            m.put(ModelKeys.MOE_BALANCE_COEF, Float.toString(moe.balanceCoefficient()));
            m.put(ModelKeys.MOE_LAYERS, String.join(",", moe.layers().stream().map(MoeLayer::name).toList()));
            for (MoeLayer l : moe.layers()) {
                float[] a = l.alpha();
                double[] ns = l.nanosPerToken();
                m.put(ModelKeys.MOE_ALPHA_PREFIX + l.name(), a[0] + "," + a[1]);
                if (l.timed()) m.put(ModelKeys.MOE_LATENCY_NS_PREFIX + l.name(), ns[0] + "," + ns[1]);
            }
        }
        return m;
    }

    /** The spec described by checkpoint metadata (DENSE when it has no "shiftadd.stage"). */
    public static ShiftAddSpec fromMetadata(Map<String, String> meta, String source) {
        if (!meta.containsKey(ModelKeys.SHIFTADD_STAGE)) return DENSE;
        Attn attn = null;
        if (meta.containsKey(ModelKeys.ATTN_BLOCKS)) {
            MetaFields f = new MetaFields(meta, source);
            String codes = f.string(ModelKeys.ATTN_CODES);
            AddAttention.CodeKind kind = switch (codes) {
                case "ksh" -> AddAttention.CodeKind.KSH;
                case "sign" -> AddAttention.CodeKind.SIGN;
                default -> throw new ConfigException(source + ": " + ModelKeys.ATTN_CODES + " must be ksh or sign, got \""
                        + codes + "\"");
            };
            AddAttention.Options o;
            try {
                o = new AddAttention.Options(kind, f.integer(ModelKeys.ATTN_BITS), f.integer(ModelKeys.ATTN_ANCHORS),
                        f.integer(ModelKeys.ATTN_TAPS), KshTraining.TrainConfig.DEFAULT);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(source + ": " + e.getMessage());
            }
            attn = new Attn(Arrays.stream(f.ints(ModelKeys.ATTN_BLOCKS)).boxed().toList(), o);
        }
        Moe moe = null;
        if (meta.containsKey(ModelKeys.MOE_LAYERS)) {
            MetaFields f = new MetaFields(meta, source);
            String gate = f.string(ModelKeys.MOE_GATE);
            MoeLinear.GateMode mode = switch (gate) {
                case "straight_through" -> MoeLinear.GateMode.STRAIGHT_THROUGH;
                case "probability" -> MoeLinear.GateMode.PROBABILITY;
                default -> throw new ConfigException(source + ": " + ModelKeys.MOE_GATE + " must be straight_through or "
                        + "probability, got \"" + gate + "\"");
            };
            float coef = (float) f.real(ModelKeys.MOE_BALANCE_COEF);
            List<MoeLayer> layers = new java.util.ArrayList<>();
            for (String name : f.string(ModelKeys.MOE_LAYERS).split(",")) {
                float[] alpha = pair(f, ModelKeys.MOE_ALPHA_PREFIX + name, source);
                if (!(alpha[0] > 0f && alpha[1] > 0f && Float.isFinite(alpha[0]) && Float.isFinite(alpha[1]))) {
                    throw new ConfigException(source + ": " + ModelKeys.MOE_ALPHA_PREFIX + name
                            + " must be two positive numbers");
                }
                float[] ns = meta.containsKey(ModelKeys.MOE_LATENCY_NS_PREFIX + name)
                        ? pair(f, ModelKeys.MOE_LATENCY_NS_PREFIX + name, source) : new float[]{Float.NaN, Float.NaN};
                layers.add(new MoeLayer(name, alpha, new double[]{ns[0], ns[1]}));
            }
            try {
                moe = new Moe(layers, mode, coef);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(source + ": " + e.getMessage());
            }
        }
        return new ShiftAddSpec(attn, moe);
    }

    private static String join(List<Integer> xs) {
        return String.join(",", xs.stream().map(String::valueOf).toList());
    }

    private static float[] pair(MetaFields f, String key, String source) {
        float[] v = f.floats(key);
        if (v.length != MoeLinear.EXPERTS) {
            throw new ConfigException(source + ": metadata \"" + key + "\" must hold " + MoeLinear.EXPERTS + " numbers");
        }
        return v;
    }
}
