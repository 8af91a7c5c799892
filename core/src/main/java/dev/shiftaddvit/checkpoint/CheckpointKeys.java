package dev.shiftaddvit.checkpoint;

/**
 * The checkpoint metadata keys that record how a file came to be: training hyper-parameters and state,
 * evaluation, the commands that made it, and the deploy format. They live here, the lowest package
 * that every writer (train, the commands) and reader (checkpoint, the commands) can import. The keys
 * that describe the model itself are {@link dev.shiftaddvit.model.ModelKeys}. Files on disk carry these
 * exact strings, so a constant's value never changes.
 */
public final class CheckpointKeys {
    public static final String TRAIN_EPOCHS = "train.epochs";
    public static final String TRAIN_BATCH_SIZE = "train.batch_size";
    public static final String TRAIN_LR = "train.lr";
    public static final String TRAIN_MIN_LR = "train.min_lr";
    public static final String TRAIN_WARMUP_EPOCHS = "train.warmup_epochs";
    public static final String TRAIN_WEIGHT_DECAY = "train.weight_decay";
    public static final String TRAIN_LABEL_SMOOTHING = "train.label_smoothing";
    public static final String TRAIN_CLIP_NORM = "train.clip_norm";
    public static final String TRAIN_AUGMENT = "train.augment";
    public static final String TRAIN_SEED = "train.seed";
    /** Distillation from the parent: kind, temperature, weight and block-matching weight. */
    public static final String TRAIN_DISTILL = "train.distill";
    /** The parent model a distilled fine-tune learnt from. */
    public static final String TRAIN_TEACHER = "train.teacher";

    /** Where a resumed run picks up. */
    public static final String TRAIN_NEXT_EPOCH = "train.next_epoch";
    public static final String TRAIN_NEXT_STEP = "train.next_step";
    public static final String TRAIN_OPTIMIZER_STEP = "train.optimizer_step";
    public static final String TRAIN_RNG_STATE = "train.rng_state";

    public static final String TRAIN_COMMAND = "train.command";
    public static final String TRAIN_DATA = "train.data";
    /** How many training images the run used (after --limit). */
    public static final String TRAIN_IMAGES = "train.images";
    /** The checkpoint a run started from, and the command that made that one. */
    public static final String TRAIN_INIT = "train.init";
    public static final String TRAIN_INIT_COMMAND = "train.init_command";
    public static final String TRAIN_MINUTES_THIS_RUN = "train.minutes_this_run";
    public static final String TRAIN_HISTORY = "train.history";

    public static final String EVAL_TOP1 = "eval.top1";
    public static final String EVAL_IMAGES = "eval.images";

    public static final String REPARAM_COMMAND = "reparam.command";
    public static final String REPARAM_PARENT = "reparam.parent";
    public static final String IMPORT_SOURCE = "import.source";
    public static final String IMPORT_NAMING = "import.naming";
    public static final String DEPLOY_COMMAND = "deploy.command";
    public static final String DEPLOY_PARENT = "deploy.parent";
    public static final String PIPELINE_COMMAND = "pipeline.command";
    public static final String PIPELINE_REPORT = "pipeline.report";
    public static final String PIPELINE_STAGE = "pipeline.stage";

    /** Names the file format; {@link DeployFile#FORMAT} in a deploy file. */
    public static final String FORMAT = "format";
    /** The class names, in index order, as a JSON list (written by training on class folders, kept by derived files). */
    public static final String CLASS_NAMES = "class_names";
    /** The bits per stored shift code of a deploy file. */
    public static final String DEPLOY_CODE_BITS = "deploy.code_bits";
    /** Followed by a codes tensor's name; the value is its weight shape "out,in". */
    public static final String DEPLOY_SHAPE_PREFIX = "deploy.shape.";
    /** The MoE layers deployed without router and Mult expert, comma-separated (absent: none). */
    public static final String DEPLOY_SHIFT_ONLY = "deploy.shift_only";
    /** The calibration Shift share at or above which {@code deploy --shift-only} dropped a layer's router. */
    public static final String DEPLOY_SHIFT_ONLY_THRESHOLD = "deploy.shift_only_threshold";
    /** The data the calibration routing of {@code deploy --shift-only} ran on. */
    public static final String DEPLOY_CALIBRATION = "deploy.calibration";

    private CheckpointKeys() {
    }
}
