package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.io.AtomicFiles;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.convert.ImportSource;
import dev.shiftaddvit.model.convert.Importer;
import dev.shiftaddvit.model.convert.Naming;
import dev.shiftaddvit.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "import", mixinStandardHelpOptions = true,
        description = "Convert a timm, Hugging Face, torchvision or official-PVT checkpoint (safetensors, sharded "
                + "safetensors or torch.save .pth/.pt/.bin) into a model file. Problems are listed together (exit 2).")
final class ImportCommand implements Callable<Integer> {
    @Option(names = "--from", required = true, description = "Weights file, or a Hugging Face model folder.")
    Path from;

    @Option(names = "--naming", description = "timm, hf, torchvision or pvt (default: guessed from the tensor names).")
    String naming;

    @Option(names = "--model", description = "Config name (e.g. deit_tiny, pvt_v2_b0) or FILE.json: our flat model "
            + "metadata as one JSON object, \"arch\" (vit, pvt_v2, pvt_v1), \"name\" and every field of that family "
            + "(e.g. img_size, patch_size, in_chans, num_classes, embed_dim, depth, num_heads, mlp_ratio, qkv_bias, "
            + "class_token, norm_eps, mean, std), numbers and lists as JSON or as strings (\"0.485,0.456,0.406\"); "
            + "see the README's \"Importing weights\". Default: the config.json (Hugging Face, timm or ours) "
            + "beside the weights, else the named config whose structure the weights match (heads, eps and preprocessing "
            + "come from it).")
    String model;

    @Option(names = "--out", required = true, description = "Where to write the model (safetensors).")
    Path out;

    @Override
    public Integer call() throws IOException {
        AtomicFiles.requireWritable(out);
        Path file = ImportSource.weightsFile(from);
        Map<String, Tensor> tensors = ImportSource.readTensors(file);
        Naming n = naming == null ? Naming.detect(tensors.keySet()) : Naming.parse(naming);
        ModelConfig cfg = ImportSource.config(model, file, tensors, n);
        Importer.Imported imported = Importer.load(cfg, tensors, n, file.toString());
        System.out.printf("%s: %d tensors, %s naming -> %s%n", file, tensors.size(), n, cfg.name());
        for (String line : imported.mapped()) System.out.println("  " + line);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(CheckpointKeys.IMPORT_SOURCE, file.toString());
        meta.put(CheckpointKeys.IMPORT_NAMING, n.toString());
        Checkpoints.save(out, imported.model(), null, meta);
        System.out.printf("wrote %s (%,d parameters)%n", out, imported.model().parameterCount());
        return 0;
    }
}
