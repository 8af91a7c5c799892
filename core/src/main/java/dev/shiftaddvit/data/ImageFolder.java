package dev.shiftaddvit.data;

import dev.shiftaddvit.io.InvalidInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * A class-per-folder image data set, {@code root/<class>/**.jpg|jpeg|png|bmp}, labelled as
 * torchvision's ImageFolder labels it: class i is the i-th folder name in sorted order (Unicode
 * code points, as Python's {@code sorted}), and files are found at any depth under their class
 * folder. Hidden entries (names starting with '.') are skipped, so a stray
 * {@code .ipynb_checkpoints} does not shift every label.
 *
 * <p>Images are decoded and transformed each time a batch asks for them, so memory does not grow
 * with the data set (thousands of 224 px images would take 600 KB each as floats, 150 KB as
 * bytes), and a random resized crop can be cut from the full-resolution image. Evaluation batches
 * get {@link #preprocess()}; training batches get the {@link #withTrainCrop training crop} if one
 * is set.
 */
public final class ImageFolder implements LabeledImages {
    private final Path root;
    private final Preprocess preprocess;
    private final RandomResizedCrop trainCrop;
    private final List<String> classes;
    private final List<Path> files;
    private final int[] labels;

    private ImageFolder(Path root, Preprocess preprocess, RandomResizedCrop trainCrop, List<String> classes,
                        List<Path> files, int[] labels) {
        this.root = root;
        this.preprocess = preprocess;
        this.trainCrop = trainCrop;
        this.classes = classes;
        this.files = files;
        this.labels = labels;
    }

    /**
     * Lists the classes and files under {@code root}; fails with an {@link InvalidInputException}
     * naming the folder when root is not a directory, has no class folders, or a class has no images.
     */
    public static ImageFolder open(Path root, Preprocess preprocess) {
        if (!Files.isDirectory(root)) throw new InvalidInputException(root.toString(), "not a directory");
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(root)) {
            classDirs = s.filter(Files::isDirectory).filter(p -> !hidden(p))
                    .sorted((a, b) -> compareCodePoints(a.getFileName().toString(), b.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new InvalidInputException(root.toString(), "cannot list: " + e, e);
        }
        if (classDirs.isEmpty()) {
            throw new InvalidInputException(root.toString(), "no class folders (expected root/<class>/<image>.jpg|png)");
        }
        List<String> classes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Path dir : classDirs) {
            List<Path> images;
            try (Stream<Path> s = Files.walk(dir)) {
                images = s.filter(ImageFolder::isImage).filter(p -> !hidden(dir.relativize(p))).sorted().toList();
            } catch (IOException e) {
                throw new InvalidInputException(dir.toString(), "cannot list: " + e, e);
            }
            if (images.isEmpty()) throw new InvalidInputException(dir.toString(), "class folder has no .jpg, .jpeg, .png or .bmp images");
            for (Path p : images) {
                files.add(p);
                labels.add(classes.size());
            }
            classes.add(dir.getFileName().toString());
        }
        return new ImageFolder(root, preprocess, null, List.copyOf(classes), List.copyOf(files),
                labels.stream().mapToInt(Integer::intValue).toArray());
    }

    /** The same images with {@code crop} as the training transform, instead of {@link #preprocess()}. */
    public ImageFolder withTrainCrop(RandomResizedCrop crop) {
        if (crop.size() != preprocess.cropSize()) {
            throw new IllegalArgumentException("training crop " + crop.size() + " px differs from the "
                    + preprocess.cropSize() + " px evaluation crop");
        }
        return new ImageFolder(root, preprocess, crop, classes, files, labels);
    }

    /**
     * {@code count} images evenly spaced over the sorted files, so that a cut-down run (a smoke
     * test) still sees every class rather than the first few.
     */
    public ImageFolder evenlySpaced(int count) {
        if (count < 1) throw new IllegalArgumentException("image count " + count + " must be at least 1");
        int n = Math.min(count, files.size());
        List<Path> f = new ArrayList<>(n);
        int[] l = new int[n];
        for (int k = 0; k < n; k++) {
            int i = (int) ((long) k * files.size() / n);
            f.add(files.get(i));
            l[k] = labels[i];
        }
        return new ImageFolder(root, preprocess, trainCrop, classes, List.copyOf(f), l);
    }

    /** Python's string order: by Unicode code point (String.compareTo orders UTF-16 units). */
    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }

    private static boolean isImage(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && (name.endsWith(".jpg") || name.endsWith(".jpeg") || name.endsWith(".png")
                || name.endsWith(".bmp"));
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) if (part.toString().startsWith(".")) return true;
        return false;
    }

    /** Class names, index = label. */
    public List<String> classes() {
        return classes;
    }

    public Path file(int i) {
        return files.get(i);
    }

    public Preprocess preprocess() {
        return preprocess;
    }

    /** The training transform, or null when training batches get {@link #preprocess()}. */
    public RandomResizedCrop trainCrop() {
        return trainCrop;
    }

    @Override
    public int n() {
        return files.size();
    }

    @Override
    public int h() {
        return preprocess.cropSize();
    }

    @Override
    public int w() {
        return preprocess.cropSize();
    }

    @Override
    public int channels() {
        return 3;
    }

    @Override
    public int label(int i) {
        return labels[i];
    }

    @Override
    public void copyPixels(int i, byte[] dst, int off) {
        byte[] px = preprocess.read(files.get(i)).pixels();
        System.arraycopy(px, 0, dst, off, px.length);
    }

    @Override
    public void copyTrainingPixels(int i, byte[] dst, int off, SplittableRandom rng) {
        if (trainCrop == null) {
            copyPixels(i, dst, off);
            return;
        }
        byte[] px = trainCrop.apply(ImageInput.readRgb(files.get(i)), rng).pixels();
        System.arraycopy(px, 0, dst, off, px.length);
    }

    @Override
    public String source() {
        return root.toString();
    }

    @Override
    public String toString() {
        return "ImageFolder[" + files.size() + " images, " + classes.size() + " classes, " + root + "]";
    }
}
