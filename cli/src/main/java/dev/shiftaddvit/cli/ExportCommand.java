package dev.shiftaddvit.cli;

import dev.shiftaddvit.io.AtomicFiles;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.onnx.OnnxExporter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Export a dense model to ONNX (opset 17, standard operators only) for ONNX Runtime and other engines.",
                "The graph takes NCHW float images [N, C, H, W] with a dynamic batch N, normalised with the model's "
                        + "mean/std as for our engine (which is NHWC inside), and returns logits [N, classes]. "
                        + "ShiftAddViT-converted models are refused: their layers have no standard ONNX operators."})
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--format", defaultValue = "onnx", description = "Output format; only onnx for now.")
    String format;

    @Option(names = "--model", description = "Model file or config name (random weights); default: the embedded dense model.")
    String model;

    @Option(names = "--out", required = true, description = "Where to write the file (written atomically).")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (!format.equals("onnx")) throw new IllegalArgumentException("--format must be onnx, got " + format);
        AtomicFiles.requireWritable(out);
        Model m = ModelRef.resolve(model);
        OnnxExporter.write(m, out);
        ModelConfig c = m.config();
        System.err.printf("wrote %s (%s, ONNX opset %d): input %s [N, %d, %d, %d] NCHW float, normalised with mean %s "
                        + "std %s; output %s [N, %d]%n", out, c.name(), OnnxExporter.OPSET, OnnxExporter.INPUT,
                c.inChans(), c.imgSize(), c.imgSize(), Arrays.toString(c.mean()), Arrays.toString(c.std()),
                OnnxExporter.OUTPUT, c.numClasses());
        return 0;
    }
}
