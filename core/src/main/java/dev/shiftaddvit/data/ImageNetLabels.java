package dev.shiftaddvit.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The 1000 ImageNet-1k class names in class-index order (the order of the sorted WordNet ids that
 * timm, torchvision and the DeiT/PVT checkpoints use). The resource is {@code imagenet_classes.txt}
 * of github.com/pytorch/hub (commit c7895df70c7767403e36f82786d6b611b7984557), one name per line.
 */
public final class ImageNetLabels {
    public static final int CLASSES = 1000;

    private ImageNetLabels() {
    }

    private static final class Holder {
        static final List<String> NAMES = load();
    }

    /** The class names, index i naming class i. */
    public static List<String> names() {
        return Holder.NAMES;
    }

    private static List<String> load() {
        try (InputStream in = ImageNetLabels.class.getResourceAsStream("imagenet_classes.txt")) {
            if (in == null) throw new IllegalStateException("imagenet_classes.txt is missing from the jar");
            List<String> names = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            if (names.size() != CLASSES) {
                throw new IllegalStateException("imagenet_classes.txt has " + names.size() + " names, not " + CLASSES);
            }
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
