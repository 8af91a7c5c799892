package dev.shiftaddvit.data;

import dev.shiftaddvit.io.InvalidInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A class-per-folder image data set, {@code root/<class>/**.jpg|jpeg|png}, labelled as
 * torchvision's ImageFolder labels it: class i is the i-th folder name in sorted order, and files
 * are found at any depth under their class folder. Hidden entries (names starting with '.') are
 * skipped, so a stray {@code .ipynb_checkpoints} does not shift every label. Images are decoded
 * and preprocessed when a batch asks for them, so memory does not grow with the data set.
 */
public final class ImageFolder implements LabeledImages {
    private final Path root;
    private final Preprocess preprocess;
    private final List<String> classes;
    private final List<Path> files;
    private final int[] labels;

    private ImageFolder(Path root, Preprocess preprocess, List<String> classes, List<Path> files, int[] labels) {
        this.root = root;
        this.preprocess = preprocess;
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
                    .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString())).toList();
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
            if (images.isEmpty()) throw new InvalidInputException(dir.toString(), "class folder has no .jpg, .jpeg or .png images");
            for (Path p : images) {
                files.add(p);
                labels.add(classes.size());
            }
            classes.add(dir.getFileName().toString());
        }
        return new ImageFolder(root, preprocess, List.copyOf(classes), List.copyOf(files),
                labels.stream().mapToInt(Integer::intValue).toArray());
    }

    private static boolean isImage(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && (name.endsWith(".jpg") || name.endsWith(".jpeg") || name.endsWith(".png"));
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
    public String source() {
        return root.toString();
    }

    @Override
    public String toString() {
        return "ImageFolder[" + files.size() + " images, " + classes.size() + " classes, " + root + "]";
    }
}
