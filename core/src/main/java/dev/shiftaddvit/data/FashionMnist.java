package dev.shiftaddvit.data;

import dev.shiftaddvit.io.InvalidInputException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;

/**
 * Fashion-MNIST: 28×28 grayscale images of 10 clothing classes, 60,000 for training and 10,000 for
 * testing, stored as IDX files {@code train-images-idx3-ubyte[.gz]},
 * {@code train-labels-idx1-ubyte[.gz]}, {@code t10k-images-idx3-ubyte[.gz]},
 * {@code t10k-labels-idx1-ubyte[.gz]}. The Debian package {@code dataset-fashion-mnist} installs
 * them in {@link #DEFAULT_DIR}. A sample of the first 1,000 test images ships as a resource
 * ({@link #bundledSample()}) so that demos run without the package.
 */
public final class FashionMnist {
    /** Where {@code apt-get install dataset-fashion-mnist} puts the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    /** Image side in pixels. */
    public static final int SIZE = 28;
    /** Number of classes. */
    public static final int NUM_CLASSES = 10;
    /** Class names by label. */
    public static final String[] CLASS_NAMES = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
    };
    /** Number of images in the bundled sample. */
    public static final int SAMPLE_SIZE = 1000;
    /**
     * The most items a file may declare: twice the 60,000 training images, so that a header claiming
     * gigabytes (a gzip bomb) is refused before anything is inflated.
     */
    public static final int MAX_ITEMS = 120_000;

    /**
     * The optional file beside a directory's IDX files that names its classes, one per line in label order
     * (another data set in this form, such as MNIST's digits, is not clothes).
     */
    public static final String CLASS_NAMES_FILE = "class-names.txt";
    /** The largest class-names file read: ten names fit in far less. */
    static final long MAX_CLASS_NAMES_BYTES = 64 * 1024;

    static final String SAMPLE_IMAGES = "fmnist-sample-images-idx3-ubyte.gz";
    static final String SAMPLE_LABELS = "fmnist-sample-labels-idx1-ubyte.gz";
    private static final String RESOURCE_DIR = "dev/shiftaddvit/data/";
    private static final String INSTALL_HINT =
            "install Fashion-MNIST with `apt-get install dataset-fashion-mnist` or pass --data DIR (a directory holding the IDX files)";

    private FashionMnist() {}

    /** The two splits and their file-name prefixes. */
    public enum Split {
        TRAIN("train"), TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        public String prefix() {
            return prefix;
        }

        /** The uncompressed image file name, e.g. {@code t10k-images-idx3-ubyte}. */
        public String imagesFile() {
            return prefix + "-images-idx3-ubyte";
        }

        /** The uncompressed label file name, e.g. {@code t10k-labels-idx1-ubyte}. */
        public String labelsFile() {
            return prefix + "-labels-idx1-ubyte";
        }
    }

    /** The name of a class, or "class N" outside 0..9. */
    public static String className(int label) {
        return label >= 0 && label < CLASS_NAMES.length ? CLASS_NAMES[label] : "class " + label;
    }

    /**
     * The class names a directory of IDX files records in {@value #CLASS_NAMES_FILE}, if it has one.
     *
     * @param dir the data directory
     * @return one name per label in label order, or empty when the directory has no such file
     * @throws InvalidInputException when the file is unreadable, too large, or does not hold
     *                               {@value #NUM_CLASSES} distinct non-blank names
     */
    public static Optional<List<String>> recordedClassNames(Path dir) {
        Path file = dir.resolve(CLASS_NAMES_FILE);
        if (!Files.exists(file)) return Optional.empty();
        String source = file.toString();
        List<String> lines;
        try {
            if (Files.size(file) > MAX_CLASS_NAMES_BYTES) {
                throw new InvalidInputException(source, "larger than " + MAX_CLASS_NAMES_BYTES + " bytes");
            }
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new InvalidInputException(source, "cannot read: " + e.getMessage(), e);
        }
        List<String> names = new ArrayList<>();
        for (String l : lines) if (!l.isBlank()) names.add(l.strip());
        if (names.size() != NUM_CLASSES) {
            throw new InvalidInputException(source, "names " + names.size() + " classes, the IDX data has "
                    + NUM_CLASSES + " (one name per line)");
        }
        if (new HashSet<>(names).size() != names.size()) {
            throw new InvalidInputException(source, "names a class twice: " + names);
        }
        return Optional.of(List.copyOf(names));
    }

    /**
     * Loads a split from a directory holding the IDX files (gzip or raw; the {@code .gz} name is
     * tried first).
     */
    public static Dataset load(Path dir, Split split) {
        return load(dir, split, Integer.MAX_VALUE);
    }

    /** Like {@link #load(Path, Split)}, reading only the first {@code limit} images and labels. */
    public static Dataset load(Path dir, Split split, int limit) {
        String source = dir.toString();
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(source, (Files.exists(dir) ? "not a directory" : "directory not found")
                    + "; " + INSTALL_HINT);
        }
        Path images = locate(dir, split.imagesFile());
        Path labels = locate(dir, split.labelsFile());
        return loadFiles(images, labels, limit);
    }

    private static Path locate(Path dir, String name) {
        Path gz = dir.resolve(name + ".gz");
        if (Files.isRegularFile(gz)) return gz;
        Path raw = dir.resolve(name);
        if (Files.isRegularFile(raw)) return raw;
        throw new InvalidInputException(dir.toString(), "missing " + name + ".gz (or " + name + "); " + INSTALL_HINT);
    }

    /** Loads an image file and a label file, requiring 28×28 images, labels below 10 and equal counts. */
    public static Dataset loadFiles(Path images, Path labels) {
        return loadFiles(images, labels, Integer.MAX_VALUE);
    }

    /**
     * Like {@link #loadFiles(Path, Path)}, reading only the first {@code limit} images and labels
     * (the headers' counts are still checked); a file declaring more than {@value #MAX_ITEMS} items
     * is refused.
     */
    public static Dataset loadFiles(Path images, Path labels, int limit) {
        Idx.IdxData img = Idx.read(images, 3, (long) MAX_ITEMS * SIZE * SIZE, limit);
        Idx.IdxData lab = Idx.read(labels, 1, MAX_ITEMS, limit);
        String source = images + " + " + labels;
        return assemble(img, lab, img.count() < img.declaredCount() ? source + "[0:" + img.count() + "]" : source);
    }

    /** The first {@value #SAMPLE_SIZE} images of the Fashion-MNIST test set, bundled as a resource. */
    public static Dataset bundledSample() {
        Idx.IdxData img = readResource(SAMPLE_IMAGES, 3);
        Idx.IdxData lab = readResource(SAMPLE_LABELS, 1);
        return assemble(img, lab, "bundled Fashion-MNIST sample");
    }

    private static Idx.IdxData readResource(String name, int rank) {
        String source = "classpath:" + RESOURCE_DIR + name;
        try (InputStream in = FashionMnist.class.getResourceAsStream(name)) {
            if (in == null) throw new InvalidInputException(source, "resource missing from the class path");
            return Idx.read(in, source, rank, Idx.MAX_DATA_BYTES);
        } catch (IOException e) {
            throw new InvalidInputException(source, "cannot read: " + e, e);
        }
    }

    private static Dataset assemble(Idx.IdxData img, Idx.IdxData lab, String source) {
        int[] d = img.dims();
        if (d[1] != SIZE || d[2] != SIZE) {
            throw new InvalidInputException(img.source(), "images are " + d[1] + "x" + d[2] + ", Fashion-MNIST needs "
                    + SIZE + "x" + SIZE);
        }
        Idx.checkLabels(lab.data(), NUM_CLASSES, lab.source());
        if (lab.declaredCount() != img.declaredCount()) {
            throw new InvalidInputException(img.source(), img.declaredCount() + " images but " + lab.declaredCount()
                    + " labels in " + lab.source());
        }
        return new Dataset(img.data(), lab.data(), img.count(), SIZE, SIZE, source);
    }

    /** {@link #DEFAULT_DIR} when it holds at least the test split, else empty. */
    public static Optional<Path> findInstalled() {
        return hasSplit(DEFAULT_DIR, Split.TEST) ? Optional.of(DEFAULT_DIR) : Optional.empty();
    }

    /** Whether a directory holds both files of a split (gzip or raw). */
    public static boolean hasSplit(Path dir, Split split) {
        return present(dir, split.imagesFile()) && present(dir, split.labelsFile());
    }

    private static boolean present(Path dir, String name) {
        return Files.isRegularFile(dir.resolve(name + ".gz")) || Files.isRegularFile(dir.resolve(name));
    }
}
