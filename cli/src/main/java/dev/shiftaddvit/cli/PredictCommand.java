package dev.shiftaddvit.cli;

import dev.shiftaddvit.ImageClassifier;
import dev.shiftaddvit.ImagePreprocessing;
import dev.shiftaddvit.Prediction;
import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.model.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Top-k classes with probabilities for PNG/JPEG files or entries of the Fashion-MNIST test set.",
                "RGB models read files through the DeiT evaluation transform (--crop-pct, --interpolation); "
                        + "1000-class models print ImageNet class names, 10-class grayscale ones Fashion-MNIST's "
                        + "(not for --index on other --data: there the directory's class-names.txt, else \"class N\").",
                "--json: per input the top k (class, index, probability, logit) and \"logits\", the whole "
                        + "logit vector by class index (softmax of it gives the probabilities)."})
final class PredictCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--model", description = "Model file (default: the embedded models/fmnist-dense.safetensors).")
    Path model;

    @Option(names = "--top-k", defaultValue = "5") int topK;

    @Mixin
    ImageOptions imageOptions;

    @Option(names = "--index", split = ",",
            description = "Test-set entries to classify (the bundled sample when the data set is not installed).")
    List<Integer> indices = new ArrayList<>();

    @Option(names = "--invert", description = "Invert image files (dark object on a light background; grayscale models).")
    boolean invert;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Parameters(arity = "0..*", paramLabel = "IMAGE", description = "PNG or JPEG files.")
    List<Path> images = new ArrayList<>();

    @Override
    public Integer call() {
        common.apply();
        if (topK < 1) throw new IllegalArgumentException("--top-k must be at least 1, got " + topK);
        if (images.isEmpty() && indices.isEmpty()) {
            throw new IllegalArgumentException("give image files or --index N[,N...]");
        }
        ImageClassifier loaded = ImageClassifier.load(model != null ? model : DefaultModels.dense());
        ModelConfig c = loaded.model().config();
        // Fashion-MNIST's names only for its data: other IDX data gets the model's names, else the data's.
        boolean fashion = indices.isEmpty() || DefaultModels.isFashionMnist(common.data);
        ImageClassifier clf = fashion || loaded.recordsNames() ? loaded
                : new ImageClassifier(loaded.model(), dataNames(c, common.data));
        ImagePreprocessing how = imageOptions.forClassifier(invert);
        List<String> names = new ArrayList<>();
        List<float[]> pixels = new ArrayList<>();
        List<String> truth = new ArrayList<>();
        for (Path p : images) {
            names.add(p.toString());
            pixels.add(clf.input(p, how));
            truth.add(null);
        }
        if (!indices.isEmpty()) {
            Dataset d = DefaultModels.testSet(common.data, false);
            for (int i : indices) {
                if (i < 0 || i >= d.n()) {
                    throw new IllegalArgumentException("--index " + i + " is outside " + d.source() + " (0.." + (d.n() - 1) + ")");
                }
                names.add("test image #" + i);
                pixels.add(d.image(i));
                truth.add(fashion ? FashionMnist.className(d.label(i)) : clf.label(d.label(i)));
            }
        }
        // Every class is ranked so that --json can give the whole logit vector; the top k are printed.
        List<List<Prediction>> out = clf.predictBatch(pixels, c.numClasses());
        List<Object> rows = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            List<Prediction> top = out.get(i).subList(0, Math.min(topK, c.numClasses()));
            if (json) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("input", names.get(i));
                if (truth.get(i) != null) r.put("label", truth.get(i));
                List<Object> entries = new ArrayList<>();
                for (Prediction p : top) {
                    Map<String, Object> t = new LinkedHashMap<>();
                    t.put("class", p.label());
                    t.put("index", p.classIndex());
                    t.put("probability", p.probability());
                    t.put("logit", p.logit());
                    entries.add(t);
                }
                r.put("top", entries);
                float[] logits = new float[c.numClasses()];
                for (Prediction p : out.get(i)) logits[p.classIndex()] = p.logit();
                r.put("logits", logits);
                rows.add(r);
            } else {
                System.out.println(names.get(i) + (truth.get(i) == null ? "" : " (label: " + truth.get(i) + ")"));
                for (Prediction p : top) System.out.printf("  %-20s %6.2f%%%n", p.label(), 100 * p.probability());
            }
        }
        if (json) System.out.println(Json.write(Map.of("predictions", rows)));
        return 0;
    }

    /** For a model that records no names, on IDX data that is not Fashion-MNIST: the data's, if it has its class count. */
    private static String[] dataNames(ModelConfig c, Path data) {
        List<String> names = DefaultModels.idxClassNames(data, data);
        return names.size() == c.numClasses() ? names.toArray(String[]::new) : ImageClassifier.defaultLabels(c, false);
    }
}
