package dev.shiftaddvit;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.data.ImageInput;
import dev.shiftaddvit.data.ImageNetLabels;
import dev.shiftaddvit.data.Normalize;
import dev.shiftaddvit.kernel.Softmax;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.tensor.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The few-lines API: load a checkpoint, classify images.
 * <pre>{@code
 * ImageClassifier clf = ImageClassifier.load(Path.of("models/fmnist-dense.safetensors"));
 * List<Prediction> top3 = clf.predict(Path.of("boot.png"), 3);
 * }</pre>
 */
public final class ImageClassifier {
    private final Model model;
    private final String[] labels;
    private final boolean recorded;

    public ImageClassifier(Model model, String[] labels) {
        this(model, labels, false);
    }

    private ImageClassifier(Model model, String[] labels, boolean recorded) {
        this.model = model;
        this.labels = labels;
        this.recorded = recorded;
    }

    /**
     * A checkpoint's model with the class names it records (a model trained on class folders), else
     * those its config implies ({@link #defaultLabels}, image files' rule).
     */
    public static ImageClassifier load(Path checkpoint) {
        Checkpoints.Loaded l = Checkpoints.load(checkpoint);
        List<String> names = l.classNames();
        Model m = l.model();
        if (names != null) return new ImageClassifier(m, names.toArray(String[]::new), true);
        return new ImageClassifier(m, defaultLabels(m.config(), true));
    }

    /** Whether the class names come from the model file rather than from {@link #defaultLabels}. */
    public boolean recordsNames() {
        return recorded;
    }

    public Model model() {
        return model;
    }

    public String label(int index) {
        return index < labels.length ? labels[index] : "class " + index;
    }

    /** Classifies an image file (PNG/JPEG) read as {@link ImagePreprocessing#DEFAULT} does, inverted if asked. */
    public List<Prediction> predict(Path image, int topK, boolean invert) {
        ImagePreprocessing d = ImagePreprocessing.DEFAULT;
        return predict(image, topK, new ImagePreprocessing(d.cropPct(), d.interpolation(), invert));
    }

    public List<Prediction> predict(Path image, int topK) {
        return predict(image, topK, ImagePreprocessing.DEFAULT);
    }

    /** Classifies an image file (PNG/JPEG) read as {@code how} says. */
    public List<Prediction> predict(Path image, int topK, ImagePreprocessing how) {
        return predict(input(image, how), topK);
    }

    /**
     * The HWC pixels in [0, 1] the model sees for an image file, before its mean/std: RGB models through
     * the crop of {@code how}, grayscale models the whole image resized to their input.
     */
    public float[] input(Path image, ImagePreprocessing how) {
        ModelConfig c = model.config();
        if (c.inChans() == 3) return how.rgb(c.imgSize()).read(image).toUnit();
        if (c.inChans() != 1) throw new UnsupportedOperationException("image files are read as gray or RGB; model "
                + c.name() + " expects " + c.inChans() + " channels");
        return ImageInput.readGray(image, c.imgSize(), how.invert());
    }

    /**
     * {@link #input(Path, ImagePreprocessing)} for an encoded image (PNG/JPEG) held in memory, such as a request
     * body; {@code source} names it in the {@link dev.shiftaddvit.io.InvalidInputException} a bad image gets.
     */
    public float[] input(byte[] encoded, String source, ImagePreprocessing how) {
        ModelConfig c = model.config();
        if (c.inChans() == 3) return how.rgb(c.imgSize()).apply(ImageInput.decodeRgb(encoded, source)).toUnit();
        if (c.inChans() != 1) throw new UnsupportedOperationException("images are read as gray or RGB; model "
                + c.name() + " expects " + c.inChans() + " channels");
        return ImageInput.decodeGray(encoded, source, c.imgSize(), how.invert());
    }

    /** Classifies one image given as HWC pixels in [0, 1]. */
    public List<Prediction> predict(float[] pixels01, int topK) {
        return predictBatch(List.of(pixels01), topK).getFirst();
    }

    public List<List<Prediction>> predictBatch(List<float[]> images, int topK) {
        ModelConfig c = model.config();
        int px = c.imgSize() * c.imgSize() * c.inChans();
        float[] x = new float[images.size() * px];
        for (int i = 0; i < images.size(); i++) {
            float[] img = images.get(i);
            if (img.length != px) {
                throw new IllegalArgumentException("image " + i + " has " + img.length + " values; model " + c.name()
                        + " expects " + c.imgSize() + "x" + c.imgSize() + "x" + c.inChans() + " = " + px);
            }
            Normalize.values(img, 0, x, i * px, px, c.mean(), c.std());
        }
        Tensor logits = model.forward(Tensor.of(x, images.size(), c.imgSize(), c.imgSize(), c.inChans()), false);
        int k = c.numClasses();
        float[] raw = logits.data();
        float[] probs = raw.clone();
        Softmax.forwardRows(probs, 0, probs, 0, images.size(), k);
        List<List<Prediction>> out = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            List<Prediction> row = new ArrayList<>();
            for (int j = 0; j < k; j++) row.add(new Prediction(j, label(j), probs[i * k + j], raw[i * k + j]));
            row.sort(Comparator.comparingDouble(Prediction::probability).reversed());
            out.add(row.subList(0, Math.min(topK, k)));
        }
        return out;
    }

    /**
     * The class names a config implies when the model records none: ImageNet's for 1000 classes;
     * Fashion-MNIST's for a 10-class grayscale model when its inputs are Fashion-MNIST's (image files
     * count: this project's 10-class grayscale models are Fashion-MNIST models); else "class N".
     */
    public static String[] defaultLabels(ModelConfig c, boolean fashionMnistInputs) {
        if (fashionMnistInputs && c.numClasses() == FashionMnist.CLASS_NAMES.length && c.inChans() == 1) {
            return Arrays.copyOf(FashionMnist.CLASS_NAMES, c.numClasses());
        }
        if (c.numClasses() == ImageNetLabels.CLASSES) return ImageNetLabels.names().toArray(String[]::new);
        String[] l = new String[c.numClasses()];
        for (int i = 0; i < l.length; i++) l[i] = "class " + i;
        return l;
    }
}
