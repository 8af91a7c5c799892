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

    /**
     * A classifier over a model already in memory, its class names given rather than read from a file.
     *
     * @param model  the model to run, in inference mode; not thread-safe (a layer caches its last forward),
     *               so calls that run it must not overlap
     * @param labels the class names in index order (copied, so later changes to the array do not rename
     *               classes); an index past its end is called "class N"
     */
    public ImageClassifier(Model model, String[] labels) {
        this(model, labels.clone(), false);
    }

    private ImageClassifier(Model model, String[] labels, boolean recorded) {
        this.model = model;
        this.labels = labels;
        this.recorded = recorded;
    }

    /**
     * A checkpoint's model with the class names it records (a model trained on class folders), else
     * those its config implies ({@link #defaultLabels}, image files' rule).
     *
     * @param checkpoint a checkpoint or a deploy file (safetensors); a deploy file is loaded deployed
     * @return a classifier over the loaded model
     * @throws dev.shiftaddvit.io.InvalidInputException when the file is missing or malformed, does not fit the
     *                                                  model its metadata describes, or records bad class names
     */
    public static ImageClassifier load(Path checkpoint) {
        Checkpoints.Loaded l = Checkpoints.load(checkpoint);
        List<String> names = l.classNames();
        Model m = l.model();
        if (names != null) return new ImageClassifier(m, names.toArray(String[]::new), true);
        return new ImageClassifier(m, defaultLabels(m.config(), true));
    }

    /**
     * Whether the class names come from the model file rather than from {@link #defaultLabels}.
     *
     * @return true only for a classifier {@link #load}ed from a file that records its class names
     */
    public boolean recordsNames() {
        return recorded;
    }

    /**
     * The model this classifier runs.
     *
     * @return the model itself, not a copy
     */
    public Model model() {
        return model;
    }

    /**
     * The name of a class.
     *
     * @param index the class index, at least 0
     * @return its name, or "class N" for an index past the names this classifier has
     */
    public String label(int index) {
        return index < labels.length ? labels[index] : "class " + index;
    }

    /**
     * Classifies an image file (PNG/JPEG) read as {@link ImagePreprocessing#DEFAULT} does, inverted if asked.
     *
     * @param image  the PNG or JPEG file
     * @param topK   how many classes to return, at least 0; more than the model has returns them all
     * @param invert invert the gray values (dark object on a light background; grayscale models only)
     * @return the {@code topK} most probable classes, most probable first
     */
    public List<Prediction> predict(Path image, int topK, boolean invert) {
        ImagePreprocessing d = ImagePreprocessing.DEFAULT;
        return predict(image, topK, new ImagePreprocessing(d.cropPct(), d.interpolation(), invert));
    }

    /**
     * Classifies an image file (PNG/JPEG) read as {@link ImagePreprocessing#DEFAULT} does.
     *
     * @param image the PNG or JPEG file
     * @param topK  how many classes to return, at least 0; more than the model has returns them all
     * @return the {@code topK} most probable classes, most probable first
     */
    public List<Prediction> predict(Path image, int topK) {
        return predict(image, topK, ImagePreprocessing.DEFAULT);
    }

    /**
     * Classifies an image file (PNG/JPEG) read as {@code how} says.
     *
     * @param image the PNG or JPEG file
     * @param topK  how many classes to return, at least 0; more than the model has returns them all
     * @param how   crop, interpolation and inversion of the file's pixels
     * @return the {@code topK} most probable classes, most probable first
     */
    public List<Prediction> predict(Path image, int topK, ImagePreprocessing how) {
        return predict(input(image, how), topK);
    }

    /**
     * The HWC pixels in [0, 1] the model sees for an image file, before its mean/std: RGB models through
     * the crop of {@code how}, grayscale models the whole image resized to their input.
     *
     * @param image the PNG or JPEG file
     * @param how   crop and interpolation (RGB models) or inversion (grayscale models)
     * @return imgSize·imgSize·inChans values of the model's config, HWC, as {@link #predict(float[], int)} takes
     * @throws UnsupportedOperationException when the model expects neither 1 nor 3 channels
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
     *
     * @param encoded the bytes of a PNG or JPEG file
     * @param source  what the bytes are, for messages (e.g. "request body")
     * @param how     crop and interpolation (RGB models) or inversion (grayscale models)
     * @return imgSize·imgSize·inChans values of the model's config, HWC, as {@link #predict(float[], int)} takes
     * @throws UnsupportedOperationException when the model expects neither 1 nor 3 channels
     */
    public float[] input(byte[] encoded, String source, ImagePreprocessing how) {
        ModelConfig c = model.config();
        if (c.inChans() == 3) return how.rgb(c.imgSize()).apply(ImageInput.decodeRgb(encoded, source)).toUnit();
        if (c.inChans() != 1) throw new UnsupportedOperationException("images are read as gray or RGB; model "
                + c.name() + " expects " + c.inChans() + " channels");
        return ImageInput.decodeGray(encoded, source, c.imgSize(), how.invert());
    }

    /**
     * Classifies one image given as HWC pixels in [0, 1].
     *
     * @param pixels01 imgSize·imgSize·inChans values of the model's config, before its mean/std (not modified)
     * @param topK     how many classes to return, at least 0; more than the model has returns them all
     * @return the {@code topK} most probable classes, most probable first
     * @throws IllegalArgumentException when the image has the wrong number of values
     */
    public List<Prediction> predict(float[] pixels01, int topK) {
        return predictBatch(List.of(pixels01), topK).getFirst();
    }

    /**
     * Classifies images in one inference forward: each is normalised by the config's mean/std, and each
     * row of logits ranked by its softmax probability.
     *
     * @param images the images, each imgSize·imgSize·inChans HWC values in [0, 1] (not modified)
     * @param topK   how many classes to return per image, at least 0; more than the model has returns them all
     * @return per image, in the order given, its {@code topK} most probable classes, most probable first
     *         (unmodifiable lists of their own, not views of a longer ranking)
     * @throws IllegalArgumentException naming the first image with the wrong number of values, or for a
     *                                  negative {@code topK}
     */
    public List<List<Prediction>> predictBatch(List<float[]> images, int topK) {
        if (topK < 0) throw new IllegalArgumentException("topK must be at least 0, got " + topK);
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
            out.add(List.copyOf(row.subList(0, Math.min(topK, k))));
        }
        return out;
    }

    /**
     * The class names a config implies when the model records none: ImageNet's for 1000 classes;
     * Fashion-MNIST's for a 10-class grayscale model when its inputs are Fashion-MNIST's (image files
     * count: this project's 10-class grayscale models are Fashion-MNIST models); else "class N".
     *
     * @param c                  the model's config
     * @param fashionMnistInputs whether the model is fed Fashion-MNIST images (or image files), so that a
     *                           10-class grayscale model is taken for a Fashion-MNIST one
     * @return one name per class, in index order (a fresh array)
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
