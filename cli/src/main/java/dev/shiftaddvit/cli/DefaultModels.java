package dev.shiftaddvit.cli;

import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.data.FashionMnist;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/** Where the launcher says the project lives, the embedded default models in it, and the data sets. */
final class DefaultModels {
    private DefaultModels() {
    }

    static Path home() {
        return Path.of(System.getProperty("shiftaddvit.home", "."));
    }

    static Path dense() {
        return home().resolve("models/fmnist-dense.safetensors");
    }

    static Path shiftAdd() {
        return home().resolve("models/fmnist-shiftadd.safetensors");
    }

    /** The Fashion-MNIST directory given by --data, else the installed one, if any. */
    static Optional<Path> dataDir(Path flag) {
        if (flag != null) {
            if (!Files.isDirectory(flag)) throw new IllegalArgumentException("--data " + flag + " is not a directory");
            return Optional.of(flag);
        }
        return FashionMnist.findInstalled();
    }

    /**
     * Whether --data (or its absence) means Fashion-MNIST: the installed directory or the bundled sample.
     * Any other directory of IDX files holds 28×28 images of 10 classes that need not be clothes.
     */
    static boolean isFashionMnist(Path flag) {
        return flag == null || flag.toAbsolutePath().normalize().equals(FashionMnist.DEFAULT_DIR);
    }

    /**
     * The class names of the IDX data in {@code dir} (found from --data {@code flag}): its
     * {@value FashionMnist#CLASS_NAMES_FILE}, else Fashion-MNIST's for Fashion-MNIST's own data, else "class N".
     */
    static List<String> idxClassNames(Path flag, Path dir) {
        return FashionMnist.recordedClassNames(dir).orElseGet(() -> isFashionMnist(flag)
                ? List.of(FashionMnist.CLASS_NAMES)
                : IntStream.range(0, FashionMnist.NUM_CLASSES).mapToObj(i -> "class " + i).toList());
    }

    /**
     * Images to calibrate on (deploy's routing): the first {@code n} of the training split when the data
     * directory has one, else the bundled sample (which is test images; the output says which).
     */
    static Dataset calibrationSet(Path flag, int n) {
        Optional<Path> dir = dataDir(flag);
        if (dir.isPresent() && FashionMnist.hasSplit(dir.get(), FashionMnist.Split.TRAIN)) {
            return FashionMnist.load(dir.get(), FashionMnist.Split.TRAIN, n);
        }
        return FashionMnist.bundledSample();
    }

    /** The full test set when available, else the bundled 1,000-image sample. */
    static Dataset testSet(Path flag, boolean sampleOnly) {
        if (!sampleOnly) {
            Optional<Path> dir = dataDir(flag);
            if (dir.isPresent()) return FashionMnist.load(dir.get(), FashionMnist.Split.TEST);
        }
        return FashionMnist.bundledSample();
    }
}
