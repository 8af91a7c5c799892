package dev.shiftaddvit.model;

/**
 * The checkpoint metadata keys that describe a model: its architecture config (written and read by
 * {@link ConfigCodec}) and what ShiftAdd reparameterised ({@link ShiftAddSpec}). Files on disk carry
 * these exact strings, so a constant's value never changes.
 */
public final class ModelKeys {
    /** Names the config family; its value is one of the ARCH_ values below. */
    public static final String ARCH = "arch";
    public static final String ARCH_VIT = "vit";
    public static final String ARCH_PVT_V1 = "pvt_v1";
    public static final String ARCH_PVT_V2 = "pvt_v2";

    public static final String NAME = "name";
    public static final String IMG_SIZE = "img_size";
    public static final String PATCH_SIZE = "patch_size";
    public static final String IN_CHANS = "in_chans";
    public static final String NUM_CLASSES = "num_classes";
    public static final String EMBED_DIM = "embed_dim";
    public static final String DEPTH = "depth";
    public static final String NUM_HEADS = "num_heads";
    public static final String MLP_RATIO = "mlp_ratio";
    public static final String QKV_BIAS = "qkv_bias";
    public static final String CLASS_TOKEN = "class_token";
    public static final String NORM_EPS = "norm_eps";
    public static final String MEAN = "mean";
    public static final String STD = "std";
    public static final String EMBED_DIMS = "embed_dims";
    public static final String MLP_RATIOS = "mlp_ratios";
    public static final String SR_RATIOS = "sr_ratios";
    public static final String DEPTHS = "depths";
    public static final String STEM_KERNEL = "stem_kernel";
    public static final String STEM_STRIDE = "stem_stride";

    /** Written in every checkpoint; a file without it reads as a dense model. */
    public static final String SHIFTADD_STAGE = "shiftadd.stage";
    public static final String ATTN_BLOCKS = "shiftadd.attn.blocks";
    public static final String ATTN_CODES = "shiftadd.attn.codes";
    public static final String ATTN_BITS = "shiftadd.attn.bits";
    public static final String ATTN_ANCHORS = "shiftadd.attn.anchors";
    public static final String ATTN_TAPS = "shiftadd.attn.taps";
    public static final String MOE_GATE = "shiftadd.moe.gate";
    public static final String MOE_BALANCE_COEF = "shiftadd.moe.balance_coef";
    public static final String MOE_LAYERS = "shiftadd.moe.layers";
    /** Followed by a MoE layer's name. */
    public static final String MOE_ALPHA_PREFIX = "shiftadd.moe.alpha.";
    /** Followed by a MoE layer's name. */
    public static final String MOE_LATENCY_NS_PREFIX = "shiftadd.moe.latency_ns.";

    private ModelKeys() {
    }
}
