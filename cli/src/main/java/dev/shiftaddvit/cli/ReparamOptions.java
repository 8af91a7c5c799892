package dev.shiftaddvit.cli;

import dev.shiftaddvit.cost.EnergyTable;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.shiftadd.AddAttention;
import dev.shiftaddvit.shiftadd.KshTraining;
import dev.shiftaddvit.shiftadd.MoeLinear;
import picocli.CommandLine.Option;

import java.util.Set;
import java.util.TreeSet;

/** Options of the attn and moe reparameterisation stages (reparam and pipeline). */
final class ReparamOptions {
    @Option(names = "--attn-stages", split = ",", description = "Stages (PVT) or blocks (ViT) that get add-attention "
            + "(default: all).")
    Set<Integer> attnStages = new TreeSet<>();

    @Option(names = "--keep-last-softmax", description = "Keep softmax attention in the last stage (PVT) or block "
            + "(ViT), as upstream does.")
    boolean keepLastSoftmax;

    @Option(names = "--codes", defaultValue = "ksh", description = "Binary codes: ksh or sign (default: ${DEFAULT-VALUE}).")
    String codes;

    @Option(names = "--bits", defaultValue = "16", description = "KSH code bits (default: ${DEFAULT-VALUE}).")
    int bits;

    @Option(names = "--anchors", defaultValue = "25", description = "KSH anchors (default: ${DEFAULT-VALUE}).")
    int anchors;

    @Option(names = "--qk-init", defaultValue = "query", description = "Shared qk projection from the dense query "
            + "weights (query) or the mean of query and key (mean) (default: ${DEFAULT-VALUE}).")
    String qkInit;

    @Option(names = "--hash-images", defaultValue = "128", description = "Training images KSH is trained on "
            + "(default: ${DEFAULT-VALUE}).")
    int hashImages;

    @Option(names = "--moe-layers", defaultValue = "mlp,attn", split = ",", description = "Layers that become "
            + "Mult/Shift MoE: mlp (fc1/fc2), attn (add-attention qk/v/proj) (default: ${DEFAULT-VALUE}).")
    Set<String> moeLayers;

    @Option(names = "--gate", defaultValue = "straight-through", description = "Router gate: straight-through "
            + "(output unscaled, router trained through p/sg(p)) or probability (output scaled by p) "
            + "(default: ${DEFAULT-VALUE}).")
    String gate;

    @Option(names = "--balance-coef", defaultValue = "0.01", description = "Latency-aware load-balancing loss "
            + "coefficient (default: ${DEFAULT-VALUE}).")
    float balanceCoef;

    @Option(names = "--alpha", description = "Fixed latency weights MULT,SHIFT for every layer (e.g. 0.6,0.4 as "
            + "upstream) instead of measuring the experts on this machine.")
    String alpha;

    @Option(names = "--alpha-from", defaultValue = "latency", description = "Where the balance weights come from: "
            + "latency (each expert measured on this machine, the method's rule: the faster expert gets more tokens) "
            + "or energy (45 nm energy per weight: mult+add vs shift+add, so the cheaper expert gets more tokens) "
            + "(default: ${DEFAULT-VALUE}).")
    String alphaFrom;

    @Option(names = "--latency-batch", defaultValue = "32", description = "Images per forward the expert latencies "
            + "are measured for (default: ${DEFAULT-VALUE}).")
    int latencyBatch;

    Reparam.AttnOptions attn() {
        AddAttention.CodeKind kind = switch (codes) {
            case "ksh" -> AddAttention.CodeKind.KSH;
            case "sign" -> AddAttention.CodeKind.SIGN;
            default -> throw new IllegalArgumentException("--codes must be ksh or sign, got " + codes);
        };
        AddAttention.QkInit init = switch (qkInit) {
            case "query" -> AddAttention.QkInit.QUERY;
            case "mean" -> AddAttention.QkInit.MEAN;
            default -> throw new IllegalArgumentException("--qk-init must be query or mean, got " + qkInit);
        };
        if (hashImages < 1) throw new IllegalArgumentException("--hash-images must be >= 1, got " + hashImages);
        AddAttention.Options layer = new AddAttention.Options(kind, bits, anchors, 9, KshTraining.TrainConfig.DEFAULT);
        return new Reparam.AttnOptions(attnStages, keepLastSoftmax, layer, init);
    }

    Reparam.MoeOptions moe() {
        for (String l : moeLayers) {
            if (!l.equals("mlp") && !l.equals("attn")) {
                throw new IllegalArgumentException("--moe-layers takes mlp and/or attn, got " + l);
            }
        }
        MoeLinear.GateMode mode = switch (gate) {
            case "straight-through" -> MoeLinear.GateMode.STRAIGHT_THROUGH;
            case "probability" -> MoeLinear.GateMode.PROBABILITY;
            default -> throw new IllegalArgumentException("--gate must be straight-through or probability, got " + gate);
        };
        if (!(balanceCoef >= 0f)) throw new IllegalArgumentException("--balance-coef must be >= 0, got " + balanceCoef);
        float[] fixed = switch (alphaFrom) {
            case "latency" -> null;
            case "energy" -> EnergyTable.FP32.expertAlpha();
            default -> throw new IllegalArgumentException("--alpha-from must be latency or energy, got " + alphaFrom);
        };
        if (alpha != null) {
            if (!alphaFrom.equals("latency")) throw new IllegalArgumentException("--alpha and --alpha-from exclude each other");
            String[] p = alpha.split(",");
            try {
                if (p.length != 2) throw new NumberFormatException();
                fixed = new float[]{Float.parseFloat(p[0]), Float.parseFloat(p[1])};
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--alpha must be two numbers MULT,SHIFT, got " + alpha);
            }
        }
        return new Reparam.MoeOptions(moeLayers.contains("mlp"), moeLayers.contains("attn"), mode, balanceCoef, fixed,
                latencyBatch);
    }
}
